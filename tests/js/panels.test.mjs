/* The panel modules as pure functions: their declared shape, what each figure draws for a small
   recorded trace, the theory line, the clipped bound, the first-overflow line, the equation values
   against the trace's own h and gates, and that every string a panel uses exists in both languages. */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { short } from "../../static/js/core/format.js";
import { CompareSource } from "../../static/js/core/source.js";
import { ROOT, FIXTURES, backwardEnd, fetched, fixture, forwardAt, strings, streamed, theme } from "./helpers.mjs";

const PANEL_DIR = join(ROOT, "static", "js", "panels");
const IDS = readdirSync(PANEL_DIR).filter((f) => f.endsWith(".js") && f !== "common.js").map((f) => f.replace(/\.js$/, ""));
const panels = Object.fromEntries(await Promise.all(IDS.map(async (id) => [id, await import(join(PANEL_DIR, `${id}.js`))])));
const ko = strings("ko"), en = strings("en");
const BOX = { width: 900, height: 400 };
const byMeta = (fig, meta) => fig.data.find((d) => d.meta === meta);

const BENCH_PANELS = ["strip", "hidden", "gates", "probs", "grad-norm", "grad-flow", "grad-one-loss", "bptt-terms", "jacobian",
                      "clip", "equation", "attention", "positional", "compare"];

test("every panel of the contract is a module with id, reads, archs, figure and describe", () => {
  for (const id of BENCH_PANELS) {
    const p = panels[id];
    assert.ok(p, `panels/${id}.js`);
    assert.equal(p.id, id);
    assert.ok(Array.isArray(p.reads) && p.reads.length, `${id}.reads`);
    assert.ok(Array.isArray(p.archs) && p.archs.every((a) => ["rnn", "lstm", "gru", "sgru", "transformer"].includes(a)), `${id}.archs`);
    assert.equal(typeof p.key, "function", `${id}.key: redraw only when what it shows changes`);
    assert.equal(typeof p.figure, "function");
    assert.equal(typeof p.describe, "function");
  }
});

