/* AR(tau) next to the trained model: at the view's step t, the distribution of character t+1 from the
   counts of the last tau characters in the training corpus, and the trained model's own, over the
   likeliest candidates (the true next character always among them, marked). Reads an LMSource "ar"
   trace (static/js/pages/lesson.js), GET /api/ar's body: { meta: { vocab, tau }, steps: [{ t, char,
   context, count, tau_used, probs, target, p_target, rnn: { probs, p_target } }], summary }. */

import { fmt, num, showChar } from "../core/format.js";
import { baseLayout, legend } from "./common.js";

export const id = "ar";
export const reads = ["meta", "steps", "summary"];
export const archs = ["ar"];
export const TOP = 10;

function note(theme, text) {
  return { data: [], layout: baseLayout(theme, { height: 340, xaxis: { visible: false }, yaxis: { visible: false },
    annotations: [{ xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false, text, font: { size: 18 } }] }) };
}

/** The trained model in its architecture's colour (charlm-lstm -> arch-lstm); the counts are grey. */
export function modelColour(checkpoint) {
  const arch = String(checkpoint || "").split("-").pop();
  return ["rnn", "lstm", "gru", "sgru", "transformer"].includes(arch) ? `arch-${arch}` : "prob";
}

export function current(trace, view) {
  return Math.min(view.step, trace.steps.length) - 1;
}

export function key(trace, view) {
  return `${trace.version}|${current(trace, view)}`;
}

/** The candidates shown at one step: the likeliest under either model, the true next character too. */
export function candidates(step, vocab, n = TOP) {
  const score = vocab.map((_, i) => Math.max(step.probs[i] ?? 0, step.rnn.probs[i] ?? 0));
  const order = vocab.map((_, i) => i).sort((a, b) => score[b] - score[a] || a - b).slice(0, n);
  const target = step.target === null ? -1 : vocab.indexOf(step.target);
  if (target >= 0 && !order.includes(target)) order[order.length - 1] = target;
  return order;
}

export function figure(trace, view, strings, theme, box) {
  const t = current(trace, view);
  if (t < 0) return note(theme, strings.lesson_ar_start);
  const step = trace.steps[t], vocab = trace.meta.vocab, tau = trace.meta.tau;
  const ids = candidates(step, vocab, box && box.width < 560 ? 6 : TOP);  // fewer on a phone
  const target = step.target === null ? -1 : vocab.indexOf(step.target);
  const x = ids.map((i) => (i === target ? `<b>${showChar(vocab[i])} ▼</b>` : showChar(vocab[i])));
  const data = [
    { type: "bar", name: fmt(strings.lesson_ar_counts, { tau }), x, y: ids.map((i) => step.probs[i]), meta: "ar",
      marker: { color: theme.colour("bound") }, hovertemplate: "%{x} %{y:.3f}<extra></extra>" },
    { type: "bar", name: `${strings.lesson_ar_model} (${trace.meta.checkpoint})`, x, y: ids.map((i) => step.rnn.probs[i]),
      meta: "rnn", marker: { color: theme.colour(modelColour(trace.meta.checkpoint)) },
      hovertemplate: "%{x} %{y:.3f}<extra></extra>" },
  ];
  const context = fmt(strings.lesson_ar_context, { k: step.context.length, context: [...step.context].map(showChar).join(""),
                                                     count: step.count });
  const back = step.tau_used < step.context.length ? ` ${fmt(strings.lesson_ar_backoff, { used: step.tau_used })}` : "";
  return {
    data,
    layout: baseLayout(theme, {
      height: 360, barmode: "group", showlegend: true, legend: legend({ y: -0.2 }),
      margin: { l: 60, r: 20, t: 40, b: 80 },
      xaxis: { type: "category", tickfont: { size: 18 }, tickangle: 0, fixedrange: true },
      yaxis: { title: { text: strings.axis_prob || "p" }, rangemode: "tozero", fixedrange: true },
      annotations: [{ xref: "paper", yref: "paper", x: 0, y: 1.02, xanchor: "left", yanchor: "bottom", showarrow: false,
                      text: context + back, font: { size: 15 } }],
    }),
  };
}

export function describe(trace, view, strings) {
  const t = current(trace, view);
  if (!trace.meta) return "";
  if (t < 0) return strings.lesson_ar_start;
  const step = trace.steps[t];
  if (step.target === null) return fmt(strings.lesson_ar_last, { t, char: showChar(step.char) });
  return fmt(strings.lesson_ar_describe, {
    t, char: showChar(step.char), target: showChar(step.target), tau: trace.meta.tau,
    p_ar: num(step.p_target), p_rnn: num(step.rnn.p_target),
  });
}
