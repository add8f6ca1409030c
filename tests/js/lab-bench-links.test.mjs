// node --test tests/js/lab-bench-links.test.mjs: a lesson's lab figure while a prediction about it is open
// (nothing of the runs is drawn or described) and its per-run "open in the bench" links.
import assert from "node:assert/strict";
import { test } from "node:test";

import { benchToAsk, concealLab, runBenchLinks } from "../../static/js/lab/bench-links.js";
import { applyRunEvent, newRun } from "../../static/js/lab/run-state.js";
import { LabSource } from "../../static/js/pages/lesson.js";
import * as labDistance from "../../static/js/panels/lab-distance.js";
import * as labGrad from "../../static/js/panels/lab-grad-norm.js";
import * as labLoss from "../../static/js/panels/lab-loss.js";
import { strings, theme } from "./helpers.mjs";

const ko = strings("ko"), en = strings("en");
const KNOBS = { task: "adding", seq_len: 50, arch: "lstm", steps: 20 };
const LAB = { api: "/api/runs", task: { name: "adding", regression: true, has_accuracy: false },
              runs: [{ ...KNOBS, arch: "rnn" }, { ...KNOBS, arch: "lstm" }] };

function run(i, held, status) {
  const r = newRun(i, LAB.runs[i]);
  r.id = `r${i}`;
  applyRunEvent(r, "started", {});
  applyRunEvent(r, "metrics", { step: 10, loss: held, held_out: held, grad_norm_before: 2, baseline: 1 / 6 });
  applyRunEvent(r, "snapshot", { step: 10, distance: [0, 1, 2], final: [1, 0.1, 0.01], mean: [1, 0.1, 0.01] });
  if (status) applyRunEvent(r, status, { step: 10 });
  return r;
}

function trace(extra) {
  return { kind: "lab", started: true, done: false, version: 1, runs: [run(0, 0.17, "done"), run(1, 0.004, null)],
           meta: { task: LAB.task, labels: ["RNN (tanh)", "LSTM"], colours: ["arch-rnn", "arch-lstm"] }, ...extra };
}

test("concealLab: open while any question on the figure is neither locked in nor revealed", () => {
  assert.equal(concealLab([]), false);
  assert.equal(concealLab([{ committed: false, revealed: false }]), true);
  assert.equal(concealLab([{ committed: true, revealed: false }, { committed: false, revealed: false }]), true);
  assert.equal(concealLab([{ committed: true, revealed: false }, { committed: false, revealed: true }]), false);
});

test("a concealed lab figure draws no run and says why, in both languages; its key changes with it", () => {
  const open = trace({ concealed: true }), shown = trace();
  for (const p of [labLoss, labGrad, labDistance]) {
    for (const s of [ko, en]) {
      const hidden = p.figure(open, {}, s, theme, { width: 600 });
      assert.equal(hidden.data.filter((d) => d.x && d.x.length).length, 0, p.id);  // no curve: the answer is in them
      assert.ok(JSON.stringify(hidden.layout.annotations).includes(s.lesson_lab_concealed.slice(0, 12)), p.id);
      assert.ok(!p.describe(open, {}, s).includes("0.17"), p.id);  // nor in the sentence under it
      const drawn = p.figure(shown, {}, s, theme, { width: 600 });
      assert.ok(drawn.data.some((d) => d.x && d.x.length), p.id);
    }
    assert.notEqual(p.key(open), p.key(shown));
  }
  assert.ok(labLoss.describe(shown, {}, en).includes("0.17"));
});

test("runBenchLinks: one link per finished run with a bench URL, in the page's language; none while concealed", () => {
  const t = trace();
  t.runs[0].benchUrl = "/bench?arch=rnn&checkpoint=run%3Ar0&example=0";
  t.runs[1].benchUrl = "/bench?arch=lstm&checkpoint=run%3Ar1&example=0";  // still training: no link yet
  assert.deepEqual(runBenchLinks(t, "ko"), [{ n: 1, label: "RNN (tanh)", href: "/bench?arch=rnn&checkpoint=run%3Ar0&example=0&lang=ko" }]);
  applyRunEvent(t.runs[1], "stopped", { step: 10 });
  assert.deepEqual(runBenchLinks(t, "en").map((l) => l.n), [1, 2]);
  assert.deepEqual(runBenchLinks({ ...t, concealed: true }, "en"), []);
  t.runs[0].benchUrl = null;  // a task the bench cannot show
  assert.deepEqual(runBenchLinks(t, "en").map((l) => l.n), [2]);
  assert.deepEqual(runBenchLinks({ ...t, started: false }, "en"), []);
});

test("LabSource asks each finished run for its bench link once, and conceals on request", async () => {
  const calls = [];
  const es = [];
  class FakeEventSource {
    constructor(url) { this.url = url; this.handlers = {}; es.push(this); }
    addEventListener(kind, fn) { (this.handlers[kind] ||= []).push(fn); }
    emit(kind, data) { for (const fn of this.handlers[kind] || []) fn({ data: JSON.stringify(data) }); }
    close() { this.closed = true; }
  }
  let n = 0;
  const fetch = async (url, init) => {
    calls.push([url, init.method]);
    const id = url.match(/\/api\/runs\/(r\d)\?/);
    const body = init.method === "POST" ? { id: `r${n}`, events: `/api/runs/r${n++}/events` }
      : { status: "done", bench_url: `/bench?arch=lstm&checkpoint=run%3A${id[1]}&example=0` };
    return { ok: true, status: 200, headers: { get: () => null }, json: async () => body };
  };
  const source = new LabSource(LAB, { lang: "en", strings: en, fetch, EventSource: FakeEventSource });
  await source.start();
  es[0].emit("started", {});
  es[0].emit("done", { step: 20 });
  assert.deepEqual(benchToAsk(source.trace), []);  // asked already (pending)
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(source.trace.runs[0].benchUrl, "/bench?arch=lstm&checkpoint=run%3Ar0&example=0");
  assert.equal(source.trace.runs[1].benchUrl, undefined);  // still training
  es[1].emit("stopped", { step: 3 });
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(calls.filter((c) => c[1] === "GET").map((c) => c[0]), ["/api/runs/r0?lang=en", "/api/runs/r1?lang=en"]);
  assert.equal(runBenchLinks(source.trace, "en").length, 2);
  const version = source.trace.version;
  source.setConcealed(true);
  assert.ok(source.trace.concealed && source.trace.version > version);
  assert.deepEqual(runBenchLinks(source.trace, "en"), []);
  source.setConcealed(true);  // no change: no redraw
  assert.equal(source.trace.version, version + 1);
});