test("panels read no globals, the DOM or fixed ids, and take colours only from the theme", () => {
  for (const file of readdirSync(PANEL_DIR)) {
    const src = readFileSync(join(PANEL_DIR, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    for (const bad of ["document", "window", "getElementById", "querySelector", "getComputedStyle", "localStorage", "Plotly"]) {
      assert.ok(!new RegExp(`\\b${bad}\\b`).test(src), `${file} uses ${bad}`);
    }
    assert.ok(!/#[0-9a-fA-F]{3,6}\b/.test(src), `${file} has a colour literal`);
  }
});

function views(trace) {
  const T = trace.T;
  return [forwardAt(0), forwardAt(2), forwardAt(T), backwardEnd(trace, { bstep: 0 }), backwardEnd(trace, { bstep: 2 }), backwardEnd(trace),
          backwardEnd(trace, { layer: 1, head: 1, unit: 2, loss: 1 })];
}

test("every applicable panel draws every fixture at every kind of view, in both languages", () => {
  for (const name of FIXTURES) {
    const trace = fetched(name);
    for (const [id, p] of Object.entries(panels)) {
      if (id === "compare" || !p.archs.includes(trace.meta.arch)) continue;
      for (const v of views(trace)) {
        for (const s of [ko, en]) {
          const fig = p.figure(trace, v, s, theme, BOX);
          if (fig.html !== undefined) assert.equal(typeof fig.html, "string");
          else {
            assert.ok(Array.isArray(fig.data) && fig.layout && typeof fig.layout === "object", `${id} ${name}`);
            assert.ok(!JSON.stringify(fig).includes("undefined"), `${id} ${name}: no undefined text`);
            for (const d of fig.data) if (d.x && d.y && !d.type) assert.equal(d.x.length, d.y.length, `${id} ${name} ${d.meta}`);
          }
          const line = p.describe(trace, v, s);
          assert.equal(typeof line, "string");
          assert.ok(!line.includes("undefined") && !line.includes("{"), `${id} ${name}: "${line}"`);
        }
      }
    }
  }
});

test("the keys change exactly when what a panel shows changes", () => {
  const trace = fetched("rnn-tanh");
  const hidden = panels.hidden;
  assert.equal(hidden.key(trace, backwardEnd(trace, { bstep: 1 })), hidden.key(trace, backwardEnd(trace, { bstep: 2 })));
  assert.notEqual(hidden.cursorKey(trace, backwardEnd(trace, { bstep: 1 })), hidden.cursorKey(trace, backwardEnd(trace, { bstep: 2 })));
  assert.notEqual(hidden.key(trace, forwardAt(1)), hidden.key(trace, forwardAt(2)));
  const clip = panels.clip;
  assert.equal(clip.key(trace, backwardEnd(trace, { bstep: 1 })), clip.key(trace, backwardEnd(trace, { bstep: 2 })));
});

// ---- grad-one-loss: the view that shows vanishing and exploding ----

test("grad-one-loss draws row t of G with the theory line ||dL_t/dh_t||·(γσ_max)^(t−s)", () => {
  const trace = fetched("rnn-relu"), p = panels["grad-one-loss"];
  const G = trace.summary.grad_flow, T = trace.T, eta = trace.summary.pascanu.decay_bound[0];
  const fig = p.figure(trace, backwardEnd(trace), ko, theme, BOX);
  const t = T - 2, grad = byMeta(fig, "grad"), theory = byMeta(fig, "theory");
  assert.equal(fig.layout.yaxis.type, "log");
  for (let s = 0; s < T; s++) assert.equal(grad.y[s], s <= t && G[t][s] > 0 ? G[t][s] : null);
  // the line where it is on the axis; a mark where it leaves
  let drawn = 0;
  for (let s = 0; s <= t; s++) {
    if (theory.y[s] === null) continue;
    drawn += 1;
    assert.ok(Math.abs(theory.y[s] - G[t][t] * eta ** (t - s)) <= 1e-9 * theory.y[s]);
    assert.ok(theory.y[s] >= G[t][s] * (1 - 1e-6), "the bound is above the gradient");
  }
  assert.ok(drawn >= 2);
  const [lo, hi] = fig.layout.yaxis.range;
  const finite = grad.y.filter((v) => v !== null).map(Math.log10);
  assert.ok(hi - lo < 1.3 * (Math.max(...finite) - Math.min(...finite)) + 0.5, "the axis spans the data, not the bound");
  const marks = byMeta(fig, "bound-clipped");
  assert.ok(marks && marks.x.length >= 1 && marks.x.length <= 2, "the bound leaves the axis once, marked");
  // a click on row 5 of the gradient-flow matrix picks loss 5; the theory restarts there
  const patch = panels["grad-flow"].click({ y: 5, x: 2 }, trace);
  assert.deepEqual(patch, { loss: 5 });
  const five = p.figure(trace, backwardEnd(trace, patch), ko, theme, BOX);
  assert.equal(byMeta(five, "grad").y[5], G[5][5]);
  assert.equal(byMeta(five, "grad").y[6], null);
  assert.match(p.describe(trace, backwardEnd(trace, { loss: 5, bstep: T - 2 }), ko), /^스텝 2 .*L₅에서 온 기울기가 .*(줄었습니다|커졌습니다)$/);
  assert.equal(panels["grad-flow"].click({ y: T - 1 }, trace), null, "the last step has no loss");
});

test("grad-one-loss names the missing theory for LSTM and GRU and stops at truncation cuts", () => {
  const lstm = panels["grad-one-loss"].figure(fetched("lstm"), backwardEnd(fetched("lstm")), ko, theme, BOX);
  assert.equal(byMeta(lstm, "theory-na").name, ko.theory_na_gated);  // a gated cell: no theory line, and why
  assert.equal(byMeta(lstm, "theory"), undefined);
  const cut = fetched("rnn-cut"), fig = panels["grad-one-loss"].figure(cut, backwardEnd(cut), ko, theme, BOX);
  const theory = byMeta(fig, "theory"), last = Math.max(...cut.summary.cuts);
  theory.y.forEach((v, s) => { if (s < last) assert.equal(v, null, `no theory before the cut at ${last}`); });
  const cutLines = fig.layout.shapes.filter((s) => s.type === "line" && s.line.color === theme.colour("cut"));
  assert.deepEqual(cutLines.map((s) => s.x0 + 0.5).sort(), cut.summary.cuts);
});

test("in the backward phase grad-one-loss fills in as the learner steps back", () => {
  const trace = fetched("rnn-tanh"), p = panels["grad-one-loss"];
  const y = (bstep) => byMeta(p.figure(trace, backwardEnd(trace, { bstep }), en, theme, BOX), "grad").y;
  assert.deepEqual(y(0), [null, null, null, null, null]);
  assert.equal(y(3).filter((v) => v !== null).length, 2);  // steps 2 and 3 of loss 3
});

// ---- exploding stays readable ----

test("grad-norm: relu with σ=3 keeps the axis on the data and clips the Pascanu bound with a mark", () => {
  const trace = fetched("rnn-relu"), fig = panels["grad-norm"].figure(trace, backwardEnd(trace), ko, theme, BOX);
  const data = byMeta(fig, "grad_h").y.filter((v) => v !== null);
  const [lo, hi] = fig.layout.yaxis.range;
  assert.ok(hi < Math.log10(Math.max(...data)) + 1, `axis top 10^${hi}, not the bound's ${Math.max(...trace.summary.pascanu.bound)}`);
  const bound = byMeta(fig, "bound");
  assert.ok(bound.y.some((v) => v === null) && bound.y.some((v) => v !== null), "partly drawn, partly clipped");
  const marks = byMeta(fig, "bound-clipped");
  assert.equal(marks.x.length, 1);
  assert.ok(marks.y[0] <= 10 ** hi && marks.y[0] >= 10 ** lo);
  const most = Math.max(...trace.summary.pascanu.bound.filter((v) => v > 10 ** hi));
  assert.equal(marks.name, `축 밖으로 나간 상한 (최대 ${short(most)})`);
});

test("overflow is named once, where it starts, in the page's language; finite steps stay drawn", () => {
  const trace = fetched("rnn-overflow");  // linear RNN, σ = 10: forward inf from step 46, backward from 50 going back
  const fwd = panels.hidden.figure(trace, forwardAt(trace.T), ko, theme, BOX);
  const warn = (fig) => (fig.layout.annotations || []).filter((a) => String(a.text).includes("⚠"));
  assert.equal(warn(fwd).length, 1);
  assert.equal(warn(fwd)[0].text, "⚠ 46 스텝부터 inf");
  assert.equal(panels.hidden.figure(trace, forwardAt(trace.T), en, theme, BOX).layout.annotations[0].text, "⚠ inf from step 46 on");
  const z = fwd.data[0].z;
  assert.ok(z[0].slice(0, 46).every((v) => v !== null), "the finite steps before it are drawn");
  const back = panels["grad-norm"].figure(trace, backwardEnd(trace), ko, theme, BOX);
  assert.equal(warn(back).length, 1);
  assert.match(warn(back)[0].text, /50 스텝부터 inf/);
  const strip = panels.strip.figure(trace, backwardEnd(trace), ko, theme, BOX);
  const texts = strip.data.flatMap((d) => (Array.isArray(d.text) ? d.text : [])).concat((strip.layout.annotations || []).map((a) => a.text));
  assert.equal(texts.filter((t) => String(t).includes("⚠")).length, 1, "one ⚠ on the strip, not one per step");
  // the losses before the overflow still have their finite gradient-from-one-loss rows
  const one = panels["grad-one-loss"].figure(trace, backwardEnd(trace, { loss: 40 }), ko, theme, BOX);
  assert.equal(byMeta(one, "grad").y.filter((v) => v !== null).length, 41);
  // by default it follows the last loss whose own gradient is finite (L₅₀ overflowed), not an empty row
  const byDefault = panels["grad-one-loss"].figure(trace, backwardEnd(trace), ko, theme, BOX);
  assert.equal(byMeta(byDefault, "grad").name, "‖∂L₄₅/∂hₛ‖");
  assert.ok(byMeta(byDefault, "grad").y.filter((v) => v !== null).length >= 40);
  // a panel whose every value is inf/NaN says so instead of drawing an empty axis
  assert.ok(back.layout.annotations.some((a) => a.text.replaceAll("<br>", " ") === ko.overflow_all), "wrapped to the plot's width");
  assert.equal(back.layout.yaxis.visible, false);
});

// ---- bptt-terms ----

test("bptt-terms draws the own-loss and the carried part, and says when the trace lacks them", () => {
  const trace = streamed("rnn-tanh"), p = panels["bptt-terms"], T = trace.T, G = trace.summary.grad_flow;
  // the stream's backward event carries both parts as lists per layer, like grad_h
  const split = p.figure(trace, backwardEnd(trace, { bstep: 2 }), ko, theme, BOX);
  assert.equal(split.note, "");
  const local = byMeta(split, "local").y, future = byMeta(split, "future").y;
  assert.equal(local[T - 2], trace.back[T - 2].grad_h_local[1] || null);
  assert.equal(future[T - 2], trace.back[T - 2].grad_h_future[1] || null);
  assert.equal(future[T - 3], null, "not reached yet");
  // the own-loss part of the top layer is the diagonal of the gradient-flow matrix
  for (let t = 0; t < T - 1; t++) assert.ok(Math.abs(trace.back[t].grad_h_local[1] - G[t][t]) <= 1e-5 * G[t][t], `t=${t}`);
  // the triangle inequality: the total is at most the sum of the parts' norms
  for (const b of trace.back) assert.ok(b.grad_h[1] <= (b.grad_h_local[1] + b.grad_h_future[1]) * (1 + 1e-6));
  assert.match(p.describe(trace, backwardEnd(trace, { bstep: 2 }), ko), /이 스텝 손실의 몫 .*미래에서 온 몫/);
  // an older server without the two fields: the own part from G's diagonal, and a note
  for (const b of trace.back) { delete b.grad_h_local; delete b.grad_h_future; }
  const plain = p.figure(trace, backwardEnd(trace), en, theme, BOX);
  assert.equal(plain.note, en.bptt_terms_missing);
  assert.deepEqual(byMeta(plain, "local").y.slice(0, 4), [0, 1, 2, 3].map((t) => G[t][t]));
  assert.equal(byMeta(plain, "future"), undefined);
});

// ---- the equation panel: numbers from the weights equal the trace's own ----

test("equation: every gate, c and h computed from the weights equal the trace, every step, layer and unit", () => {
  const p = panels.equation;
  for (const name of ["rnn-tanh", "rnn-relu", "lstm", "gru"]) {
    const trace = fetched(name);
    const { H, L } = p.sizes(trace);
    let checked = 0;
    for (let t = 0; t < trace.T; t++) {
      for (let layer = 0; layer < L; layer++) {
        for (let j = 0; j < H; j++) {
          const eq = p.cellEquations(trace, t, layer, j);
          const names = eq.rows.map((r) => r.name);
          const want = { rnn: ["h"], lstm: [...trace.meta.gates, "c", "h"], gru: [...trace.meta.gates, "h"] }[trace.meta.arch];
          assert.deepEqual(names, want);
          for (const r of eq.rows) {
            assert.ok(Math.abs(r.value - r.trace) <= 2e-5, `${name} t=${t} l=${layer} j=${j} ${r.name}: ${r.value} vs ${r.trace}`);
            if (r.pre !== undefined) assert.ok(Math.abs(r.terms.reduce((a, x) => a + x.value, 0) - r.pre) < 1e-12);
            checked += 1;
          }
        }
      }
    }
    assert.ok(checked >= trace.T * H * L);
  }
});

test("equation: the one-hot input is a column of W_ih, and the html shows both numbers with ✓", () => {
  const trace = fetched("lstm"), p = panels.equation;
  const eq = p.cellEquations(trace, 2, 0, 1);
  const i = eq.rows[0], H = p.sizes(trace).H;
  assert.equal(i.terms[0].value, trace.params.weight_ih_l0[1][trace.meta.tokens[2]]);
  assert.equal(i.terms[1].value, trace.params.bias_ih_l0[1]);
  const f = eq.rows[1];
  assert.equal(f.terms[0].value, trace.params.weight_ih_l0[H + 1][trace.meta.tokens[2]], "f is the second row block");
  const { html } = p.figure(trace, forwardAt(3, { unit: 1 }), ko, theme, BOX);
  assert.equal((html.match(/✓/g) || []).length, 6, "i f g o c h all agree");
  assert.ok(!html.includes("≠"));
  assert.match(html, /data-view="unit"/);
  const gru = fetched("gru");
  const n = p.cellEquations(gru, 3, 1, 0).rows.find((r) => r.name === "n");
  assert.match(n.terms[2].label, /r ⊙ \(W_hn/);
  const streamedOnly = streamed("lstm");  // no weights yet: it says so
  assert.match(p.figure(streamedOnly, forwardAt(2), ko, theme, BOX).html, new RegExp(ko.eq_loading));
  const back = p.figure(trace, backwardEnd(trace, { bstep: 2 }), ko, theme, BOX).html;
  assert.match(back, /∂L₃\/∂h₃/);
  assert.ok(!back.includes(ko.bptt_terms_missing), "the trace has both terms");
});

// ---- words ----

test("the clip threshold and every label are in the page's language", () => {
  const trace = fetched("rnn-tanh");
  trace.summary = { ...trace.summary, clip_mode: "norm", clip_threshold: 1 };
  const fig = panels.clip.figure(trace, backwardEnd(trace), ko, theme, BOX);
  assert.ok(fig.layout.annotations.some((a) => a.text === "임계값 1 (노름 기준)"));
  assert.ok(!JSON.stringify(fig).includes("(norm)"));
});

test("every string a panel or page asks for exists in both languages, and Korean uses the students' words", () => {
  const files = [...[...BENCH_PANELS, "common"].map((id) => join(PANEL_DIR, `${id}.js`)), join(ROOT, "static", "js", "pages", "bench.js")];
  const keys = new Set();
  for (const file of files) {
    const src = readFileSync(file, "utf8");
    for (const m of src.matchAll(/strings\.(\w+)|\bt\.(\w+)|strings\["(\w+)"\]/g)) keys.add(m[1] || m[2] || m[3]);
    for (const m of src.matchAll(/"(describe_\w+|overflow_from_\w+|theory_na_\w+)"/g)) keys.add(m[1]);
  }
  for (const k of keys) {
    assert.ok(k in ko, `ko lacks ${k}`);
    assert.ok(k in en, `en lacks ${k}`);
  }
  assert.deepEqual(Object.keys(ko).sort(), Object.keys(en).sort());
  const text = JSON.stringify(ko);
  assert.ok(!/자르|자름|자른/.test(text), "truncation is 'truncated BPTT', never 자르기");
  assert.ok(text.includes("기울기 소실") && text.includes("기울기 폭발"));
  assert.ok(text.includes("노름 기준") && text.includes("값 기준"));
});

test("the compare panel draws the four curves and the RNN's theory line, clipped to the axis", async () => {
  const summaries = {};
  for (const [arch, name] of [["rnn", "rnn-relu"], ["lstm", "lstm"], ["gru", "gru"], ["transformer", "transformer"]]) {
    summaries[arch] = fixture(name).events.find(([n]) => n === "summary")[1];
  }
  const src = new CompareSource({ arch: "lstm", text: "x" });
  const trace = { ...src.trace, summaries, ready: true, done: true };
  const fig = panels.compare.figure(trace, forwardAt(0), ko, theme, BOX);
  // no summary for the simplified GRU here: it is listed, marked unavailable
  assert.deepEqual(fig.data.slice(0, 5).map((d) => d.meta), ["rnn", "lstm", "gru", "sgru", "transformer"]);
  assert.equal(fig.layout.yaxis.type, "log");
  assert.ok(byMeta(fig, "theory"));
  assert.match(panels.compare.describe(trace, forwardAt(0), ko), /^거리 d = \d+에서:/);
});

test("probs: a large vocabulary shows the most likely characters and always the true next one", async () => {
  const { shownIndices } = await import("../../static/js/panels/probs.js");
  const small = [0.5, 0.3, 0.2];
  assert.deepEqual(shownIndices(small, 2), [0, 1, 2], "a small vocabulary keeps its order");
  const big = Array.from({ length: 840 }, (_, i) => (i === 7 ? 0.5 : i === 500 ? 1e-9 : 1 / (i + 10)));
  const shown = shownIndices(big, 500);
  assert.equal(shown.length, 24);
  assert.equal(shown[0], 7, "most likely first");
  assert.ok(shown.includes(500), "the target, far down the ranking, still gets its bar");
  assert.equal(new Set(shown).size, 24);
  const noTarget = shownIndices(big, -1);
  assert.equal(noTarget.length, 24);
});
