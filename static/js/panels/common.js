/* What several panels share: layouts, the token axis, cuts, the current step, overflow marks.
   Pure functions of (trace, view, strings, theme, box); no DOM. */

import { fmt, isNum, rgba, showChar, wrap } from "../core/format.js";
import { currentStep, lossIndex as viewLoss, revealed, shown } from "../core/view.js";

export const RECURRENT = ["rnn", "lstm", "gru", "sgru"];
export const ALL = ["rnn", "lstm", "gru", "sgru", "transformer"];

const SUB = "₀₁₂₃₄₅₆₇₈₉";
/* 29 -> "₂₉" (subscript digits, for L₂₉ and h₃ in one-line texts) */
export function sub(n) {
  return String(n).replace(/\d/g, (d) => SUB[d]).replace("-", "₋");
}

/* What of the trace has arrived: panels put this in their keys. */
export function progress(trace) {
  return `${trace.T}.${trace.nSteps}.${trace.nBack}.${trace.summary ? 1 : 0}.${trace.params ? 1 : 0}.${trace.done ? 1 : 0}`;
}

export function baseLayout(theme, extra) {
  return Object.assign({
    font: { size: theme.font.size, color: theme.font.color, family: theme.font.family },
    margin: { l: 70, r: 20, t: 16, b: 56 },
    paper_bgcolor: theme.colour("paper"), plot_bgcolor: theme.colour("paper"),
    showlegend: false,
  }, extra || {});
}

export function legend(extra) {
  return Object.assign({ orientation: "h", x: 0, y: -0.28, yanchor: "top", font: { size: 15 } }, extra || {});
}

/* A sentence across the middle of a plot (waiting, not applicable, all inf), wrapped to its width
   (Plotly does not wrap annotations). */
export function centerNote(text, theme, box, colour) {
  const width = Math.max(16, Math.round((((box && box.width) || 900) - 110) / 9.5));  // columns of a 17 px font
  return { xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false, text: wrap(text, width),
           font: { size: 17, color: theme.colour(colour || "ink") } };
}

export function tokenLabel(trace, t) {
  const m = trace.meta;
  if (m.input_kind === "numbers") return numberLabel(m.inputs[t]);
  return showChar(m.vocab[m.tokens[t]]);
}

/* A real-valued step (the adding task's value and marker) as a short label: the value, starred where
   the marker is on (the two values whose sum is the answer). */
export const MARK = "★";
export function numberLabel(input) {
  const value = Number.isFinite(input[0]) ? input[0].toFixed(2) : "?";
  return input.length > 1 && input[1] > 0.5 ? `${MARK}${value}` : value;
}
export function markedSteps(trace) {
  const m = trace.meta;
  return m.input_kind === "numbers" ? m.inputs.flatMap((x, t) => (x.length > 1 && x[1] > 0.5 ? [t] : [])) : [];
}

/* Steps across: "t<br>char" ticks, thinned to what fits the plot's width. */
export function tokenAxis(trace, box, extra) {
  const T = trace.T, width = (box && box.width) || 1000;
  const tick = trace.meta.input_kind === "numbers" ? 52 : 34;  // pixels a label needs: "★0.52" is wider than a character
  const every = Math.max(1, Math.ceil((T * tick) / Math.max(200, width - 120)));
  const vals = [], text = [];
  for (let t = 0; t < T; t += every) { vals.push(t); text.push(`${t}<br>${tokenLabel(trace, t)}`); }
  return Object.assign({ tickvals: vals, ticktext: text, range: [-0.5, T - 0.5], title: { text: "" },
                         zeroline: false, showgrid: false, fixedrange: true }, extra || {});
}

/* Steps down: one-line "t char" labels, thinned to the plot's height. */
export function tokenYAxis(trace, box, extra) {
  const T = trace.T, height = (box && box.height) || 400;
  const every = Math.max(1, Math.ceil((T * 22) / Math.max(100, height - 120)));
  const vals = [], text = [];
  for (let t = 0; t < T; t += every) { vals.push(t); text.push(`${t} ${tokenLabel(trace, t)}`); }
  return Object.assign({ tickvals: vals, ticktext: text, autorange: "reversed", zeroline: false, showgrid: false,
                         fixedrange: true }, extra || {});
}

