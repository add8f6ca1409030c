import assert from "node:assert/strict";
import { test } from "node:test";

import { problemLines } from "../../static/js/lab/client.js";
import { applies, fieldSpecs, parseField, requestBody, runColours, runLabel, useSchema } from "../../static/js/lab/knobs.js";
import { baselineLine, gradFigure, lossFigure, snapshotAt, snapshotFigure, snapshotSteps, stepRange } from "../../static/js/lab/plots.js";
import { applyRunEvent, isLive, logPoints, newRun } from "../../static/js/lab/run-state.js";
import { followRun } from "../../static/js/lab/stream.js";
import { strings, theme } from "./helpers.mjs";

const ko = strings("ko"), en = strings("en");

// the shapes pydantic writes for LabKnobs' fields (app/lab/schemas.py): a Literal, an int with limits,
// a nullable int, a nullable Literal, a float with an exclusive minimum
const SCHEMA = {
  arch: { default: "lstm", enum: ["rnn", "irnn", "lstm", "gru"], type: "string" },
  hidden_size: { default: 64, maximum: 256, minimum: 1, type: "integer" },
  truncation: { anyOf: [{ maximum: 256, minimum: 1, type: "integer" }, { type: "null" }], default: null },
  clip_mode: { anyOf: [{ enum: ["norm", "value"], type: "string" }, { type: "null" }], default: "norm" },
  clip_threshold: { anyOf: [{ exclusiveMinimum: 0, maximum: 1e6, type: "number" }, { type: "null" }], default: 1.0 },
};
// where knobs apply, as LabKnobs' fields declare it (json_schema_extra "archs")
useSchema({ activation: { archs: ["rnn"] }, forget_bias: { archs: ["lstm"] }, heads: { archs: ["transformer"] },
            truncation: { archs: ["rnn", "irnn", "lstm", "gru"] } });

const BASE = { task: "adding", seq_len: 50, activation: "tanh", hidden_size: 64, layers: 1, optimizer: "adam", lr: 0.01,
               batch: 64, truncation: null, clip_mode: "norm", clip_threshold: 1, spectral_norm: null, forget_bias: null,
               seed: 0, steps: 1500 };
const RACE = [{ ...BASE, arch: "rnn" }, { ...BASE, arch: "irnn", lr: 0.001 }, { ...BASE, arch: "lstm" }, { ...BASE, arch: "gru" }];

test("the form's fields come from the schema: kind, choices, null, limits and defaults", () => {
  const specs = Object.fromEntries(fieldSpecs(SCHEMA).map((s) => [s.name, s]));
  assert.deepEqual(Object.keys(specs), Object.keys(SCHEMA));
  assert.equal(specs.arch.kind, "choice");
  assert.deepEqual(specs.arch.choices, ["rnn", "irnn", "lstm", "gru"]);
  assert.equal(specs.hidden_size.kind, "int");
  assert.deepEqual([specs.hidden_size.min, specs.hidden_size.max, specs.hidden_size.nullable], [1, 256, false]);
  assert.equal(specs.truncation.nullable, true);
  assert.equal(specs.truncation.kind, "int");
  assert.deepEqual([specs.clip_mode.kind, specs.clip_mode.nullable, specs.clip_mode.default], ["choice", true, "norm"]);
  assert.deepEqual([specs.clip_threshold.kind, specs.clip_threshold.exclusiveMin], ["float", 0]);
});

test("a boolean knob is a choice of true and false", () => {
  const [spec] = fieldSpecs({ attention: { default: true, type: "boolean", archs: ["seq2seq"] } });
  assert.deepEqual([spec.kind, spec.choices, spec.default], ["choice", [true, false], true]);
  assert.equal(parseField(spec, "false"), false);
  assert.equal(parseField(spec, "true"), true);
  const pair = [{ ...BASE, task: "reverse", arch: "seq2seq", attention: true }, { ...BASE, task: "reverse", arch: "seq2seq", attention: false }];
  useSchema({ attention: { archs: ["seq2seq"] } });
  assert.match(runLabel(pair[1], pair, en), /Attention off$/);
  assert.match(runLabel(pair[0], pair, ko), /어텐션 켬$/);
  useSchema({ activation: { archs: ["rnn"] }, forget_bias: { archs: ["lstm"] }, heads: { archs: ["transformer"] },
              truncation: { archs: ["rnn", "irnn", "lstm", "gru"] } });
});

