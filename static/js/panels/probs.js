/* The next-character distribution at the current step, the true next character outlined. */

import { fmt, num, rgba, showChar } from "../core/format.js";
import { ALL, baseLayout, currentStep, progress, tokenLabel } from "./common.js";

export const id = "probs";
export const reads = ["meta.vocab", "steps"];
export const archs = ALL;

export function key(trace, view) {
  return `${progress(trace)}|${currentStep(view, trace)}`;
}

export function figure(trace, view, strings, theme) {
  const meta = trace.meta, t = currentStep(view, trace);
  const s = t >= 0 ? trace.steps[t] : null;
  const chars = meta.vocab.map(showChar);
  const probs = s ? s.probs : meta.vocab.map(() => 0);
  const target = s && s.target !== null ? meta.vocab.indexOf(s.target) : -1;
  const c = theme.colour("prob"), tc = theme.colour("target");
  const data = [{ type: "bar", x: chars, y: probs, meta: "probs", marker: {
    color: chars.map((_, i) => rgba(c, i === target ? 0.95 : 0.55)),
    line: { color: chars.map((_, i) => (i === target ? tc : "rgba(0,0,0,0)")), width: chars.map((_, i) => (i === target ? 4 : 0)) },
  }, hovertemplate: "“%{x}” %{y:.3f}<extra></extra>" }];
  const annotations = [];
  if (target >= 0) {
    annotations.push({ x: chars[target], y: probs[target] || 0, yanchor: "bottom", text: `<b>${strings.target}</b>`, showarrow: true,
                       arrowhead: 2, ay: -34, ax: 0, font: { size: 18, color: tc }, arrowcolor: tc });
  }
  if (s && s.overflow) annotations.push({ xref: "paper", yref: "paper", x: 0.5, y: 0.9, showarrow: false, text: `⚠ ${strings.overflow_mark}`,
                                          font: { size: 22, color: theme.colour("overflow") } });
  const layout = baseLayout(theme, {
    height: 340, xaxis: { type: "category", tickfont: { size: 18, family: "monospace" }, fixedrange: true },
    yaxis: { title: { text: strings.axis_prob }, range: [0, Math.max(0.25, 1.25 * Math.max(...probs.map((p) => p || 0)))],
             fixedrange: true },
    annotations,
  });
  return { data, layout };
}

export function describe(trace, view, strings) {
  const t = currentStep(view, trace);
  if (t < 0) return strings.status_none;
  const s = trace.steps[t];
  if (s.target === null) return fmt(strings.describe_probs_last, { t, ch: tokenLabel(trace, t) });
  const p = s.probs[trace.meta.vocab.indexOf(s.target)];
  let best = 0;
  s.probs.forEach((x, i) => { if ((x ?? -1) > (s.probs[best] ?? -1)) best = i; });
  return fmt(strings.describe_probs, { t, ch: tokenLabel(trace, t), next: showChar(s.target), p: num(p),
                                       best: showChar(trace.meta.vocab[best]), pb: num(s.probs[best]) });
}
