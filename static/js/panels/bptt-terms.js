/* The two terms of the BPTT step, as the backward pass arrives:
     dL/dh_t = ∂L_t/∂h_t + (∂h_{t+1}/∂h_t)ᵀ dL/dh_{t+1}
   per step the norm of the part from the step's own loss (back[t].grad_h_local, top layer) and of the
   part carried back from the future (back[t].grad_h_future), with the total ||dL/dh_t|| for scale.
   Without those two fields (an older server) the own-loss part still comes from the diagonal of the
   gradient-flow matrix, ||dL_t/dh_t||, and a note says the carried part is missing. */

import { fmt, logAxis, positive, short } from "../core/format.js";
import { axisBack, RECURRENT, currentStep, cutLabels, overflowMarks, overflowStart, progress, revealed, shown, sub, tokenLabel, top, backwardLogLayout } from "./common.js";

export const id = "bptt-terms";
export const reads = ["meta", "back.grad_h", "back.grad_h_local", "back.grad_h_future", "back.grad_flow_from"];
export const archs = RECURRENT;

export function key(trace, view) {
  return `${progress(trace)}|${shown(view, trace).nb}|${currentStep(view, trace)}`;
}

export function hasSplit(trace) {
  const b = trace.back.find(Boolean);
  return Boolean(b && Array.isArray(b.grad_h_local) && Array.isArray(b.grad_h_future));
}

/* { total, local, future } for step t, top layer (future null when the trace lacks it). */
export function terms(trace, t) {
  const b = trace.back[t];
  if (!b) return null;
  const split = Array.isArray(b.grad_h_local) && Array.isArray(b.grad_h_future);
  return {
    total: top(b.grad_h),
    local: split ? top(b.grad_h_local) : b.grad_flow_from[t],
    future: split ? top(b.grad_h_future) : null,
  };
}

export function figure(trace, view, strings, theme, box) {
  const T = trace.T, reached = new Set(revealed(view, trace)), x = [...Array(T).keys()];
  const C = (n) => theme.colour(n);
  const at = (k) => x.map((t) => (reached.has(t) ? positive(terms(trace, t)[k]) : null));
  const data = [
    { x, y: at("total"), mode: "lines", name: strings.grad_total, meta: "total", connectgaps: false,
      line: { color: C("gradient"), width: 2, dash: "dot" }, hovertemplate: "t=%{x} %{y:.3e}<extra></extra>" },
    { x, y: at("local"), mode: "lines+markers", name: strings.grad_local, meta: "local", connectgaps: false,
      line: { color: C("grad-local"), width: 4 }, marker: { size: 10, symbol: "circle" }, hovertemplate: "t=%{x} %{y:.3e}<extra></extra>" },
  ];
  const split = hasSplit(trace);
  if (split) {
    data.push({ x, y: at("future"), mode: "lines+markers", name: strings.grad_future, meta: "future", connectgaps: false,
                line: { color: C("grad-future"), width: 4, dash: "dash" }, marker: { size: 10, symbol: "diamond" },
                hovertemplate: "t=%{x} %{y:.3e}<extra></extra>" });
  }
  const over = overflowMarks(trace, overflowStart(trace, view, "backward"), strings, theme);
  const annotations = [...over.annotations, ...cutLabels(trace, theme)];
  const yaxis = logAxis(axisBack(trace, view, reached).flatMap((b) => Object.values(terms(trace, b.t))), { title: { text: strings.axis_norm } });
  const drawn = data.some((d) => d.y.some((v) => v !== null));
  const layout = backwardLogLayout(trace, view, strings, theme, box, { reached, drawn, yaxis, annotations, over });
  return { data, layout, note: split ? "" : strings.bptt_terms_missing };
}

export function describe(trace, view, strings) {
  const t = currentStep(view, trace);
  if (view.phase !== "backward" || t < 0) return strings.backward_wait;
  const v = terms(trace, t);
  return fmt(strings[v.future === null ? "describe_bptt_terms_local" : "describe_bptt_terms"],
             { t, ch: tokenLabel(trace, t), h: `h${sub(t)}`, total: short(v.total), local: short(v.local), future: short(v.future) });
}