test("a field's text becomes a number, null where empty and nullable, else the text for the server to refuse", () => {
  const specs = Object.fromEntries(fieldSpecs(SCHEMA).map((s) => [s.name, s]));
  assert.equal(parseField(specs.hidden_size, " 32 "), 32);
  assert.equal(parseField(specs.hidden_size, "3.5"), "3.5");
  assert.equal(parseField(specs.hidden_size, ""), "");
  assert.equal(parseField(specs.truncation, ""), null);
  assert.equal(parseField(specs.clip_threshold, "1e-3"), 0.001);
  assert.equal(parseField(specs.clip_threshold, "abc"), "abc");
  assert.equal(parseField(specs.clip_mode, ""), null);
  assert.equal(parseField(specs.arch, "gru"), "gru");
});

test("knobs that do not apply: activation (Elman only), forget bias (LSTM only), threshold (clipping on)", () => {
  assert.equal(applies("activation", { arch: "rnn" }), true);
  assert.equal(applies("activation", { arch: "irnn" }), false);
  assert.equal(applies("forget_bias", { arch: "gru" }), false);
  assert.equal(applies("clip_threshold", { clip_mode: null }), false);
  const body = requestBody({ ...BASE, arch: "gru", forget_bias: 2, clip_mode: null, clip_threshold: 5 });
  assert.equal(body.forget_bias, null);
  assert.equal(body.clip_threshold, null);
  assert.equal(requestBody({ ...BASE, arch: "lstm", forget_bias: 2 }).forget_bias, 2);
});

test("a run's label is its model and what differs from the other runs", () => {
  assert.deepEqual(RACE.map((k) => runLabel(k, RACE, en)), ["RNN (tanh) · lr 0.01", "IRNN · lr 0.001", "LSTM · lr 0.01", "GRU · lr 0.01"]);
  const clip = [{ ...BASE, arch: "rnn", activation: "relu", clip_mode: null, clip_threshold: null }, { ...BASE, arch: "rnn", activation: "relu" }];
  assert.deepEqual(clip.map((k) => runLabel(k, clip, ko)), ["RNN (relu) · 클리핑 없음", "RNN (relu) · 클리핑 노름 기준 1"]);
  const cut = [null, 20, 5].map((k) => ({ ...BASE, task: "copy", arch: "lstm", truncation: k }));
  assert.deepEqual(cut.map((k) => runLabel(k, cut, en)), ["LSTM · full BPTT", "LSTM · k = 20", "LSTM · k = 5"]);
  // the activation of a gated cell is not a difference
  assert.equal(runLabel({ ...BASE, arch: "lstm", activation: "relu" }, [{ ...BASE, arch: "lstm" }, { ...BASE, arch: "lstm", activation: "relu" }], en), "LSTM");
});

test("run colours: each architecture's own, the free ones for repeats, never two runs alike", () => {
  assert.deepEqual(runColours(RACE), ["arch-rnn", "arch-transformer", "arch-lstm", "arch-gru"]);
  const four = runColours(RACE.map(() => ({ arch: "lstm" })));
  assert.equal(four[0], "arch-lstm");
  assert.equal(new Set(four).size, 4);
  for (const name of four) assert.ok(name in theme.vars, `${name} is a concepts.css variable`);
  assert.equal(new Set(four.map((name) => theme.colour(name))).size, 4);
});

