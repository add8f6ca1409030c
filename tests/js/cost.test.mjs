/* The cost panel draws the server's own counts (models/transformer.py layer_cost, the trace's meta.cost),
   the same whether the trace came as a stream or as one JSON body. */

import assert from "node:assert/strict";
import { test } from "node:test";

import * as cost from "../../static/js/panels/cost.js";
import { fetched, fixture, streamed, strings, theme } from "./helpers.mjs";

const ko = strings("ko"), en = strings("en");

test("the cost panel draws the payload's curves and marks the text's length", () => {
  const payloadCost = fixture("transformer").payload.extra.cost;
  for (const trace of [fetched("transformer"), streamed("transformer")]) {
    assert.deepEqual(trace.meta.cost, payloadCost, "the stream's meta carries what the JSON body carries");
    const fig = cost.figure(trace, {}, ko, theme, { width: 900, height: 360 });
    const att = fig.data.find((d) => d.meta === "attention"), rec = fig.data.find((d) => d.meta === "recurrent");
    assert.deepEqual(att.x, payloadCost.lengths);
    assert.deepEqual(att.y, payloadCost.curves.attention_macs);
    assert.deepEqual(rec.y, payloadCost.curves.recurrent_macs);
    const now = fig.data.find((d) => d.meta === "now");
    assert.deepEqual(now.x, [trace.T, trace.T]);
    assert.deepEqual(now.y, [payloadCost.attention_macs, payloadCost.recurrent_macs]);
    assert.equal(fig.layout.xaxis.type, "log");
  }
});

test("the attention curve bends towards slope 2 while the recurrence stays at slope 1", () => {
  const c = fixture("transformer").payload.extra.cost, n = c.lengths.length;
  const slope = (ys) => Math.log(ys[n - 1] / ys[n - 2]) / Math.log(c.lengths[n - 1] / c.lengths[n - 2]);
  assert.ok(Math.abs(slope(c.curves.recurrent_macs) - 1) < 1e-9);
  assert.ok(slope(c.curves.attention_macs) > 1.5, `slope ${slope(c.curves.attention_macs)}`);
});

test("the cost panel's line names both counts at the text's length, in both languages", () => {
  const trace = fetched("transformer"), c = trace.meta.cost;
  for (const s of [ko, en]) {
    const line = cost.describe(trace, {}, s);
    assert.ok(line.includes(c.attention_macs.toLocaleString("en-US")) && line.includes(`T = ${trace.T}`), line);
  }
  assert.equal(cost.describe({ meta: { arch: "rnn" } }, {}, ko), ko.caption_cost);
});
