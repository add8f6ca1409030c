// node --test tests/js/lab-lesson.test.mjs: a lesson's lab figure (source "lab"): LabSource starting and
// following its runs, the lab panels drawing them with lab/plots.js, and the lab_* answer functions.
import assert from "node:assert/strict";
import { test } from "node:test";

import { lab_below_baseline, lab_distance_ratio } from "../../static/js/core/answers.js";
import { applyRunEvent, newRun } from "../../static/js/lab/run-state.js";
import { LabSource } from "../../static/js/pages/lesson.js";
import * as labDistance from "../../static/js/panels/lab-distance.js";
import * as labGrad from "../../static/js/panels/lab-grad-norm.js";
import * as labLoss from "../../static/js/panels/lab-loss.js";
import { strings, theme } from "./helpers.mjs";

const ko = strings("ko"), en = strings("en");
const BASE = { task: "adding", seq_len: 50, activation: "tanh", hidden_size: 64, layers: 1, optimizer: "adam", lr: 0.01,
               batch: 64, truncation: null, clip_mode: "norm", clip_threshold: 1, spectral_norm: null, forget_bias: null,
               seed: 0, steps: 20 };
const LAB = { api: "/api/runs", task: { name: "adding", regression: true, has_accuracy: false },
              runs: [{ ...BASE, arch: "rnn" }, { ...BASE, arch: "gru" }] };

class FakeEventSource {
  constructor(url) { this.url = url; this.readyState = 1; this.handlers = {}; FakeEventSource.all.push(this); }
  addEventListener(kind, fn) { (this.handlers[kind] ||= []).push(fn); }
  emit(kind, data) { for (const fn of this.handlers[kind] || []) fn({ data: JSON.stringify(data) }); }
  close() { this.readyState = 2; this.closed = true; }
}
FakeEventSource.all = [];

function fakeFetch(calls) {
  let n = 0;
  return async (url, init) => {
    calls.push([url, init.method, init.body ? JSON.parse(init.body) : null]);
    const id = `r${n++}`;
    return { ok: true, status: 201, headers: { get: () => null },
             json: async () => ({ id, events: `/api/runs/${id}/events`, checkpoint: `/api/runs/${id}/checkpoint` }) };
  };
}

/* The events of a finished run: metrics every 10 steps (held-out h at the end), one snapshot with `final`. */
function finished(run, held, final) {
  applyRunEvent(run, "started", {});
  applyRunEvent(run, "metrics", { step: 10, loss: 0.2, held_out: 0.2, grad_norm_before: 3, baseline: 1 / 6 });
  applyRunEvent(run, "metrics", { step: 20, loss: held, held_out: held, grad_norm_before: 2, baseline: 1 / 6 });
  applyRunEvent(run, "metrics", { step: 20, loss: 9, held_out: 9, grad_norm_before: 2, baseline: 1 / 6 });  // reported twice
  applyRunEvent(run, "snapshot", { step: 20, distance: [0, 1, 2], final, mean: final });
  applyRunEvent(run, "done", { step: 20 });
  return run;
}

function labTrace() {
  const runs = [finished(newRun(0, LAB.runs[0]), 0.2, [1, 1e-3, 1e-6]), finished(newRun(1, LAB.runs[1]), 0.01, [1, 0.5, 0.1])];
  return { kind: "lab", runs, done: true, meta: { task: LAB.task, labels: ["RNN", "GRU"], colours: ["arch-rnn", "arch-gru"] }, version: 1 };
}

test("lab_below_baseline: the latest metrics' held-out loss over the baseline (a repeated step counts once)", () => {
  const trace = labTrace();
  const r = lab_below_baseline(trace, { run: 0 });
  assert.ok(Math.abs(r.value - 0.2 * 6) < 1e-12);
  assert.equal(r.parts.step, 20);
  assert.ok(Math.abs(lab_below_baseline(trace, { run: 1 }).value - 0.06) < 1e-12);
  assert.throws(() => lab_below_baseline({ ...trace, done: false }, { run: 0 }), /not finished/);
  assert.throws(() => lab_below_baseline(trace, { run: 5 }), /outside/);
});

test("lab_distance_ratio: run_b's final at distance d over run_a's, from the latest snapshots", () => {
  const trace = labTrace();
  assert.ok(Math.abs(lab_distance_ratio(trace, { run_a: 0, run_b: 1, d: 2 }).value - 1e5) < 1e-6);
  assert.ok(Math.abs(lab_distance_ratio(trace, { run_a: 0, run_b: 1 }).value - 1e5) < 1e-6);  // d: the farthest
  assert.equal(lab_distance_ratio(trace, { run_a: 0, run_b: 1, d: 7 }).value, null);
});

test("the lab panels draw with lab/plots.js and describe every run, in both languages", () => {
  const trace = labTrace();
  for (const p of [labLoss, labGrad, labDistance]) {
    assert.deepEqual(p.archs, ["lab"]);
    for (const s of [ko, en]) {
      const fig = p.figure(trace, {}, s, theme, { width: 600 });
      assert.ok(fig.data.length && fig.layout, p.id);
      assert.ok(!JSON.stringify(fig).includes("undefined"), p.id);
      const line = p.describe(trace, {}, s);
      assert.ok(line.startsWith("1 · RNN") && line.includes("2 · GRU") && !line.includes("{"), line);
    }
  }
  assert.ok(labLoss.figure(trace, {}, en, theme, { width: 600 }).data.some((d) => d.meta === "baseline"));
  const empty = { ...trace, runs: LAB.runs.map((k, i) => newRun(i, k)), done: false };
  assert.equal(labLoss.describe(empty, {}, en), en.lab_plot_waiting);
  assert.notEqual(labLoss.key(trace), labLoss.key({ ...trace, version: 2 }));
});

test("LabSource starts nothing until start(), then posts each run's knobs and follows its events", async () => {
  const calls = [];
  FakeEventSource.all = [];
  const source = new LabSource(LAB, { lang: "en", strings: en, fetch: fakeFetch(calls), EventSource: FakeEventSource });
  assert.equal(source.status, "idle");
  assert.equal(calls.length, 0);
  assert.equal(source.trace.meta.labels.length, 2);
  let notified = 0;
  source.subscribe(() => { notified += 1; });
  await source.start();
  assert.deepEqual(calls.map((c) => c[0]), ["/api/runs?lang=en", "/api/runs?lang=en"]);
  assert.deepEqual(calls[1][2], LAB.runs[1]);
  assert.equal(FakeEventSource.all.length, 2);
  assert.equal(source.status, "running");
  for (const es of FakeEventSource.all) {
    es.emit("started", {});
    es.emit("metrics", { step: 10, loss: 0.1, held_out: 0.1, baseline: 1 / 6 });
  }
  assert.equal(source.trace.done, false);
  FakeEventSource.all[0].emit("done", { step: 20 });
  FakeEventSource.all[1].emit("diverged", { step: 12 });
  assert.equal(source.trace.done, true);
  assert.equal(source.status, "done");
  assert.ok(notified >= 6);
  assert.ok(Math.abs(lab_below_baseline(source.trace, { run: 0 }).value - 0.6) < 1e-12);
});
