// node --test tests/js/lab-numbers.test.mjs: a lab run of the adding task in the bench: the trace's meta
// says its steps read numbers, the strip labels them (★ on the marked two), the regression panel draws
// the readout against the answer, and the views that follow one loss follow its only loss, at T-1.
import assert from "node:assert/strict";
import { test } from "node:test";

import { rgba } from "../../static/js/core/format.js";
import { fromPayload } from "../../static/js/core/source.js";
import { lossIndex } from "../../static/js/core/view.js";
import { markedSteps, tokenLabel } from "../../static/js/panels/common.js";
import * as probs from "../../static/js/panels/probs.js";
import * as regression from "../../static/js/panels/regression.js";
import * as strip from "../../static/js/panels/strip.js";
import { strings, theme } from "./helpers.mjs";

const ko = strings("ko"), en = strings("en");
const inputs = [[0.25, 0], [0.5, 1], [0.125, 0], [0.75, 1]];
const prediction = [[0.3], [0.6], [0.8], [1.1]];
const answer = [0.5 + 0.75];

function payload() {
  const T = inputs.length;
  const steps = inputs.map((x, t) => ({ t, token: null, token_id: -1, input: x, prediction: prediction[t],
                                        target: t === T - 1 ? answer : null,
                                        loss: t === T - 1 ? (prediction[t][0] - answer[0]) ** 2 : null,
                                        overflow: false, h: [[0.1, -0.2]], gates: {} }));
  const flow = Array.from({ length: T }, (_, u) => Array.from({ length: T }, (_, s) => (u === T - 1 ? 0.1 * 2 ** s : 0)));
  return { knobs: { arch: "rnn", checkpoint: "run:x@5", example: 0 }, arch: "rnn", vocab: [], tokens: [-1, -1, -1, -1],
           input_kind: "numbers", inputs, answer, last_loss: T - 1, steps, overflow: false,
           backward: { loss: steps[T - 1].loss, grad_h: flow[T - 1].map((v) => [v]), grad_c: null, grad_flow: flow,
                       jacobian_norm: null, cuts: [], overflow: [false, false, false, false], pascanu: null } };
}

test("the meta carries what a step reads; the labels are the values, starred where marked", () => {
  const trace = fromPayload(payload());
  assert.equal(trace.meta.input_kind, "numbers");
  assert.equal(trace.meta.last_loss, 3);
  assert.deepEqual(trace.meta.inputs, inputs);
  assert.deepEqual([0, 1, 2, 3].map((t) => tokenLabel(trace, t)), ["0.25", "★0.50", "0.13", "★0.75"]);
  assert.deepEqual(markedSteps(trace), [1, 3]);
  const chars = fromPayload({ ...payload(), input_kind: undefined, inputs: undefined, last_loss: undefined });
  assert.equal(chars.meta.input_kind, undefined);  // a payload that does not say reads characters
  assert.equal(lossIndex({ loss: null }, chars), 2);  // the next character: no loss at the last step
});

test("the gradient views follow the adding task's one loss, at the last step", () => {
  const trace = fromPayload(payload());
  assert.equal(lossIndex({ loss: null }, trace), 3);
  assert.equal(lossIndex({ loss: 9 }, trace), 3);
  assert.equal(lossIndex({ loss: 1 }, trace), 1);
});

test("the regression panel: predictions so far, the answer, the squared error once the last step is read", () => {
  const trace = fromPayload(payload());
  assert.deepEqual(regression.inputs, ["numbers"]);
  assert.deepEqual(probs.inputs, ["chars"]);
  const mid = regression.readout(trace, { phase: "forward", step: 2 });
  assert.deepEqual(mid.prediction, [0.3, 0.6, null, null]);
  assert.equal(mid.reached, false);
  assert.equal(mid.loss, null);
  const end = regression.readout(trace, { phase: "forward", step: 4 });
  assert.equal(end.reached, true);
  assert.ok(Math.abs(end.loss - (1.1 - 1.25) ** 2) < 1e-12);
  assert.deepEqual(end.marked, [1, 3]);
  for (const s of [ko, en]) {
    const fig = regression.figure(trace, { phase: "forward", step: 4 }, s, theme, { width: 800 });
    assert.deepEqual(fig.data.find((d) => d.meta === "prediction").y, [0.3, 0.6, 0.8, 1.1]);
    assert.deepEqual(fig.data.find((d) => d.meta === "answer").y, [1.25, 1.25]);
    assert.equal(fig.layout.shapes.filter((sh) => sh.fillcolor && sh.x1 - sh.x0 <= 1).length, 3);  // 2 marked + current
    assert.ok(JSON.stringify(fig.layout.annotations).includes("0.0225"));
    const line = regression.describe(trace, { phase: "forward", step: 4 }, s);
    assert.ok(line.includes("1.100") && line.includes("1.250") && line.includes("0.0225") && !line.includes("{"), line);
    const early = regression.describe(trace, { phase: "forward", step: 1 }, s);
    assert.ok(early.includes("0.300") && !early.includes("{"), early);
  }
});

test("the strip labels numbers and shades the marked steps", () => {
  const trace = fromPayload(payload());
  const fig = strip.figure(trace, { phase: "forward", step: 3, bstep: 0 }, en, theme, { width: 1200 });
  const labels = fig.layout.annotations.filter((a) => ["0.25", "★0.50", "0.13", "★0.75"].includes(a.text));
  assert.equal(labels.length, 4);
  const cells = fig.layout.shapes.filter((sh) => sh.type === "rect");
  const target = theme.colour("target");
  assert.equal(cells[1].fillcolor, rgba(target, 0.4));  // marked, read already
  assert.equal(cells[3].fillcolor, rgba(target, 0.2));  // marked, still ahead
  assert.equal(cells[2].fillcolor, theme.colour("current"));  // step 2, where the view is
  assert.ok(![rgba(target, 0.4), rgba(target, 0.2)].includes(cells[0].fillcolor));
});
