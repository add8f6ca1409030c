/* The LSTM cell as a diagram for the current step and one unit j (view.unit, the equation panel's picker),
   or the mean over the layer's units (view.unit = MEAN_UNIT: each number is the mean of the units' own):
   the cell state c runs along the top as the conveyor belt, multiplied by the forget gate f (⊗) and then
   added to i ⊙ g (⊕); below it the four gates i, f, g, o in torch's order and h_t = o ⊙ tanh(c_t).
   Every number is the trace's own value for this step (steps[t].gates, steps[t].c, steps[t].h), the
   products and the sum are computed here from them. Returns { html } with an inline SVG; colours are the
   concept colours of static/css/concepts.css through the theme (style attributes, which the CSP allows). */

import { escapeHtml, fmt, num } from "../core/format.js";
import { MEAN_UNIT, unitOf } from "../core/view.js";
import { currentStep, layerOf, progress, shown, sub, tokenLabel } from "./common.js";

export const id = "lstm-cell";
export const reads = ["meta", "steps"];
export const archs = ["lstm"];

export function key(trace, view) {
  return `${progress(trace)}|${view.phase}|${currentStep(view, trace)}|${view.layer}|${view.unit}|${shown(view, trace).nb}`;
}

const H_OF = (trace) => (trace.meta.state_shape ? trace.meta.state_shape[1] : 0);
const L_OF = (trace) => (trace.meta.state_shape ? trace.meta.state_shape[0] : 0);

/* The numbers of the cell at step t, layer, unit j: { f, i, g, o, cPrev, c, h, keep, write, tanhC }.
   keep = f ⊙ c_{t−1} (what the belt carries on), write = i ⊙ g (what is added), c = keep + write.
   j = MEAN_UNIT: each number is the mean over the layer's units of that unit's number (so keep + write = c
   still holds; o · tanh(c) = h holds per unit, not for the means). */
export function cellValues(trace, t, layer, j) {
  if (j === MEAN_UNIT) return meanValues(trace, t, layer);
  const s = trace.steps[t], prev = t > 0 ? trace.steps[t - 1] : null;
  const gate = (g) => layerOf(s.gates[g], layer)[j];
  const f = gate("f"), i = gate("i"), g = gate("g"), o = gate("o");
  const cPrev = prev ? layerOf(prev.c, layer)[j] : 0;  // c_{−1} = 0
  const c = layerOf(s.c, layer)[j], h = layerOf(s.h, layer)[j];
  const ok = [f, i, g, o, cPrev, c, h].every((v) => v !== null && Number.isFinite(v));
  return { f, i, g, o, cPrev, c, h, keep: ok ? f * cPrev : null, write: ok ? i * g : null, tanhC: ok ? Math.tanh(c) : null };
}

function meanValues(trace, t, layer) {
  const units = Array.from({ length: H_OF(trace) }, (_, j) => cellValues(trace, t, layer, j));
  const mean = (k) => (units.every((u) => u[k] !== null && Number.isFinite(u[k]))
    ? units.reduce((sum, u) => sum + u[k], 0) / units.length : null);
  return Object.fromEntries(Object.keys(units[0]).map((k) => [k, mean(k)]));
}

function pickers(trace, view, strings) {
  const H = H_OF(trace), L = L_OF(trace), j = unitOf(view, H, { mean: true });
  const opts = (n, sel) => Array.from({ length: n }, (_, k) => `<option value="${k}"${k === sel ? " selected" : ""}>${k}</option>`).join("");
  const mean = `<option value="${MEAN_UNIT}"${j === MEAN_UNIT ? " selected" : ""}>${escapeHtml(strings.select_unit_mean)}</option>`;
  let html = `<label class="inline">${escapeHtml(strings.select_unit)} <select data-view="unit" class="eq-unit">${opts(H, j)}${mean}</select></label>`;
  if (L > 1) html += ` <label class="inline">${escapeHtml(strings.select_layer)} <select data-view="layer" class="eq-layer">${opts(L, Math.min(view.layer, L - 1))}</select></label>`;
  return html;
}

const txt = (x, y, text, cls, colour, anchor = "middle") =>
  `<text x="${x}" y="${y}" text-anchor="${anchor}" class="${cls}"${colour ? ` style="fill:${escapeHtml(colour)}"` : ""}>${escapeHtml(text)}</text>`;
const line = (x1, y1, x2, y2, colour, cls = "lc-wire") =>
  `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" class="${cls}" style="stroke:${escapeHtml(colour)}"/>`;

/* One gate box: its name, its activation, its value, a bar of its value (gates 0..1, g −1..1). */
function gateBox(x, y, name, act, value, colour) {
  const w = 92, hgt = 66, signed = name === "g";
  const frac = value === null ? 0 : signed ? Math.abs(value) : value;
  const bar = `<rect x="${x - w / 2 + 6}" y="${y + hgt / 2 - 12}" width="${Math.max(0, Math.min(1, frac)) * (w - 12)}" height="6" style="fill:${escapeHtml(colour)}"/>`;
  return `<g class="lc-gate" data-gate="${name}"><rect x="${x - w / 2}" y="${y - hgt / 2}" width="${w}" height="${hgt}" rx="8" class="lc-box" style="stroke:${escapeHtml(colour)}"/>`
    + txt(x, y - 10, `${name} · ${act}`, "lc-name", colour) + txt(x, y + 12, num(value, 3), "lc-num", null) + bar + "</g>";
}