test("events build a run: queue position, metrics with nulls kept, snapshots, pause, and one final state", () => {
  const run = newRun(0, { ...BASE, arch: "lstm" });
  applyRunEvent(run, "queued", { position: 2 });
  assert.deepEqual([run.status, run.position], ["queued", 2]);
  applyRunEvent(run, "started", { step: 0 });
  applyRunEvent(run, "metrics", { step: 0, loss: 1.2, held_out: 1.2, accuracy: null, grad_norm_before: null, baseline: 1 / 6 });
  applyRunEvent(run, "metrics", { step: 7, loss: 0.5, held_out: 0.4, accuracy: null, grad_norm_before: 0.8, baseline: 1 / 6 });
  applyRunEvent(run, "metrics", { step: 7, loss: 0.5 });  // the same step again (before a final event)
  applyRunEvent(run, "snapshot", { step: 0, distance: [0, 1, 2], final: [1, 0, null], mean: [1, 0.5, 0.1] });
  assert.deepEqual(run.series.step, [0, 7]);
  assert.deepEqual(run.series.grad_norm_before, [null, 0.8]);
  assert.equal(run.baseline, 1 / 6);
  assert.equal(run.step, 7);
  applyRunEvent(run, "paused", { step: 7 });
  assert.equal(run.status, "paused");
  applyRunEvent(run, "resumed", { step: 7 });
  applyRunEvent(run, "diverged", { step: 9, loss: null });
  assert.deepEqual([run.status, run.end.step, isLive(run)], ["diverged", 9, false]);
  applyRunEvent(run, "stopped", { step: 9, reason: "asked" });  // nothing after the final event
  assert.equal(run.status, "diverged");
  assert.deepEqual(logPoints([0, 1, 2, 3], [1, 0, null, 2]), { x: [0, 3], y: [1, 2] });
});

function raceRuns() {
  return RACE.map((k, i) => {
    const run = newRun(i, k);
    applyRunEvent(run, "started", {});
    for (const [step, loss] of [[0, 1.1], [7, 0.5 / (i + 1)], [14, 0.2 / (i + 1)]]) {
      applyRunEvent(run, "metrics", { step, loss, held_out: loss * 1.1, grad_norm_before: step ? 2 : null, baseline: 1 / 6 });
    }
    applyRunEvent(run, "snapshot", { step: 0, distance: [0, 1, 2, 3], final: [1, 0.1, 0, 1e-3] });
    if (i < 2) applyRunEvent(run, "snapshot", { step: 75, distance: [0, 1, 2, 3], final: [1, 0.5, 0.2, 0.1] });
    return run;
  });
}

const ctx = (lang) => ({ strings: strings(lang), theme, colours: runColours(RACE), labels: RACE.map((k) => runLabel(k, RACE, strings(lang))),
                         taskName: "adding", task: { regression: true }, box: { width: 900 } });

test("the loss plot: four training and held-out curves, log y, and the labelled baseline inside the axis", () => {
  const { data, layout } = lossFigure(raceRuns(), ctx("ko"));
  const train = data.filter((d) => String(d.meta).startsWith("train-"));
  assert.equal(train.length, 4);
  assert.ok(train.every((d) => d.x.length === 3));
  assert.equal(data.filter((d) => String(d.meta).startsWith("held-")).length, 4);
  assert.equal(layout.yaxis.type, "log");
  assert.equal(layout.yaxis.title.text, ko.lab_axis_loss_mse);
  const [lo, hi] = layout.yaxis.range, b = Math.log10(1 / 6);
  assert.ok(lo < b && b < hi);
  assert.equal(layout.shapes.length, 1);
  assert.ok(layout.annotations[0].text.startsWith("기준선"));
  assert.equal(baselineLine(raceRuns(), "adding", en), `${en.lab_baseline_adding} = 0.167`);
  assert.deepEqual(train.map((d) => d.line.color), RACE.map((_, i) => theme.colour(runColours(RACE)[i])));
});

test("the loss plot marks a diverged run and waits with a sentence when there are no runs", () => {
  const runs = raceRuns();
  applyRunEvent(runs[0], "diverged", { step: 14 });
  assert.equal(lossFigure(runs, ctx("en")).data.filter((d) => d.meta === "diverged-0").length, 1);
  const empty = lossFigure([], ctx("en"));
  assert.equal(empty.data.length, 0);
  assert.equal(empty.layout.annotations[0].text.replace(/<br>/g, " "), en.lab_plot_waiting);
});

test("the gradient-norm plot skips nulls and draws the clip-by-norm threshold once", () => {
  const { data, layout } = gradFigure(raceRuns(), ctx("en"));
  const grads = data.filter((d) => String(d.meta).startsWith("grad-") && !String(d.meta).startsWith("grad-label"));
  assert.ok(grads.every((d) => d.x.length === 2 && d.x[0] === 7));
  assert.equal(layout.shapes.length, 1);
  assert.equal(layout.shapes[0].y0, 1);
  const off = raceRuns().map((r) => { r.knobs = { ...r.knobs, clip_mode: null }; return r; });
  assert.equal(gradFigure(off, ctx("en")).layout.shapes.length, 0);
});

