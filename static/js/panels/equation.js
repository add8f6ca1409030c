/* The cell's equations for the current step and one unit j (view.unit), with the numbers filled in,
   computed here from the trace's weights (trace.params, torch.nn names) and its previous state, next to
   the trace's own value. Tokens enter one-hot, so in layer 0 (W_ih x_t)_j = W_ih[j, token_t].

     Elman  h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
     LSTM   i, f, g, o = σ, σ, tanh, σ of (W_i* x_t + b_i* + W_h* h_{t-1} + b_h*), rows in torch's order
            c_t = f ⊙ c_{t-1} + i ⊙ g,  h_t = o ⊙ tanh(c_t)
     GRU    r, z = σ(W_i* x_t + b_i* + W_h* h_{t-1} + b_h*)
            n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t-1} + b_hn)),  h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}
     sGRU   u, n = σ, tanh of (W_i* x_t + b_i* + W_h* h_{t-1} + b_h*),  h_t = u ⊙ n + (1 - u) ⊙ h_{t-1}
            (the simplified GRU: one update gate u, no reset gate; its state c_t is h_t)

   In the backward phase: the BPTT step dL/dh_t = ∂L_t/∂h_t + (∂h_{t+1}/∂h_t)ᵀ dL/dh_{t+1} with the norm
   of each term. Returns { html }; its unit and layer pickers carry data-view, which core/figure.js wires. */

import { escapeHtml, fmt, isNum, num, short } from "../core/format.js";
import { unitOf } from "../core/view.js";
import { RECURRENT, currentStep, progress, shown, sub, tokenLabel } from "./common.js";

export const id = "equation";
export const reads = ["meta", "steps", "back", "params"];
export const archs = RECURRENT;
export const inputs = ["chars"];  // layer 0 reads W_ih's column for the token (one-hot input)

const sigmoid = (x) => 1 / (1 + Math.exp(-x));
const relu = (x) => Math.max(0, x);
export const ACTIVATIONS = { tanh: Math.tanh, relu, sigmoid, linear: (x) => x };
const ACT_SYMBOL = { tanh: "tanh", relu: "relu", sigmoid: "σ", linear: "" };
const GATE_ACT = { i: "sigmoid", f: "sigmoid", g: "tanh", o: "sigmoid", r: "sigmoid", z: "sigmoid", u: "sigmoid", n: "tanh" };
const GATE_COLOUR = { i: "gate-i", f: "gate-f", g: "candidate", o: "gate-o", r: "gate-r", z: "gate-z", u: "gate-u", n: "candidate" };

export function key(trace, view) {
  const t = currentStep(view, trace);
  return `${progress(trace)}|${view.phase}|${t}|${view.layer}|${view.unit}|${shown(view, trace).nb}`;
}

function dot(w, x) {
  let s = 0;
  for (let k = 0; k < w.length; k++) s += w[k] * x[k];
  return s;
}

export function sizes(trace) {
  const p = trace.params;
  const H = p.weight_hh_l0[0].length;
  let L = 0;
  while (p[`weight_hh_l${L}`]) L += 1;
  return { H, L };
}

/* (W_ih x_t)_row: a column of W_ih in layer 0 (one-hot input), a dot product with the layer below's h. */
function inputTerm(trace, t, layer, row) {
  const W = trace.params[`weight_ih_l${layer}`];
  if (layer === 0) return W[row][trace.meta.tokens[t]];
  return dot(W[row], trace.steps[t].h[layer - 1]);
}

function recurrentTerm(trace, t, layer, row) {
  if (t === 0) return 0;  // h_{-1} = 0
  return dot(trace.params[`weight_hh_l${layer}`][row], trace.steps[t - 1].h[layer]);
}

/* One affine pre-activation, term by term: [x part, b_ih, h part, b_hh]. */
function affine(trace, t, layer, row) {
  const p = trace.params;
  return [inputTerm(trace, t, layer, row), p[`bias_ih_l${layer}`][row], recurrentTerm(trace, t, layer, row), p[`bias_hh_l${layer}`][row]];
}

