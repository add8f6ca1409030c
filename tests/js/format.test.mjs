import assert from "node:assert/strict";
import { test } from "node:test";

import { clipToAxis, errorLines, fmt, gradientVsDistance, logAxis, num, short, showChar } from "../../static/js/core/format.js";
import { strings } from "./helpers.mjs";

test("fmt fills named fields and leaves unknown ones empty", () => {
  assert.equal(fmt("{n}/{T} {x}", { n: 3, T: 18 }), "3/18 ");
});

test("numbers for people: fixed, scientific, and a dash for inf/NaN", () => {
  assert.equal(num(0.12345), "0.123");
  assert.equal(num(3.1e-6), "3.10e-6");
  assert.equal(num(null), "—");
  assert.equal(num(Infinity), "—");
  assert.equal(short(3.14e-6), "3.1e-6");
  assert.equal(short(0.4213), "0.42");
  assert.equal(short(5.4e49), "5.4e49");
  assert.equal(showChar(" "), "␣");
});

test("a log axis spans the finite positive values only", () => {
  const axis = logAxis([1e-3, null, 0, Infinity, 10, NaN]);
  assert.equal(axis.type, "log");
  const [lo, hi] = axis.range;
  assert.ok(lo < -3 && lo > -3.5 && hi > 1 && hi < 1.5, `range ${axis.range}`);
  assert.equal(axis.tickvals.length, axis.ticktext.length);
});

test("a bound leaving the axis becomes a gap with one mark where it leaves", () => {
  const axis = logAxis([1, 2, 3, 4]);
  const clipped = clipToAxis([1e20, 1e10, 3, 2, 1], axis);
  assert.deepEqual(clipped.y, [null, null, 3, 2, 1]);
  assert.deepEqual(clipped.marks.map((m) => [m.i, m.edge]), [[1, "top"]]);
  const low = clipToAxis([2, 1e-9, 1e-9, 2], axis);  // leaves and comes back: two marks
  assert.deepEqual(low.marks.map((m) => [m.i, m.edge]), [[1, "bottom"], [2, "bottom"]]);
  const all = clipToAxis([1e30, 1e31, 1e32], axis);  // nothing drawn: one mark
  assert.equal(all.marks.length, 1);
});

test("the API's 422 in the page's language, one line per problem", () => {
  const ko = strings("ko");
  const detail = [
    { type: "less_than_equal", loc: ["query", "hidden_size"], msg: "Input should be less than or equal to 256", input: "1000", ctx: { le: 256 } },
    { type: "less_than_equal", loc: ["query", "hidden_size"], msg: "Input should be less than or equal to 256", input: "1000", ctx: { le: 256 } },
    { type: "value_error", loc: ["query", "layers"], msg: "layers: gru takes 1 to 3 layers" },
  ];
  const lines = errorLines(detail, ko);
  assert.equal(lines.length, 2);
  assert.equal(lines[0].label, ko.knob_hidden_size);
  assert.match(lines[0].text, /256/);
  assert.match(lines[0].text, /이하/);
  assert.equal(lines[1].text, "gru takes 1 to 3 layers");
  // a message the API already worded (in the page's language) is shown as sent
  const worded = errorLines([{ type: "less_than_equal", loc: ["query", "layers"], msg: "layers: rnn 모델은 1층부터 3층까지 쌓을 수 있습니다", ctx: { le: 3 } }], ko);
  assert.equal(worded[0].text, "rnn 모델은 1층부터 3층까지 쌓을 수 있습니다");
});

test("gradient against distance averages the pairs at each distance", () => {
  const G = [[1, 0, 0], [0.5, 2, 0], [0, 0, 0]];  // the last row has no loss
  const c = gradientVsDistance(G);
  assert.deepEqual(c.x, [0, 1]);
  assert.deepEqual(c.y, [1.5, 0.5]);
  assert.deepEqual(c.local, [1.5, 2]);
});

test("sig keeps three significant digits of a measured value", async () => {
  const { sig } = await import("../../static/js/core/format.js");
  assert.equal(sig(0.00155), "1.55e-3");
  assert.equal(sig(0.5384), "0.538");
  assert.equal(sig(3.92e-12), "3.92e-12");
  assert.equal(sig(123456), "1.23e5");
  assert.equal(sig(0), "0");
  assert.equal(sig(null), "—");
});