export function cuts(trace) {
  if (trace.summary) return trace.summary.cuts || [];
  return trace.back.filter((b) => b && b.cut).map((b) => b.t);
}

/* Dashed lines between s-1 and s where truncated BPTT stops the gradient. */
export function cutShapes(trace, theme, yref) {
  return cuts(trace).map((s) => ({ type: "line", xref: "x", yref: yref || "paper", x0: s - 0.5, x1: s - 0.5, y0: 0, y1: 1,
                                   line: { color: theme.colour("cut"), width: 3, dash: "dash" } }));
}

export function cutLabels(trace, theme) {
  return cuts(trace).map((s) => ({ x: s - 0.5, y: 1, xref: "x", yref: "paper", yanchor: "bottom", showarrow: false,
                                   text: `✂ ${s}`, font: { size: 16, color: theme.colour("cut") } }));
}

export function currentShape(trace, view, theme, yref) {
  const t = currentStep(view, trace);
  if (t < 0) return [];
  return [{ type: "rect", xref: "x", yref: yref || "paper", x0: t - 0.5, x1: t + 0.5, y0: 0, y1: 1,
            line: { color: theme.colour("ink"), width: 3 }, fillcolor: rgba(theme.colour("current"), 0.25), layer: "below" }];
}

export function layerOf(arr, layer) {
  return arr ? arr[Math.min(layer, arr.length - 1)] : null;
}

export function top(arr) {
  return arr && arr.length ? arr[arr.length - 1] : null;
}

export { currentStep, revealed, shown };

/* The backward steps an axis may span: every one received, or while a question on the figure is open
   (view.conceal) only those the learner has reached, so the axis cannot give the answer away. */
export function axisBack(trace, view, reached) {
  return trace.back.filter((b) => b && (!view.conceal || reached.has(b.t)));
}

/* Heatmaps of one column per step (hidden, gates): how many columns, and when to redraw or move the cursor. */
export function stepColumns(trace, view) {
  return view.phase === "backward" ? trace.T : shown(view, trace).nf;
}
export function stepKey(trace, view) {
  return `${progress(trace)}|${stepColumns(trace, view)}|${view.layer}`;
}
export function stepCursorKey(trace, view) {
  return `${view.phase}|${currentStep(view, trace)}`;
}

/* The loss the "gradient from one loss" views follow: view.loss, or else the last loss (T-2), or, when
   that one overflowed, the last loss whose own gradient ||dL_t/dh_t|| is finite. */
export function lossIndex(view, trace) {
  const t = viewLoss(view, trace);
  if (t < 0 || (view.loss !== null && view.loss !== undefined)) return t;
  for (let u = t; u >= 0; u--) {
    const own = trace.summary ? trace.summary.grad_flow[u][u] : trace.back[u] && trace.back[u].grad_flow_from[u];
    if (own === undefined) return t;  // not arrived yet: the plain default
    if (isNum(own)) return u;
  }
  return t;
}

/* A sentence across an empty plot, when every value shown is inf/NaN. */
export function allOverflowNote(strings, theme, box) {
  return centerNote(strings.overflow_all, theme, box, "overflow");
}

/* Where inf/NaN starts, as the learner travels: forward, the first flagged step on display; backward,
   the first flagged step reached going back (the largest t). { first, count } or null. */
export function overflowStart(trace, view, kind) {
  const { nf } = shown(view, trace);
  if (kind === "forward") {
    let first = null, count = 0;
    for (let t = 0; t < nf; t++) if (trace.steps[t] && trace.steps[t].overflow) { count += 1; if (first === null) first = t; }
    return first === null ? null : { first, count, kind };
  }
  let first = null, count = 0;
  for (const t of revealed(view, trace).reverse()) {
    if (trace.back[t].overflow) { count += 1; if (first === null) first = t; }
  }
  return first === null ? null : { first, count, kind };
}