const sum = (xs) => xs.reduce((a, x) => a + x, 0);

/* The numbers of the forward equations at step t, layer, unit j:
   { arch, rows: [{ name, act, terms: [{ label, value, detail? }], pre, value, trace }] }.
   `value` is computed from the weights; `trace` is the trace's own number for the same quantity. */
export function cellEquations(trace, t, layer, j) {
  const arch = trace.meta.arch, { H } = sizes(trace), step = trace.steps[t];
  const prevH = t > 0 ? trace.steps[t - 1].h[layer][j] : 0;
  const x = layer === 0 ? "xₜ" : `h⁽${layer - 1}⁾ₜ`;
  const rows = [];
  if (arch === "rnn") {
    const act = trace.meta.knobs.activation || "tanh";
    const terms = affine(trace, t, layer, j);
    const pre = sum(terms);
    rows.push({ name: "h", act, pre, value: ACTIVATIONS[act](pre), trace: step.h[layer][j],
                terms: labelled(terms, ["W_ih", "b_ih", "W_hh", "b_hh"], x, layer === 0 ? column(trace, t, j) : null) });
    return { arch, rows };
  }
  const gates = trace.meta.gates;  // torch's row-block order: LSTM i f g o, GRU r z n, simplified GRU u n
  const value = {};
  gates.forEach((g, k) => {
    const row = k * H + j;
    let terms = affine(trace, t, layer, row);
    const names = [`W_i${g}`, `b_i${g}`, `W_h${g}`, `b_h${g}`];
    let display = labelled(terms, names, x, layer === 0 ? column(trace, t, j) : null);
    if (arch === "gru" && g === "n") {  // n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
      const r = value.r, inner = terms[2] + terms[3];
      display = [display[0], display[1], { label: `r ⊙ (W_hn hₜ₋₁ + b_hn)`, value: r * inner, detail: `${num(r, 4)} × ${num(inner, 4)}` }];
      terms = [terms[0], terms[1], r * inner];
    }
    const pre = sum(terms);
    value[g] = ACTIVATIONS[GATE_ACT[g]](pre);
    rows.push({ name: g, act: GATE_ACT[g], pre, value: value[g], trace: step.gates[g][layer][j], terms: display });
  });
  if (arch === "lstm") {
    const prevC = t > 0 ? trace.steps[t - 1].c[layer][j] : 0;
    const c = value.f * prevC + value.i * value.g;
    rows.push({ name: "c", act: null, value: c, trace: step.c[layer][j], terms: [
      { label: "f ⊙ cₜ₋₁", value: value.f * prevC, detail: `${num(value.f, 4)} × ${num(prevC, 4)}` },
      { label: "i ⊙ g", value: value.i * value.g, detail: `${num(value.i, 4)} × ${num(value.g, 4)}` }] });
    rows.push({ name: "h", act: null, value: value.o * Math.tanh(c), trace: step.h[layer][j], terms: [
      { label: "o ⊙ tanh(cₜ)", value: value.o * Math.tanh(c), detail: `${num(value.o, 4)} × tanh(${num(c, 4)})` }] });
  } else if (arch === "sgru") {
    const h = value.u * value.n + (1 - value.u) * prevH;
    rows.push({ name: "h", act: null, value: h, trace: step.h[layer][j], terms: [
      { label: "u ⊙ n", value: value.u * value.n, detail: `${num(value.u, 4)} × ${num(value.n, 4)}` },
      { label: "(1 − u) ⊙ hₜ₋₁", value: (1 - value.u) * prevH, detail: `(1 − ${num(value.u, 4)}) × ${num(prevH, 4)}` }] });
  } else {
    const h = (1 - value.z) * value.n + value.z * prevH;
    rows.push({ name: "h", act: null, value: h, trace: step.h[layer][j], terms: [
      { label: "(1 − z) ⊙ n", value: (1 - value.z) * value.n, detail: `(1 − ${num(value.z, 4)}) × ${num(value.n, 4)}` },
      { label: "z ⊙ hₜ₋₁", value: value.z * prevH, detail: `${num(value.z, 4)} × ${num(prevH, 4)}` }] });
  }
  return { arch, rows };
}