test("snapshots: zeros and nulls skipped, scrubbing by training step, runs not there yet show their latest", () => {
  const runs = raceRuns();
  assert.deepEqual(snapshotSteps(runs), [0, 75]);
  assert.equal(snapshotAt(runs[0], 0).step, 0);
  assert.equal(snapshotAt(runs[0], null).step, 75);
  assert.equal(snapshotAt(runs[3], 75).step, 0);
  const latest = snapshotFigure(runs, null, ctx("en")).data.filter((d) => String(d.meta).startsWith("snap-") && !String(d.meta).includes("label"));
  assert.deepEqual(latest[0].y, [1, 0.5, 0.2, 0.1]);
  assert.deepEqual(latest[3].x, [0, 1, 3]);
  const first = snapshotFigure(runs, 0, ctx("en"));
  assert.deepEqual(first.data.find((d) => d.meta === "snap-0").y, [1, 0.1, 1e-3]);
  // the axis spans every snapshot received, whichever is shown
  assert.deepEqual(first.layout.yaxis.range, snapshotFigure(runs, null, ctx("en")).layout.yaxis.range);
});

test("the step axis grows in a few steps up to the longest run", () => {
  assert.deepEqual(stepRange(0, 1500).map((v) => Math.round(v)), [0, 10]);
  assert.equal(Math.round(stepRange(42, 1500)[1] / 1.02), 50);
  assert.equal(Math.round(stepRange(140, 1500)[1] / 1.02), 200);
  assert.equal(Math.round(stepRange(1450, 1500)[1] / 1.02), 1500);
});

test("refusals in the page's language: a 422's knob and sentence, a 429's wait, no network", () => {
  const detail = [{ type: "less_than_equal", loc: ["body", "lr"], msg: "학습률: 10 이하로 넣어 주세요 (지금 100)", input: 100, ctx: { le: 10 } }];
  assert.deepEqual(problemLines(422, { detail }, null, ko), [{ field: "lr", label: "학습률", text: "10 이하로 넣어 주세요 (지금 100)" }]);
  const cost = [{ type: "knob_lab_cost", loc: ["body"], msg: "이 실행은 ...", ctx: {} }];
  assert.equal(problemLines(422, { detail: cost }, null, ko)[0].label, "");
  const busy = problemLines(429, { detail: "this address already has as many training runs going as it may", retry_after: 10 }, "10", en);
  assert.equal(busy.length, 2);
  assert.equal(busy[1].text, "Try again in 10 s.");
  assert.equal(problemLines(0, null, null, ko)[0].text, ko.error_network);
  assert.equal(problemLines(500, null, null, en)[0].text, "The server answered with status 500.");
});

class FakeEventSource {
  constructor(url) { this.url = url; this.readyState = 1; this.handlers = {}; FakeEventSource.last = this; }
  addEventListener(kind, fn) { (this.handlers[kind] ||= []).push(fn); }
  emit(kind, data) { for (const fn of this.handlers[kind] || []) fn({ data: JSON.stringify(data) }); }
  close() { this.readyState = 2; this.closed = true; }
}

test("following a run: events through the reducer, closed at the final event, marked lost if the stream gives up", () => {
  const run = newRun(0, { ...BASE, arch: "lstm" });
  let changes = 0;
  followRun(run, "/api/runs/x/events", () => { changes += 1; }, FakeEventSource);
  const es = FakeEventSource.last;
  es.emit("started", { step: 0 });
  es.emit("metrics", { step: 0, loss: 1 });
  es.emit("done", { step: 1500 });
  assert.deepEqual([run.status, es.closed, changes], ["done", true, 3]);
  es.emit("metrics", { step: 9, loss: 1 });  // nothing after close
  assert.equal(run.series.step.length, 1);

  const lost = newRun(1, { ...BASE, arch: "gru" });
  followRun(lost, "/api/runs/y/events", () => {}, FakeEventSource);
  const es2 = FakeEventSource.last;
  es2.emit("started", {});
  es2.readyState = 0;
  es2.onerror();  // reconnecting by itself: still running
  assert.equal(lost.status, "running");
  es2.readyState = 2;
  es2.onerror();
  assert.equal(lost.status, "lost");
});