/* Over the whole trace (the page's banner): { forward: first t or null, backward: first t going back or null }. */
export function overflowSummary(trace) {
  let forward = null, backward = null;
  for (let t = 0; t < trace.T; t++) if (forward === null && trace.steps[t] && trace.steps[t].overflow) forward = t;
  for (let t = trace.T - 1; t >= 0; t--) if (backward === null && trace.back[t] && trace.back[t].overflow) backward = t;
  return { forward, backward };
}

export function overflowLine(info, strings) {
  if (!info) return "";
  return fmt(strings[info.kind === "forward" ? "overflow_from_forward" : "overflow_from_backward"], { t: info.first });
}

/* One mark for a run of overflow: a dotted line at its first step, a light wash over the steps after
   it (forward: later steps; backward: earlier ones) and one line of text. Finite steps stay drawn. */
export function overflowMarks(trace, info, strings, theme, yref) {
  if (!info) return { shapes: [], annotations: [] };
  const c = theme.colour("overflow"), k = info.first, T = trace.T;
  const [x0, x1] = info.kind === "forward" ? [k - 0.5, T - 0.5] : [-0.5, k + 0.5];
  const edge = info.kind === "forward" ? k - 0.5 : k + 0.5;
  return {
    shapes: [
      { type: "rect", xref: "x", yref: yref || "paper", x0, x1, y0: 0, y1: 1, line: { width: 0 }, fillcolor: rgba(c, 0.08), layer: "below" },
      { type: "line", xref: "x", yref: yref || "paper", x0: edge, x1: edge, y0: 0, y1: 1, line: { color: c, width: 2, dash: "dot" } },
    ],
    annotations: [{ x: edge, y: 1, xref: "x", yref: "paper", yanchor: "bottom",
                    xanchor: info.kind === "forward" ? "left" : "right", showarrow: false,
                    text: `⚠ ${overflowLine(info, strings)}`, font: { size: 15, color: c } }],
  };
}

/* A units x steps heatmap of one per-step vector, columns filled up to n (the colour scale is fixed
   by every received step, so it does not jump while stepping). */
export function unitsBySteps(trace, get, n) {
  const T = trace.T;
  let H = 0;
  for (const s of trace.steps) { const v = s && get(s); if (v) { H = v.length; break; } }
  const z = Array.from({ length: H }, () => Array(T).fill(null));
  let maxAbs = 0;
  for (let t = 0; t < T; t++) {
    const s = trace.steps[t], v = s && get(s);
    if (!v) continue;
    for (let j = 0; j < H; j++) {
      const x = v[j];
      if (isNum(x)) maxAbs = Math.max(maxAbs, Math.abs(x));
      if (t < n) z[j][t] = x;
    }
  }
  return { z, H, maxAbs: maxAbs || 1 };
}

export function sequential(theme, name) { return [[0, theme.colour("paper")], [1, theme.colour(name)]]; }
export function diverging(theme, name) {
  return [[0, theme.colour("negative")], [0.5, theme.colour("paper")], [1, theme.colour(name)]];
}

/* The tail of a per-step log plot of the backward pass (grad-norm, bptt-terms): a note while no step is
   reached, another when every reached value overflowed, and the layout both share. */
export function backwardLogLayout(trace, view, strings, theme, box, { reached, drawn, yaxis, annotations, over }) {
  if (!reached.size) annotations.push(centerNote(strings.backward_wait, theme, box));
  else if (!drawn) {
    annotations.push(allOverflowNote(strings, theme, box));
    yaxis.visible = false;
  }
  return baseLayout(theme, {
    height: 400, showlegend: true, legend: legend(), xaxis: tokenAxis(trace, box), yaxis,
    shapes: [...currentShape(trace, view, theme), ...cutShapes(trace, theme), ...over.shapes], annotations,
    margin: { l: 80, r: 20, t: 30, b: 110 },
  });
}