/* In layer 0 the input is one-hot: its term is one entry of W_ih, row j, the token's column. */
function column(trace, t, j) {
  return `[${j}, ‘${tokenLabel(trace, t)}’]`;
}

function labelled(terms, names, x, onehot) {
  return [
    { label: `(${names[0]} ${x})ⱼ`, value: terms[0], detail: onehot ? `= ${names[0]}${onehot}` : undefined },
    { label: `${names[1]}ⱼ`, value: terms[1] },
    { label: `(${names[2]} hₜ₋₁)ⱼ`, value: terms[2] },
    { label: `${names[3]}ⱼ`, value: terms[3] },
  ];
}

/* The BPTT step at t for one layer: norms of the total and its two terms (future: null if not sent). */
export function bpttStep(trace, t, layer) {
  const b = trace.back[t];
  const pick = (arr) => (Array.isArray(arr) ? arr[Math.min(layer, arr.length - 1)] : null);
  const split = Array.isArray(b.grad_h_local) && Array.isArray(b.grad_h_future);
  const L = b.grad_h.length, isTop = layer >= L - 1;
  return {
    total: pick(b.grad_h),
    local: split ? pick(b.grad_h_local) : isTop ? b.grad_flow_from[t] : null,
    future: split ? pick(b.grad_h_future) : null,
    split,
  };
}

const agree = (a, b) => isNum(a) && isNum(b) && Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b));

function pickers(trace, view, strings) {
  const { H, L } = sizes(trace), j = unitOf(view, H);
  const opts = (n, sel) => Array.from({ length: n }, (_, i) => `<option value="${i}"${i === sel ? " selected" : ""}>${i}</option>`).join("");
  let html = `<label class="inline">${escapeHtml(strings.select_unit)} <select data-view="unit" class="eq-unit">${opts(H, j)}</select></label>`;
  if (L > 1) html += ` <label class="inline">${escapeHtml(strings.select_layer)} <select data-view="layer" class="eq-layer">${opts(L, Math.min(view.layer, L - 1))}</select></label>`;
  return html;
}

function termsHtml(terms) {
  return terms.map((x, i) => {
    const v = `<span class="eq-num">${escapeHtml(num(x.value, 4))}</span>`;
    const label = `<span class="eq-term">${escapeHtml(x.label)}</span>`;
    const detail = x.detail ? `<span class="eq-detail">${escapeHtml(x.detail)}</span>` : "";
    return `${i ? '<span class="eq-op">+</span>' : ""}<span class="eq-part">${label}${detail}${v}</span>`;
  }).join(" ");
}

