import assert from "node:assert/strict";
import { test } from "node:test";

import { Player, ViewStore, currentStep, lossIndex, revealed, shown } from "../../static/js/core/view.js";
import { streamed } from "./helpers.mjs";

test("the store clamps to the trace length once it is known, and keeps the rest", () => {
  const v = new ViewStore({ phase: "backward", step: 30, bstep: 12, loss: 40, unit: 3 });
  assert.equal(v.state.step, 30, "no length yet: kept as given (a permalink read before the trace)");
  v.setLength(18);
  assert.deepEqual({ ...v.state }, { phase: "backward", step: 18, bstep: 12, layer: 0, head: 0, loss: 16, unit: 3,
                                   conceal: false });
  v.setLength(10);  // a knob change to a shorter text: the step is clamped, not reset
  assert.equal(v.state.bstep, 10);
  assert.equal(v.state.loss, 8);
});

test("stepping, phases and ends move like the transport", () => {
  const v = new ViewStore();
  v.setLength(5);
  const seen = [];
  v.subscribe((s, keys) => seen.push(keys));
  assert.equal(v.stepBy(-1), false);
  assert.equal(v.stepBy(1), true);
  v.stepBy(10);
  assert.equal(v.state.step, 5);
  v.setPhase("backward");
  assert.equal(v.state.step, 5);
  v.stepBy(2);
  assert.equal(v.state.bstep, 2);
  v.toEnd();
  assert.equal(v.state.bstep, 5);
  v.toStart();
  assert.deepEqual([v.state.phase, v.state.step, v.state.bstep], ["forward", 0, 0]);
  assert.ok(seen.every((keys) => keys.length > 0));
});

test("what a view shows of a trace: current step, revealed steps, the chosen loss", () => {
  const trace = streamed("rnn-tanh");  // T = 5
  assert.equal(currentStep({ phase: "forward", step: 0 }, trace), -1);
  assert.equal(currentStep({ phase: "forward", step: 3 }, trace), 2);
  assert.equal(currentStep({ phase: "backward", step: 5, bstep: 2 }, trace), 3);
  assert.deepEqual(revealed({ phase: "backward", bstep: 2 }, trace), [3, 4]);
  assert.deepEqual(shown({ phase: "backward", bstep: 9 }, trace), { nf: 5, nb: 5 });
  assert.equal(lossIndex({ loss: null }, trace), 3);
  assert.equal(lossIndex({ loss: 1 }, trace), 1);
});

test("two sources on one store step together", () => {
  const v = new ViewStore({ step: 2 });
  const a = streamed("lstm"), b = streamed("gru");
  v.setLength(Math.max(a.T, b.T));
  v.stepBy(1);
  assert.equal(currentStep(v.state, a), 2);
  assert.equal(currentStep(v.state, b), 2);
});

test("the player steps at its speed and stops at the end", () => {
  const timers = [];
  const realSet = globalThis.setInterval, realClear = globalThis.clearInterval;
  globalThis.setInterval = (fn, ms) => { timers.push({ fn, ms, on: true }); return timers.length - 1; };
  globalThis.clearInterval = (id) => { timers[id].on = false; };
  try {
    const v = new ViewStore();
    v.setLength(3);
    const p = new Player(v, { speed: 10 });
    p.play();
    assert.equal(timers[0].ms, 100);
    assert.equal(v.state.step, 1, "the first step is immediate");
    timers[0].fn(); timers[0].fn();
    assert.equal(v.state.step, 3);
    timers[0].fn();
    assert.equal(p.playing, false);
    p.play();  // at the end: plays from the start again
    assert.equal(v.state.step, 1);
    p.pause();
  } finally {
    globalThis.setInterval = realSet;
    globalThis.clearInterval = realClear;
  }
});

test("conceal is part of the view: with a question open, log axes span only the steps reached", async () => {
  const v = new ViewStore({ conceal: true });
  assert.equal(v.state.conceal, true);
  const changes = [];
  v.subscribe((_, changed) => changes.push(changed));
  v.set({ conceal: false });
  assert.deepEqual(changes, [["conceal"]]);
  const { fetched, strings, theme, backwardEnd } = await import("./helpers.mjs");
  const trace = fetched("rnn-tanh");
  const ko = strings("ko");
  for (const id of ["grad-one-loss", "grad-norm", "bptt-terms", "jacobian"]) {
    const panel = await import(`../../static/js/panels/${id}.js`);
    const open = panel.figure(trace, backwardEnd(trace, { bstep: 3 }), ko, theme, { width: 800, height: 400 });
    const hidden = panel.figure(trace, backwardEnd(trace, { bstep: 3, conceal: true }), ko, theme, { width: 800, height: 400 });
    const span = (f) => f.layout.yaxis.range[1] - f.layout.yaxis.range[0];
    assert.ok(span(hidden) < span(open), `${id}: the concealed axis is narrower (${span(hidden)} vs ${span(open)})`);
  }
});
