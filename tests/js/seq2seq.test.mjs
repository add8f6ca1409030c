/* The encoder-decoder's JS: Seq2SeqSource builds its trace from the API's bodies (recorded by
   tests/js/seq2seq/record.py), the panels alignment, context, seq2seq-probs and accuracy-length draw
   those numbers at every step in both languages, and the seq2seq answers agree with the API's own. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { seq2seq_accuracy, seq2seq_alignment_hits } from "../../static/js/core/answers.js";
import * as accuracy from "../../static/js/panels/accuracy-length.js";
import * as alignment from "../../static/js/panels/alignment.js";
import * as context from "../../static/js/panels/context.js";
import * as probs from "../../static/js/panels/seq2seq-probs.js";
import { Seq2SeqSource } from "../../static/js/sources/seq2seq.js";
import { ROOT, strings, theme } from "./helpers.mjs";

const ko = strings("ko"), en = strings("en");
const recorded = (name) => JSON.parse(readFileSync(join(ROOT, "tests", "js", "seq2seq", `${name}.json`), "utf8"));

/** A Seq2SeqSource fed the recorded bodies by a fake fetch: the trace the page would build. */
async function traceOf(name) {
  const rec = recorded(name);
  const asked = [];
  const fetch = async (url, init) => {
    asked.push([url, init?.method || "GET", init?.body]);
    const body = url.startsWith("/api/seq2seq/accuracy") ? rec.accuracy : rec.body;
    return { ok: true, status: 200, json: async () => body };
  };
  const source = new Seq2SeqSource(rec.knobs, { lang: "ko", fetch });
  const done = new Promise((resolve) => source.subscribe((trace) => { if (trace.done) resolve(trace); }));
  source.start();
  return { trace: await done, rec, asked };
}

test("the source posts the knobs, then asks for its task's accuracy", async () => {
  const { trace, rec, asked } = await traceOf("reverse-attention");
  assert.deepEqual(asked[0], ["/api/seq2seq/trace?lang=ko", "POST", JSON.stringify(rec.knobs)]);
  assert.equal(asked[1][0], "/api/seq2seq/accuracy?task=reverse&lang=ko");
  assert.equal(trace.T, rec.body.steps.length);
  assert.equal(trace.meta.target, "fedcba");
  assert.equal(trace.accuracy, rec.accuracy);
});

test("a lab run's trace asks for the accuracy with its own line, for the weights it traced; the panel dashes it", async () => {
  const rec = recorded("reverse-attention");
  const frozen = "run:abc123@40";
  const body = { ...rec.body, checkpoint: frozen };
  const run = { ...rec.accuracy.models[0], checkpoint: frozen, run: true,
    sequence: rec.accuracy.models[0].sequence.map((v, i) => (i === rec.accuracy.lengths.length - 1 ? null : v)) };
  const accuracyBody = { ...rec.accuracy, models: [...rec.accuracy.models, run] };
  const asked = [];
  const fetch = async (url) => {
    asked.push(url);
    return { ok: true, status: 200, json: async () => (url.startsWith("/api/seq2seq/accuracy") ? accuracyBody : body) };
  };
  const source = new Seq2SeqSource({ ...rec.knobs, checkpoint: "run:abc123" }, { lang: "ko", fetch });
  const trace = await new Promise((resolve) => { source.subscribe((t) => { if (t.done) resolve(t); }); source.start(); });
  assert.equal(asked[1], `/api/seq2seq/accuracy?task=reverse&checkpoint=${encodeURIComponent(frozen)}&lang=ko`);
  const fig = accuracy.figure(trace, { step: 1 }, ko, theme);
  const line = fig.data.at(-1);
  assert.equal(line.line.dash, "dash");
  assert.equal(line.name, `학습 중인 실행(40단계), ${ko.s2s_with}`);
  assert.ok(fig.data.slice(0, -1).every((d) => !d.line.dash));
  assert.ok(!accuracy.describe(trace, { step: 1 }, ko).includes("undefined"));
});

