/* The spectral norm of the one-step Jacobian ∂S_t/∂S_{t-1} (the whole stacked state) against 1.
   A norm below 1 at every step guarantees the gradient shrinks; a norm above 1 only allows it to grow. */

import { fmt, logAxis, num, positive } from "../core/format.js";
import { axisBack, RECURRENT, baseLayout, currentShape, currentStep, cutShapes, overflowMarks, overflowStart, progress, revealed,
         shown, sub, tokenAxis } from "./common.js";

export const id = "jacobian";
export const reads = ["meta", "back.jacobian_norm"];
export const archs = RECURRENT;

export function key(trace, view) {
  return `${progress(trace)}|${shown(view, trace).nb}|${currentStep(view, trace)}`;
}

export function figure(trace, view, strings, theme, box) {
  const T = trace.T, reached = new Set(revealed(view, trace)), x = [...Array(T).keys()];
  const y = x.map((t) => (reached.has(t) ? positive(trace.back[t].jacobian_norm) : null));
  const C = (n) => theme.colour(n);
  const data = [
    { type: "bar", x, y, name: "‖J‖", meta: "jacobian", marker: { color: C("jacobian") }, hovertemplate: "t=%{x} %{y:.3f}<extra></extra>" },
    { x: [-0.5, T - 0.5], y: [1, 1], mode: "lines", name: "1", meta: "one", line: { color: C("bound"), width: 3, dash: "dash" },
      hoverinfo: "skip" },
  ];
  const over = overflowMarks(trace, overflowStart(trace, view, "backward"), strings, theme);
  const layout = baseLayout(theme, {
    height: 340, xaxis: tokenAxis(trace, box),
    yaxis: logAxis([1, ...axisBack(trace, view, reached).map((b) => b.jacobian_norm)], { title: { text: strings.axis_norm } }),
    shapes: [...currentShape(trace, view, theme), ...cutShapes(trace, theme), ...over.shapes],
    annotations: [{ x: T - 0.5, y: 0, yref: "y", xanchor: "right", yanchor: "bottom", text: "‖J‖ = 1", showarrow: false,
                    font: { size: 16, color: C("bound") } }, ...over.annotations],
  });
  return { data, layout };
}

export function describe(trace, view, strings) {
  const t = currentStep(view, trace);
  if (view.phase !== "backward" || t < 0) return strings.backward_wait;
  const j = trace.back[t].jacobian_norm;
  if (t === 0 || j === null) return fmt(strings.describe_jacobian_none, { t });
  return fmt(strings[j < 1 ? "describe_jacobian_below" : "describe_jacobian_above"], { t, J: `‖∂h${sub(t)}/∂h${sub(t - 1)}‖`, v: num(j) });
}
