/* The gradient from one loss: ||dL_t/dh_s|| against s for the chosen t (view.loss, default the last
   loss T-2), on a log axis, with the theory line ||dL_t/dh_t|| (gamma sigma_max)^(t-s) of the Elman
   RNN (Pascanu et al. 2013: each step back multiplies by a Jacobian of norm at most gamma sigma_max).
   This is the figure that shows vanishing and exploding. Truncation cuts are marked; the line stops
   at the cut like the gradient does. */

import { clipToAxis, fmt, isNum, logAxis, positive, short } from "../core/format.js";
import { clippedMarks, offAxisMax } from "./grad-norm.js";
import { ALL, allOverflowNote, baseLayout, centerNote, currentShape, currentStep, cutLabels, cutShapes, cuts, legend, lossIndex, overflowLine,
         overflowMarks, progress, revealed, shown, sub, tokenAxis, tokenLabel } from "./common.js";

export const id = "grad-one-loss";
export const reads = ["meta", "back.grad_flow_from", "summary.grad_flow", "summary.pascanu", "summary.cuts"];
export const archs = ALL;

export function key(trace, view) {
  return `${progress(trace)}|${view.phase}|${shown(view, trace).nb}|${currentStep(view, trace)}|${lossIndex(view, trace)}`;
}

/* eta = gamma * sigma_max(W_hh) of the top layer, for the Elman RNN; null otherwise. */
export function decayRate(trace) {
  const p = trace.summary && trace.summary.pascanu;
  if (trace.meta.arch !== "rnn" || !p) return null;
  if (Array.isArray(p.decay_bound) && p.decay_bound.length) return p.decay_bound[p.bound_layer ?? p.decay_bound.length - 1];
  const sigma = Array.isArray(p.sigma_max) ? p.sigma_max[p.sigma_max.length - 1] : null;
  const s = Array.isArray(sigma) ? sigma[0] : sigma;
  return isNum(p.gamma) && isNum(s) ? p.gamma * s : null;
}

/* The row ||dL_t/dh_s|| for s = 0..T-1 as far as the view shows it (backward: the steps reached;
   forward: the whole row once it has arrived). */
export function row(trace, view, t) {
  const T = trace.T, out = Array(T).fill(undefined);
  const steps = view.phase === "backward" ? revealed(view, trace) : [...Array(T).keys()];
  for (const s of steps) {
    if (s > t) continue;
    const b = trace.back[s];
    if (b) out[s] = b.grad_flow_from[t];
    else if (trace.summary) out[s] = trace.summary.grad_flow[t][s];
  }
  return out;  // undefined: not shown; null: inf/NaN
}

