/* One loss's gradient through the cell state against through the hidden state, for the LSTM:
   ‖∂L_t/∂c_s‖ (summary.grad_flow_c) and ‖∂L_t/∂h_s‖ (the same row grad-one-loss draws) against s for
   the chosen loss t (view.loss), on one log axis. Backward through c, each step multiplies by diag(f)
   plus the paths through the gates; through h it must also pass o and tanh′. */

import { logAxis, positive, short, fmt } from "../core/format.js";
import { row } from "./grad-one-loss.js";
import { baseLayout, centerNote, currentShape, legend, lossIndex, progress, shown, sub, tokenAxis } from "./common.js";

export const id = "grad-c-h";
export const reads = ["meta", "back.grad_flow_from", "summary.grad_flow", "summary.grad_flow_c"];
export const archs = ["lstm"];

export function key(trace, view) {
  return `${progress(trace)}|${view.phase}|${shown(view, trace).nb}|${lossIndex(view, trace)}`;
}

/* ‖∂L_t/∂c_s‖ for s = 0..T-1, shown where the h row is shown (undefined: not shown; null: inf/NaN). */
export function rowC(trace, view, t) {
  const flow = trace.summary && trace.summary.grad_flow_c;
  const h = row(trace, view, t);
  return h.map((v, s) => (v === undefined || !flow ? undefined : flow[t][s]));
}

export function figure(trace, view, strings, theme, box) {
  const T = trace.T, t = lossIndex(view, trace), x = [...Array(T).keys()], C = (n) => theme.colour(n);
  if (t < 0) return { data: [], layout: baseLayout(theme, { xaxis: tokenAxis(trace, box), yaxis: { visible: false } }) };
  const yh = row(trace, view, t).map((v) => (v === undefined ? null : positive(v)));
  const yc = rowC(trace, view, t).map((v) => (v === undefined ? null : positive(v)));
  const data = [
    { x, y: yc, mode: "lines+markers", meta: "c", name: `‖∂L${sub(t)}/∂cₛ‖ ${strings.grad_through_c}`,
      line: { color: C("cell"), width: 4 }, marker: { size: 9 }, hovertemplate: "s=%{x} %{y:.3e}<extra></extra>" },
    { x, y: yh, mode: "lines+markers", meta: "h", name: `‖∂L${sub(t)}/∂hₛ‖ ${strings.grad_through_h}`,
      line: { color: C("hidden"), width: 3, dash: "dot" }, marker: { size: 8 }, hovertemplate: "s=%{x} %{y:.3e}<extra></extra>" },
  ];
  const annotations = [{ xref: "x", yref: "paper", x: t, y: 1, yanchor: "bottom", showarrow: false, text: `L${sub(t)}`, font: { size: 16, color: C("ink") } }];
  const any = [...yh, ...yc].some((v) => v !== null);
  if (!any) annotations.push(centerNote(view.phase === "backward" && !shown(view, trace).nb ? strings.backward_wait : strings.no_data, theme, box));
  const layout = baseLayout(theme, {
    height: 400, showlegend: true, legend: legend(), annotations, shapes: currentShape(trace, view, theme),
    yaxis: logAxis([...yh, ...yc], { title: { text: strings.axis_norm } }), xaxis: tokenAxis(trace, box, { title: { text: strings.axis_source_step } }),
  });
  return { data, layout };
}

/* c-path over h-path at distance d back from loss t: ‖∂L_t/∂c_{t−d}‖ / ‖∂L_t/∂h_{t−d}‖ (null if not finite). */
export function ratioAt(trace, t, s) {
  const c = trace.summary && trace.summary.grad_flow_c ? trace.summary.grad_flow_c[t][s] : null;
  const h = trace.summary ? trace.summary.grad_flow[t][s] : null;
  return positive(c) !== null && positive(h) !== null ? c / h : null;
}

export function describe(trace, view, strings) {
  const t = lossIndex(view, trace);
  if (t < 0 || !trace.summary || !trace.summary.grad_flow_c) return strings.status_none;
  return fmt(strings.describe_grad_c_h, { t, c: short(trace.summary.grad_flow_c[t][0]), h: short(trace.summary.grad_flow[t][0]) });
}
