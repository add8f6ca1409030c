/* The next-character distribution at the current step, the true next character outlined. */

import { fmt, num, rgba, showChar } from "../core/format.js";
import { ALL, baseLayout, currentStep, progress, tokenLabel } from "./common.js";

export const id = "probs";
export const reads = ["meta.vocab", "steps"];
export const archs = ALL;
export const inputs = ["chars"];  // a distribution over characters: nothing to show for numbers

export function key(trace, view) {
  return `${progress(trace)}|${currentStep(view, trace)}`;
}

const MOST_BARS = 24;  // a trained model's vocabulary has ~840 characters: bars that thin say nothing

/* Which vocabulary entries get a bar: all of a small vocabulary; of a large one the most likely at
   this step (and the true next character, wherever it ranks), most likely first. */
export function shownIndices(probs, target) {
  const all = probs.map((_, i) => i);
  if (probs.length <= MOST_BARS) return all;
  const top = all.sort((a, b) => (probs[b] ?? -1) - (probs[a] ?? -1)).slice(0, MOST_BARS - 1);
  if (target >= 0 && !top.includes(target)) top.push(target);
  else if (top.length < MOST_BARS) top.push(all[MOST_BARS - 1]);
  return top;
}

export function figure(trace, view, strings, theme) {
  const meta = trace.meta, t = currentStep(view, trace);
  const s = t >= 0 ? trace.steps[t] : null;
  const allProbs = s ? s.probs : meta.vocab.map(() => 0);
  const targetId = s && s.target !== null ? meta.vocab.indexOf(s.target) : -1;
  const shown = shownIndices(allProbs, targetId);
  const chars = shown.map((i) => showChar(meta.vocab[i]));
  const probs = shown.map((i) => allProbs[i]);
  const target = shown.indexOf(targetId);
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
  if (shown.length < meta.vocab.length) {
    layout.title = { text: fmt(strings.probs_top, { k: shown.length, V: meta.vocab.length }), font: { size: 15 }, x: 0.01 };
    layout.margin = { ...(layout.margin || {}), t: 40 };
  }
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