export function figure(trace, view, strings, theme) {
  const t = currentStep(view, trace);
  if (trace.meta.arch !== "lstm") return { html: `<p class="eq-wait">${escapeHtml(strings.lstm_cell_only)}</p>` };
  const head = `<div class="eq-pick">${pickers(trace, view, strings)}</div>`;
  if (t < 0 || !trace.steps[t]) return { html: `${head}<p class="eq-wait">${escapeHtml(strings.status_none)}</p>` };
  const H = H_OF(trace), L = L_OF(trace), j = unitOf(view, H, { mean: true }), layer = Math.min(view.layer, L - 1);
  const v = cellValues(trace, t, layer, j);
  const C = (n) => theme.colour(n);
  const cell = C("cell"), ink = C("muted");
  const beltY = 60, mulX = 150, addX = 375, iX = 300, gX = 450, outX = 600, gateY = 220;
  const parts = [
    // the conveyor belt: c_{t−1} → × f → + i⊙g → c_t
    `<rect x="20" y="${beltY - 14}" width="${outX + 40}" height="28" rx="14" class="lc-belt" style="fill:${escapeHtml(cell)}"/>`,
    txt(20, beltY - 24, `c${sub(Math.max(0, t - 1))}${t === 0 ? " = 0" : ""}`, "lc-label", cell, "start"),
    txt(70, beltY + 5, num(v.cPrev, 3), "lc-belt-num", null),
    txt(mulX + 110, beltY - 24, strings.lstm_belt, "lc-label", cell),
    `<circle cx="${mulX}" cy="${beltY}" r="20" class="lc-op" style="stroke:${escapeHtml(C("gate-f"))}"/>`, txt(mulX, beltY + 7, "×", "lc-op-sym", C("gate-f")),
    txt(mulX + 70, beltY + 5, num(v.keep, 3), "lc-belt-num", null),
    `<circle cx="${addX}" cy="${beltY}" r="20" class="lc-op" style="stroke:${escapeHtml(C("candidate"))}"/>`, txt(addX, beltY + 7, "+", "lc-op-sym", C("candidate")),
    txt(outX - 90, beltY + 5, num(v.c, 3), "lc-belt-num", null),
    txt(outX + 60, beltY - 24, `c${sub(t)}`, "lc-label", cell, "end"),
    // wires from the gates up to the belt
    line(mulX, gateY - 33, mulX, beltY + 20, C("gate-f")),
    txt(mulX + 10, 130, `f⊙c${sub(Math.max(0, t - 1))}`, "lc-small", C("gate-f"), "start"),
    line(addX, 124, addX, beltY + 20, C("candidate")),
    `<circle cx="${addX}" cy="140" r="16" class="lc-op" style="stroke:${escapeHtml(C("candidate"))}"/>`, txt(addX, 146, "×", "lc-op-sym", C("candidate")),
    txt(addX + 22, 118, `i⊙g = ${num(v.write, 3)}`, "lc-small", C("candidate"), "start"),
    line(iX, gateY - 33, addX - 12, 150, C("gate-i")), line(addX + 12, 150, gX, gateY - 33, C("candidate")),
    // the output: h_t = o ⊙ tanh(c_t)
    line(outX, beltY + 14, outX, 150, cell), txt(outX + 8, 112, `tanh = ${num(v.tanhC, 3)}`, "lc-small", ink, "start"),
    `<circle cx="${outX}" cy="166" r="16" class="lc-op" style="stroke:${escapeHtml(C("gate-o"))}"/>`, txt(outX, 172, "×", "lc-op-sym", C("gate-o")),
    line(outX, gateY - 33, outX, 182, C("gate-o")),
    line(outX + 16, 166, 740, 166, C("hidden")), txt(740, 156, `h${sub(t)} = ${num(v.h, 3)}`, "lc-label", C("hidden"), "end"),
    gateBox(mulX, gateY, "f", "σ", v.f, C("gate-f")),
    gateBox(iX, gateY, "i", "σ", v.i, C("gate-i")),
    gateBox(gX, gateY, "g", "tanh", v.g, C("candidate")),
    gateBox(outX, gateY, "o", "σ", v.o, C("gate-o")),
    txt(20, gateY + 62, fmt(strings.lstm_cell_eq, { t: sub(t), tp: sub(Math.max(0, t - 1)) }), "lc-small", ink, "start"),
  ];
  const where = `<p class="eq-where">${escapeHtml(fmt(j === MEAN_UNIT ? strings.eq_where_mean : strings.eq_where,
                                                        { t, ch: tokenLabel(trace, t), j, H, layer }))}</p>`;
  const svg = `<svg class="lstm-cell" viewBox="0 0 760 296" role="img" aria-label="${escapeHtml(describe(trace, view, strings))}">${parts.join("")}</svg>`;
  return { html: `${head}${where}${svg}` };
}

export function describe(trace, view, strings) {
  const t = currentStep(view, trace);
  if (trace.meta.arch !== "lstm" || t < 0 || !trace.steps[t]) return strings.status_none;
  const H = H_OF(trace), L = L_OF(trace), j = unitOf(view, H, { mean: true }), layer = Math.min(view.layer, L - 1);
  const v = cellValues(trace, t, layer, j);
  return fmt(j === MEAN_UNIT ? strings.describe_lstm_cell_mean : strings.describe_lstm_cell, { t, H, ch: tokenLabel(trace, t), j, f: num(v.f, 3), i: num(v.i, 3), g: num(v.g, 3), o: num(v.o, 3),
                                           cp: num(v.cPrev, 3), c: num(v.c, 3), h: num(v.h, 3) });
}
