/* The LSTM cell diagram and the c-against-h gradient panel on the recorded LSTM trace: the diagram's numbers
   are the trace's gates and states, c_t = f ⊙ c_{t−1} + i ⊙ g holds for them, the SVG passes the page's CSP
   (no script, no event handlers), and grad-c-h draws exactly the API's grad_flow_c and grad_flow rows. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { num } from "../../static/js/core/format.js";
import * as cell from "../../static/js/panels/lstm-cell.js";
import * as gch from "../../static/js/panels/grad-c-h.js";
import { lossIndex } from "../../static/js/panels/common.js";
import { MEAN_UNIT, ViewStore, unitOf } from "../../static/js/core/view.js";
import { backwardEnd, fetched, fixture, forwardAt, strings, theme } from "./helpers.mjs";

const trace = fetched("lstm"), ko = strings("ko"), en = strings("en");
const [L, H] = trace.meta.state_shape;

test("the cell's numbers are the trace's own, and the belt adds f ⊙ c_{t−1} to i ⊙ g", () => {
  for (let t = 0; t < trace.T; t++) {
    for (let layer = 0; layer < L; layer++) {
      for (let j = 0; j < H; j++) {
        const v = cell.cellValues(trace, t, layer, j), s = trace.steps[t];
        for (const g of ["i", "f", "g", "o"]) assert.equal(v[g], s.gates[g][layer][j]);
        assert.equal(v.cPrev, t === 0 ? 0 : trace.steps[t - 1].c[layer][j]);
        assert.ok(Math.abs(v.keep + v.write - s.c[layer][j]) < 1e-5, `c at t=${t} l=${layer} j=${j}`);
        assert.ok(Math.abs(v.o * Math.tanh(v.c) - s.h[layer][j]) < 1e-5, `h at t=${t} l=${layer} j=${j}`);
      }
    }
  }
});

test("the diagram shows the current step's numbers for the chosen unit, with the unit picker, CSP-safe", () => {
  const t = 2, j = Math.min(2, H - 1);
  const view = { ...forwardAt(t + 1), unit: j };
  const html = cell.figure(trace, view, ko, theme).html;
  const v = cell.cellValues(trace, t, 0, j);
  for (const x of [v.f, v.i, v.g, v.o, v.c, v.cPrev, v.keep, v.write, v.h]) assert.ok(html.includes(num(x, 3)), `${x} shown`);
  assert.match(html, /<select data-view="unit"/);
  assert.match(html, new RegExp(`<option value="${j}" selected>`));
  assert.match(html, /<svg class="lstm-cell"/);
  assert.ok(!/<script|\son[a-z]+=/i.test(html), "no script, no inline handlers");
  for (const g of ["f", "i", "g", "o"]) assert.match(html, new RegExp(`data-gate="${g}"`));
  assert.ok(html.includes(ko.lstm_belt));
  assert.ok(cell.figure(trace, view, en, theme).html.includes(en.lstm_belt));
  const line = cell.describe(trace, view, en);
  assert.ok(line.includes(num(v.c, 3)) && !line.includes("\n"));
});

test("before the first step the diagram waits", () => {
  assert.ok(cell.figure(trace, forwardAt(0), ko, theme).html.includes(ko.status_none));
});

test("grad-c-h draws the API's ‖∂L_t/∂c_s‖ and ‖∂L_t/∂h_s‖ rows", () => {
  const bw = fixture("lstm").payload.backward;
  const view = backwardEnd(trace);
  const fig = gch.figure(trace, view, en, theme, { width: 900, height: 400 });
  const t = lossIndex(view, trace);
  assert.ok(t > 0);
  const byMeta = (m) => fig.data.find((d) => d.meta === m);
  for (let s = 0; s <= t; s++) {
    assert.equal(byMeta("c").y[s], bw.grad_flow_c[t][s]);
    assert.equal(byMeta("h").y[s], bw.grad_flow[t][s]);
  }
  assert.equal(gch.ratioAt(trace, t, 0), bw.grad_flow_c[t][0] / bw.grad_flow[t][0]);
});

test("the mean over units: every number is the mean of the units' own, picked from the same unit picker", () => {
  const t = 3, view = { ...forwardAt(t + 1), unit: MEAN_UNIT };
  const m = cell.cellValues(trace, t, 0, MEAN_UNIT);
  const per = Array.from({ length: H }, (_, j) => cell.cellValues(trace, t, 0, j));
  for (const k of ["f", "i", "g", "o", "cPrev", "c", "h", "keep", "write", "tanhC"]) {
    const expected = per.reduce((sum, v) => sum + v[k], 0) / H;
    assert.ok(Math.abs(m[k] - expected) < 1e-12, `${k}: ${m[k]} vs ${expected}`);
  }
  const c = trace.steps[t].c[0].reduce((a, b) => a + b, 0) / H;
  assert.ok(Math.abs(m.keep + m.write - c) < 1e-5, "the belt's sum holds for the means");
  const html = cell.figure(trace, view, ko, theme).html;
  for (const x of [m.f, m.i, m.g, m.o, m.c, m.h]) assert.ok(html.includes(num(x, 3)), `${x} shown`);
  assert.match(html, new RegExp(`<option value="${MEAN_UNIT}" selected>${ko.select_unit_mean}</option>`));
  const unitPicker = html.slice(html.indexOf('data-view="unit"'), html.indexOf("</select>"));
  assert.ok(!unitPicker.includes(" selected>0<"), "no single unit is selected");
  assert.ok(html.includes(String(H)) && cell.describe(trace, view, en).includes(`${H} units`));
  // the store keeps the choice; an index picks one unit again; a panel without a mean reads unit 0
  const store = new ViewStore({ unit: 2 });
  store.set({ unit: MEAN_UNIT });
  assert.equal(store.state.unit, MEAN_UNIT);
  assert.equal(unitOf(store.state, H), 0);
  assert.equal(unitOf(store.state, H, { mean: true }), MEAN_UNIT);
  store.set({ unit: "1" });
  assert.equal(unitOf(store.state, H, { mean: true }), 1);
  assert.equal(unitOf({ unit: 999 }, H), H - 1);
});
