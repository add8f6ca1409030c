/* core/theme.js, core/keys.js and core/figure.js (with a fake element and a fake Plotly). */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { mountFigure } from "../../static/js/core/figure.js";
import { actionFor, bindKeys, isEditable, releaseOnEnter } from "../../static/js/core/keys.js";
import { COLOUR_NAMES, parseCssVariables } from "../../static/js/core/theme.js";
import { ViewStore } from "../../static/js/core/view.js";
import * as hidden from "../../static/js/panels/hidden.js";
import { ROOT, fetched, strings, theme } from "./helpers.mjs";

test("concepts.css defines one variable for every colour the panels name", () => {
  const vars = parseCssVariables(readFileSync(join(ROOT, "static", "css", "concepts.css"), "utf8"));
  for (const name of COLOUR_NAMES) assert.match(vars[name] || "", /^#[0-9a-f]{6}$/i, `--c-${name}`);
  assert.equal(theme.colour("--c-hidden"), vars.hidden);
  assert.equal(theme.colour("no-such-concept"), vars.ink);
});

test("keys go by physical key: b on a Korean layout types ㅠ and still switches the phase", () => {
  assert.equal(actionFor({ code: "KeyB", key: "ㅠ" }), "phase");
  assert.equal(actionFor({ code: "ArrowRight", key: "ArrowRight" }), "forward");
  assert.equal(actionFor({ code: "Space", key: " " }), "play");
  assert.equal(actionFor({ code: "KeyB", key: "b", ctrlKey: true }), null);
  assert.equal(actionFor({ code: "", key: "End" }), "end");
  assert.ok(isEditable({ tagName: "INPUT" }) && isEditable({ tagName: "SELECT" }) && !isEditable({ tagName: "BUTTON" }));
});

function target() {
  const handlers = {};
  return {
    handlers,
    addEventListener: (name, fn) => { (handlers[name] ||= []).push(fn); },
    removeEventListener: (name, fn) => { handlers[name] = (handlers[name] || []).filter((f) => f !== fn); },
    fire(name, e) { for (const fn of handlers[name] || []) fn(e); },
  };
}

test("bound keys call the transport, not while a field has focus", () => {
  const doc = target(), calls = [];
  const unbind = bindKeys({ forward: () => calls.push("f"), phase: () => calls.push("p") }, { target: doc });
  const key = (code, tagName = "BODY", extra = {}) => {
    let prevented = false;
    doc.fire("keydown", { code, key: "", target: { tagName }, preventDefault: () => { prevented = true; }, ...extra });
    return prevented;
  };
  assert.equal(key("ArrowRight"), true);
  key("KeyB");
  key("ArrowRight", "INPUT");
  key("KeyB", "BODY", { repeat: true });
  assert.deepEqual(calls, ["f", "p"]);
  unbind();
  key("ArrowRight");
  assert.deepEqual(calls, ["f", "p"]);
});

test("Enter in a knob field blurs it (the arrows step again) and submits the form", () => {
  const form = target();
  let blurred = false, submitted = false;
  form.requestSubmit = () => { submitted = true; };
  releaseOnEnter(form);
  const input = { tagName: "INPUT", type: "number", blur: () => { blurred = true; } };
  form.fire("keydown", { key: "Enter", target: input, preventDefault() {} });
  assert.ok(blurred && submitted);
});

// ---- mountFigure with a fake element and Plotly ----

function fakeElement() {
  const el = {
    ...target(), clientWidth: 900, clientHeight: 360, data: null, innerHTML: "",
    getClientRects: () => [1],
    after(node) { el.next = node; }, before(node) { el.prev = node; },
    closest: () => null,
    ownerDocument: { createElement: () => ({ textContent: "", hidden: false, setAttribute() {}, className: "" }) },
  };
  return el;
}

function fakePlotly() {
  const calls = { react: 0, relayout: 0, purge: 0 };
  return {
    calls,
    react(el, data, layout) { calls.react += 1; el.data = data; el.layout = layout; },
    relayout(el, patch) { calls.relayout += 1; Object.assign(el.layout, patch); },
    purge() { calls.purge += 1; },
    downloadImage: (el, opts) => opts,
  };
}

test("a figure redraws only when its inputs change, and moves only the cursor when that is all", async () => {
  const trace = fetched("lstm");
  const listeners = new Set();
  const source = { trace, status: "done", subscribe: (fn) => { listeners.add(fn); return () => listeners.delete(fn); } };
  const view = new ViewStore({ step: 2 });
  view.setLength(trace.T);
  const el = fakeElement(), P = fakePlotly();
  const fig = mountFigure(el, { source, view, panel: hidden, strings: strings("en"), theme, Plotly: P });
  fig.render();
  assert.equal(P.calls.react, 1);
  assert.match(el.next.textContent, /^Step 1 ‘e’/);
  fig.render();
  assert.equal(P.calls.react, 1, "nothing changed: no redraw");
  view.set({ unit: 3, head: 1 });  // the hidden-state panel does not show these
  fig.render();
  assert.equal(P.calls.react, 1);
  view.stepBy(1);
  fig.render();
  assert.equal(P.calls.react, 2);
  view.setPhase("backward");
  fig.render();
  const reacts = P.calls.react;
  view.stepBy(1);  // backward: every column shown already, only the cursor moves
  fig.render();
  assert.equal(P.calls.react, reacts);
  assert.equal(P.calls.relayout, 1);
  assert.equal(fig.ready, true);
  assert.deepEqual(fig.exportImage("svg"), { format: "svg", filename: "unrolled-hidden", width: 900, height: 400 });
  fig.destroy();
  assert.equal(P.calls.purge, 1);
  assert.equal(listeners.size, 0);
});

test("a figure keyed on the trace's meta alone becomes ready when the stream finishes, without a redraw", () => {
  const trace = { ...fetched("lstm"), done: false };
  const source = { trace, status: "streaming", subscribe: () => () => {} };
  const view = new ViewStore({ step: 0 });
  view.setLength(trace.T);
  const panel = { ...hidden, id: "meta-only", key: () => "same", cursorKey: undefined };
  const el = fakeElement(), P = fakePlotly();
  const fig = mountFigure(el, { source, view, panel, strings: strings("en"), theme, Plotly: P });
  fig.render();
  assert.equal(fig.ready, false, "drawn from a stream still coming");
  trace.done = true;
  fig.render();
  assert.equal(P.calls.react, 1, "its key did not change: nothing to redraw");
  assert.equal(fig.ready, true, "and what is drawn is complete");
  fig.destroy();
});