function rowHtml(r, theme, strings, t) {
  const colour = theme.colour(r.name === "h" ? "hidden" : r.name === "c" ? "cell" : GATE_COLOUR[r.name] || "ink");
  const name = `${r.name}${sub(t)}`;
  const act = r.act ? (ACT_SYMBOL[r.act] ?? r.act) : "";
  const lhs = `<span class="eq-name" style="color:${escapeHtml(colour)}">${escapeHtml(name)}</span>`;
  const inner = termsHtml(r.terms);
  const op = (text) => `<span class="eq-op">${escapeHtml(text)}</span>`;
  const body = act ? `${op(`${act}(`)}${inner}${op(")")} ${op("=")} ${op(`${act}(`)}<span class="eq-num eq-act">${escapeHtml(num(r.pre, 4))}</span>${op(")")}` : inner;
  const ok = agree(r.value, r.trace);
  const check = `<span class="eq-check${ok ? " ok" : " off"}">${escapeHtml(strings.eq_trace)} ${escapeHtml(num(r.trace, 4))} ${ok ? "✓" : "≠"}</span>`;
  return `<div class="eq-row" data-name="${escapeHtml(r.name)}">${lhs} <span class="eq-op">=</span> ${body} <span class="eq-op">=</span> `
    + `<b class="eq-result" data-value="${r.value}">${escapeHtml(num(r.value, 4))}</b> ${check}</div>`;
}

export function figure(trace, view, strings, theme) {
  const t = currentStep(view, trace);
  if (!RECURRENT.includes(trace.meta.arch)) return { html: `<p class="eq-wait">${escapeHtml(strings.not_recurrent)}</p>` };
  if (!trace.params) return { html: `<p class="eq-wait">${escapeHtml(strings.eq_loading)}</p>` };
  const { H, L } = sizes(trace), j = unitOf(view, H), layer = Math.min(view.layer, L - 1);
  const head = `<div class="eq-pick">${pickers(trace, view, strings)}</div>`;
  if (t < 0) return { html: `${head}<p class="eq-wait">${escapeHtml(view.phase === "backward" ? strings.backward_wait : strings.status_none)}</p>` };
  const where = `<p class="eq-where">${escapeHtml(fmt(strings.eq_where, { t, ch: tokenLabel(trace, t), j, layer }))}</p>`;
  if (view.phase === "backward") {
    const s = bpttStep(trace, t, layer);
    const hs = `h${sub(t)}`, hn = `h${sub(t + 1)}`;
    const rows = [
      `<div class="eq-symbolic">dL/d${hs} = ∂L${sub(t)}/∂${hs} + (∂${hn}/∂${hs})ᵀ dL/d${hn}</div>`,
      `<div class="eq-row"><span class="eq-name" style="color:${escapeHtml(theme.colour("gradient"))}">‖dL/d${hs}‖</span> <span class="eq-op">=</span> <b class="eq-result">${escapeHtml(short(s.total))}</b></div>`,
      `<div class="eq-row"><span class="eq-name" style="color:${escapeHtml(theme.colour("grad-local"))}">‖∂L${sub(t)}/∂${hs}‖</span> <span class="eq-op">=</span> <b class="eq-result">${escapeHtml(s.local === null ? "—" : short(s.local))}</b> <span class="eq-detail">${escapeHtml(strings.grad_local)}</span></div>`,
      `<div class="eq-row"><span class="eq-name" style="color:${escapeHtml(theme.colour("grad-future"))}">‖(∂${hn}/∂${hs})ᵀ dL/d${hn}‖</span> <span class="eq-op">=</span> <b class="eq-result">${escapeHtml(s.future === null ? "—" : short(s.future))}</b> <span class="eq-detail">${escapeHtml(strings.grad_future)}</span></div>`,
    ];
    if (!s.split) rows.push(`<p class="eq-note">${escapeHtml(strings.bptt_terms_missing)}</p>`);
    if (t === trace.T - 1) rows.push(`<p class="eq-note">${escapeHtml(strings.eq_last_step)}</p>`);
    return { html: `${head}${where}<div class="eq eq-backward">${rows.join("")}</div>` };
  }
  const eq = cellEquations(trace, t, layer, j);
  const symbolic = `<div class="eq-symbolic">${escapeHtml(strings[`eq_symbolic_${eq.arch}`] || "")}</div>`;
  return { html: `${head}${where}${symbolic}<div class="eq eq-forward" data-arch="${eq.arch}">${eq.rows.map((r) => rowHtml(r, theme, strings, t)).join("")}</div>` };
}

export function describe(trace, view, strings) {
  const t = currentStep(view, trace);
  if (!trace.params || t < 0 || !RECURRENT.includes(trace.meta.arch)) return "";
  const { H, L } = sizes(trace), j = unitOf(view, H), layer = Math.min(view.layer, L - 1);
  if (view.phase === "backward") {
    const s = bpttStep(trace, t, layer);
    return fmt(strings.describe_equation_backward, { t, total: short(s.total), local: short(s.local), future: short(s.future) });
  }
  const h = cellEquations(trace, t, layer, j).rows.find((r) => r.name === "h");
  return fmt(strings.describe_equation, { t, ch: tokenLabel(trace, t), j, v: num(h.value, 4), tv: num(h.trace, 4) });
}