test("the alignment fills one row per output step with the API's weights, the task's alignment outlined", async () => {
  const { trace } = await traceOf("reverse-attention");
  for (let step = 0; step <= trace.T; step += 1) {
    const fig = alignment.figure(trace, { step }, en, theme, { width: 900, height: 400 });
    const rows = fig.data[0].z;
    rows.forEach((row, i) => {
      if (i < step) assert.deepEqual(row, trace.steps[i].weights);
      else assert.ok(row.every((v) => v === null));
    });
    const boxes = fig.data[1];
    assert.deepEqual(boxes.x, trace.steps.slice(0, step).filter((s) => s.aligned !== null).map((s) => s.aligned));
  }
  assert.match(alignment.describe(trace, { step: 1 }, en), /output 0 \('f'\) looks most at source position 5 \('f'\)/);
});

test("every encoder-decoder panel draws every step in both languages with no undefined text", async () => {
  for (const name of ["reverse-attention", "reverse-plain"]) {
    const { trace } = await traceOf(name);
    for (const p of [alignment, context, probs, accuracy]) {
      assert.deepEqual(p.archs, ["seq2seq"]);
      for (let step = 0; step <= trace.T; step += 1) {
        for (const s of [ko, en]) {
          for (const box of [{ width: 900, height: 400 }, { width: 360, height: 400 }]) {
            const fig = p.figure(trace, { step }, s, theme, box);
            assert.ok(Array.isArray(fig.data) && fig.layout, `${p.id} ${name}`);
            assert.ok(!JSON.stringify(fig).includes("undefined"), `${p.id} ${name} ${step}`);
          }
          const line = p.describe(trace, { step }, s);
          assert.ok(!line.includes("undefined") && !line.includes("{"), `${p.id} ${name}: "${line}"`);
        }
      }
    }
  }
});

test("without attention the context is the same vector at every step and the alignment says why", async () => {
  const { trace } = await traceOf("reverse-plain");
  const fig = context.figure(trace, { step: 3 }, en, theme);
  assert.deepEqual(fig.data[0].y, trace.steps[2].context);
  assert.equal(new Set(fig.data[1].y).size, 1);
  assert.equal(alignment.figure(trace, { step: 3 }, en, theme, {}).data.length, 0);
  assert.equal(alignment.describe(trace, { step: 3 }, en), en.s2s_no_attention);
});

test("the distribution is the step's probs; the accuracy lines are the measured shares", async () => {
  const { trace, rec } = await traceOf("reverse-attention");
  const fig = probs.figure(trace, { step: 2 }, en, theme, { width: 900 });
  assert.deepEqual(fig.data[0].y, trace.steps[1].probs);
  const acc = accuracy.figure(trace, { step: 2 }, en, theme);
  assert.deepEqual(acc.data.map((d) => d.y), rec.accuracy.models.map((m) => m.sequence));
  assert.deepEqual(acc.data[0].x, rec.accuracy.lengths);
});

test("the seq2seq answers agree with the API: alignment hits and accuracy at a length", async () => {
  const { trace, rec } = await traceOf("reverse-attention");
  assert.equal(seq2seq_alignment_hits(trace).value, rec.body.summary.alignment_hits);
  const plain = rec.accuracy.models.find((m) => m.checkpoint === "seq2seq-reverse-plain");
  const k = rec.accuracy.lengths.indexOf(16);
  assert.equal(seq2seq_accuracy(trace, { checkpoint: "seq2seq-reverse-plain", length: 16 }).value, plain.sequence[k]);
  assert.equal(seq2seq_accuracy(trace, { length: 6, measure: "character" }).value,
               rec.accuracy.models[0].character[rec.accuracy.lengths.indexOf(6)]);
  assert.equal(seq2seq_accuracy(trace, { length: 7 }).value, null);
  const { trace: flat } = await traceOf("reverse-plain");
  assert.equal(seq2seq_alignment_hits(flat).value, null);
  assert.throws(() => seq2seq_accuracy(trace, { checkpoint: "seq2seq-swap-attention" }), /not a reverse checkpoint/);
});