export function figure(trace, view, strings, theme, box) {
  const T = trace.T, t = lossIndex(view, trace), x = [...Array(T).keys()];
  const C = (n) => theme.colour(n);
  if (t < 0) return { data: [], layout: baseLayout(theme, { xaxis: tokenAxis(trace, box), yaxis: { visible: false } }) };
  const r = row(trace, view, t);
  const y = r.map((v) => (v === undefined ? null : positive(v)));
  const of = trace.meta.arch === "transformer" ? "x" : "h";
  const data = [{ x, y, mode: "lines+markers", connectgaps: false, meta: "grad",
                  name: `‖∂L${sub(t)}/∂${of}ₛ‖`, line: { color: C("gradient"), width: 4 }, marker: { size: 9 },
                  hovertemplate: `s=%{x} %{y:.3e}<extra></extra>` }];
  // the axis spans the whole row received (stable while stepping), or while a question is open what is shown
  const full = view.conceal ? y : fullRow(trace, t);
  const yaxis = logAxis(full.some((v) => positive(v) !== null) ? full : y, { title: { text: strings.axis_norm } });
  const eta = decayRate(trace), local = trace.back[t] ? trace.back[t].grad_flow_from[t] : trace.summary && trace.summary.grad_flow[t][t];
  if (eta !== null && positive(local)) {
    const cut = Math.max(0, ...cuts(trace).filter((c) => c <= t));  // the gradient stops at the last cut before t
    const theory = x.map((s) => (s <= t && s >= cut && r[s] !== undefined ? local * eta ** (t - s) : null));
    const axis = yaxis.range ? yaxis : logAxis(theory);
    const clipped = clipToAxis(theory, axis);
    data.push({ x, y: clipped.y, mode: "lines", name: strings.theory_one_loss, meta: "theory", connectgaps: false,
                line: { color: C("bound"), width: 3, dash: "dash" }, hovertemplate: "%{y:.3e}<extra></extra>" });
    const marks = clippedMarks(x, clipped, axis, fmt(strings.bound_off_axis, { v: short(offAxisMax(theory, clipped)) }), C("bound"));
    if (marks) data.push(marks);
  } else if (trace.meta.arch !== "rnn") {
    data.push({ x: [null], y: [null], mode: "lines", name: strings[trace.meta.arch === "transformer" ? "theory_na_transformer" : "theory_na_gated"],
                meta: "theory-na", line: { color: C("bound"), width: 3, dash: "dash" }, hoverinfo: "skip" });
  }
  const over = rowOverflow(r, t), marks = overflowMarks(trace, over, strings, theme);
  const annotations = [...marks.annotations, ...cutLabels(trace, theme),
    { xref: "x", yref: "paper", x: t, y: 1, yanchor: "bottom", showarrow: false, text: `L${sub(t)}`,
      font: { size: 16, color: C("ink") } }];
  if (!y.some((v) => v !== null)) {
    if (over) { annotations.push(allOverflowNote(strings, theme, box)); yaxis.visible = false; }
    else annotations.push(centerNote(view.phase === "backward" && !shown(view, trace).nb ? strings.backward_wait : strings.no_data, theme, box));
  }
  const layout = baseLayout(theme, {
    height: 400, showlegend: true, legend: legend(), yaxis,
    xaxis: tokenAxis(trace, box, { title: { text: strings.axis_source_step } }),
    shapes: [...(view.phase === "backward" ? currentShape(trace, view, theme) : []), ...cutShapes(trace, theme), ...marks.shapes],
    annotations, margin: { l: 80, r: 20, t: 30, b: 120 },
  });
  return { data, layout };
}

/* Row t of G as far as it has arrived, whatever the view shows. */
function fullRow(trace, t) {
  if (trace.summary) return trace.summary.grad_flow[t].slice(0, t + 1);
  return trace.back.filter((b) => b && b.t <= t).map((b) => b.grad_flow_from[t]);
}

/* Going back from t, the first s whose gradient is inf/NaN (null in the row). */
export function rowOverflow(r, t) {
  for (let s = t; s >= 0; s--) if (r[s] === null) return { first: s, count: 1, kind: "backward" };
  return null;
}

export function describe(trace, view, strings) {
  const t = lossIndex(view, trace);
  if (t < 0) return "";
  const L = `L${sub(t)}`;
  const r = row(trace, view, t);
  const over = rowOverflow(r, t);
  if (view.phase === "backward") {
    const s = currentStep(view, trace);
    if (s < 0) return fmt(strings.describe_one_loss_wait, { L });
    if (s > t) return fmt(strings.describe_one_loss_after, { s, L, ch: tokenLabel(trace, s) });
    const v = r[s], own = r[t];
    if (v === null || v === undefined) return `${fmt(strings.describe_one_loss_inf, { s, L, ch: tokenLabel(trace, s) })}`;
    const grew = isNum(own) && v > own;
    return fmt(strings[grew ? "describe_one_loss_grew" : "describe_one_loss_shrank"], { s, L, ch: tokenLabel(trace, s), v: short(v) });
  }
  if (over) return `${L}: ${overflowLine(over, strings)}`;
  const firstS = r.findIndex((v) => v !== undefined);
  if (firstS < 0) return fmt(strings.describe_one_loss_wait, { L });
  return fmt(strings.describe_one_loss_span, { L, t, a: short(r[t]), s: firstS, b: short(r[firstS]) });
}
