/* Lesson 10's depth figures and padding controls, their pure parts: the deep graph draws one row of
   states per layer knob, the depth panel's per-layer norms, and which ways the padding panel draws. */
import assert from "node:assert/strict";
import { test } from "node:test";

import * as depth from "../../static/js/panels/depth.js";
import * as padding from "../../static/js/panels/padding.js";
import * as graph from "../../static/js/panels/shape-graph.js";
import { bodies } from "../../static/js/sources/shapes.js";
import { strings, theme } from "./helpers.mjs";

const ko = strings("ko");

test("the deep graph stacks as many state rows as the layers knob", () => {
  for (const n of [1, 2, 3]) {
    const rows = graph.layout("deep", 5, n).rows;
    assert.equal(rows.filter((r) => r.kind === "hidden").length, n);
    const trace = { meta: { shape: "deep", knobs: { shape: "deep", layers: n } } };
    const svg = graph.figure(trace, { step: 0 }, ko, theme, { width: 900 }).html;
    assert.equal((svg.match(/>h³/g) || []).length, n === 3 ? 5 : 0);
    assert.notEqual(graph.key(trace, { step: 0 }), graph.key({ meta: { shape: "deep", knobs: { layers: n % 3 + 1 } } }, { step: 0 }));
  }
  assert.equal(graph.layersOf({ meta: { shape: "deep", knobs: {} } }), 2);
});

test("the depth panel draws ||h_t^l|| per layer for the steps shown", () => {
  const steps = [{ h: [[3, 4], [0, 1]] }, { h: [[1, 0], [0, 2]] }];
  const trace = { T: 2, nSteps: 2, nBack: 0, steps, back: [], meta: { arch: "gru", vocab: ["a", "b"], tokens: [0, 1] } };
  assert.deepEqual(depth.layerNorms(trace, 1), [[5, null], [1, null]]);
  const fig = depth.figure(trace, { phase: "forward", step: 2, bstep: 0, layer: 0 }, ko, theme, { width: 800 });
  assert.deepEqual(fig.data.map((d) => d.y), [[5, 1], [1, 2]]);
  assert.match(fig.data[1].name, /맨 위/);
  assert.match(depth.describe(trace, { phase: "forward", step: 2 }, ko), /층 0 1.*층 1 2/);
});

test("the mask knob picks the padded run drawn beside packed; lengths travel to the padding body", () => {
  assert.deepEqual(padding.waysShown({ meta: { knobs: {} } }), padding.WAYS);
  assert.deepEqual(padding.waysShown({ meta: { knobs: { mask: false } } }), ["no_mask", "packed"]);
  assert.deepEqual(padding.waysShown({ meta: { knobs: { mask: true } } }), ["mask", "packed"]);
  assert.deepEqual(bodies({ sentences: ["ab"], lengths: "1" }).padding, { sentences: ["ab"], lengths: "1" });
  assert.deepEqual(bodies({ sentences: ["ab"], lengths: " " }).padding, { sentences: ["ab"] });
  assert.deepEqual(bodies({ sentences: ["ab"], lengths: [2] }).padding, { sentences: ["ab"], lengths: [2] });
});

test("the deep graph's description names its top layer", () => {
  for (const [n, top] of [[1, "h¹"], [3, "h³"]]) {
    const text = graph.describe({ meta: { shape: "deep", knobs: { layers: n } } }, { step: 0 }, ko);
    assert.ok(text.includes(`층 ${n}개`) && text.includes(`맨 위 층 ${top}`), text);
  }
});
