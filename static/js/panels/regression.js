/* The readout of a real-valued task (the lab's adding task), in place of next-character probabilities:
   the prediction y_hat_t = W_out h_t + b_out at every step so far, the answer y (the sum of the two
   marked values) and, once the last step is reached, its squared error (y_hat_{T-1} - y)^2, the one
   loss term the model is trained on. The marked steps are shaded: the two values the answer needs. */

import { fmt, isNum, num, rgba } from "../core/format.js";
import { baseLayout, currentShape, currentStep, markedSteps, progress, sub, tokenAxis } from "./common.js";

export const id = "regression";
export const reads = ["meta.inputs", "meta.answer", "steps.prediction", "steps.loss"];
export const archs = ["rnn", "lstm", "gru", "sgru"];
export const inputs = ["numbers"];

export function key(trace, view) {
  return `${progress(trace)}|${view.phase}|${currentStep(view, trace)}`;
}

/* What the panel shows at the current step: the predictions so far, the answer, and the squared error
   once the last step (the only one with a loss) has been read. */
export function readout(trace, view) {
  const T = trace.T, t = currentStep(view, trace), last = T - 1;
  if (trace.meta.input_kind !== "numbers") {  // characters: nothing to read out here (the bench hides the panel)
    return { t, prediction: Array(T).fill(null), answer: null, marked: [], reached: false, final: null, loss: null };
  }
  const upto = view.phase === "backward" ? last : t;
  const prediction = [];
  for (let s = 0; s < T; s++) {
    const step = trace.steps[s];
    prediction.push(s <= upto && step && step.prediction ? step.prediction[0] : null);
  }
  const answer = trace.meta.answer ? trace.meta.answer[0] : null;
  const end = trace.steps[last];
  const reached = upto >= last && Boolean(end);
  const loss = reached && isNum(end.loss) ? end.loss : null;
  return { t, prediction, answer, marked: markedSteps(trace), reached, final: reached ? end.prediction[0] : null, loss };
}

export function figure(trace, view, strings, theme, box) {
  const T = trace.T, r = readout(trace, view), C = (n) => theme.colour(n);
  const x = [...Array(T).keys()];
  const data = [
    { x, y: r.prediction, mode: "lines+markers", meta: "prediction", name: strings.regression_prediction,
      line: { color: C("prob"), width: 3 }, marker: { size: 7 }, connectgaps: false,
      hovertemplate: "t=%{x} ŷ=%{y:.3f}<extra></extra>" },
    { x: [-0.5, T - 0.5], y: [r.answer, r.answer], mode: "lines", meta: "answer", name: strings.regression_answer,
      line: { color: C("target"), width: 3, dash: "dash" }, hoverinfo: "skip" },
  ];
  const shapes = r.marked.map((s) => ({ type: "rect", xref: "x", yref: "paper", x0: s - 0.45, x1: s + 0.45, y0: 0, y1: 1,
                                        fillcolor: rgba(C("target"), 0.16), line: { width: 0 }, layer: "below" }));
  shapes.push(...currentShape(trace, view, theme, "paper"));
  const annotations = [{ x: -0.5, y: r.answer, xanchor: "left", yanchor: "bottom", showarrow: false,
                         text: `y = ${num(r.answer, 3)}`, font: { size: 16, color: C("target") } }];
  if (r.reached) {
    annotations.push({ x: T - 1, y: r.final, ax: -24, ay: r.final > r.answer ? -40 : 40, showarrow: true, arrowhead: 2,
                       xanchor: "right", arrowcolor: C("ink"), font: { size: 17, color: C("ink") }, bgcolor: C("paper"),
                       text: `ŷ${sub(T - 1)} = ${num(r.final, 3)} · (ŷ − y)² = ${num(r.loss, 4)}` });
  }
  const shown = r.prediction.filter(isNum).concat(isNum(r.answer) ? [r.answer] : []);
  const lo = Math.min(0, ...shown), hi = Math.max(2, ...shown);
  const layout = baseLayout(theme, {
    height: 320, xaxis: tokenAxis(trace, box), shapes, annotations,
    yaxis: { title: { text: strings.axis_prediction }, range: [lo - 0.1, hi + 0.15], fixedrange: true, zeroline: false },
  });
  return { data, layout };
}

export function describe(trace, view, strings) {
  const r = readout(trace, view);
  if (r.t < 0 && view.phase === "forward") return strings.status_none;
  if (r.reached) return fmt(strings.describe_regression_last, { T: trace.T - 1, p: num(r.final, 3), y: num(r.answer, 3),
                                                                 e: num(r.loss, 4) });
  return fmt(strings.describe_regression, { t: r.t, p: num(r.prediction[r.t], 3), y: num(r.answer, 3), T: trace.T - 1 });
}
