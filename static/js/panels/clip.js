/* Parameter-gradient norms before and after clipping (clip_grad_norm_ / clip_grad_value_ semantics),
   the total first; they sum every step, so they appear once the backward pass reaches t = 0. */

import { fmt, logAxis, num, positive, short } from "../core/format.js";
import { ALL, baseLayout, centerNote, progress, shown } from "./common.js";

export const id = "clip";
export const reads = ["summary.param_grad_norm", "summary.grad_norm_before_clip", "summary.grad_norm_after_clip",
                      "summary.clip_mode", "summary.clip_threshold"];
export const archs = ALL;

const complete = (trace, view) => Boolean(trace.summary) && shown(view, trace).nb >= trace.T;

export function key(trace, view) {
  return `${progress(trace)}|${complete(trace, view)}`;
}

export function figure(trace, view, strings, theme, box) {
  const sm = trace.summary, done = complete(trace, view), C = (n) => theme.colour(n);
  const data = [], annotations = [], shapes = [];
  if (done) {
    const names = [strings.total, ...Object.keys(sm.param_grad_norm)];
    const before = [sm.grad_norm_before_clip, ...Object.values(sm.param_grad_norm).map((v) => v[0])].map(positive);
    const after = [sm.grad_norm_after_clip, ...Object.values(sm.param_grad_norm).map((v) => v[1])].map(positive);
    data.push({ type: "bar", x: names, y: before, name: strings.before_clip, meta: "before", marker: { color: C("gradient") },
                hovertemplate: "%{x}: %{y:.3e}<extra></extra>" });
    data.push({ type: "bar", x: names, y: after, name: strings.after_clip, meta: "after",
                marker: { color: C("clipped"), line: { color: C("muted"), width: 1 } }, hovertemplate: "%{x}: %{y:.3e}<extra></extra>" });
    if (![...before, ...after].some((v) => v !== null)) {
      annotations.push({ xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false, text: `⚠ ${strings.overflow_mark} (inf/NaN)`,
                         font: { size: 22, color: C("overflow") } });
    }
    if (sm.clip_mode && sm.clip_threshold) {
      shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, y0: sm.clip_threshold, y1: sm.clip_threshold,
                    line: { color: C("bound"), width: 3, dash: "dash" } });
      annotations.push({ xref: "paper", x: 1, y: Math.log10(sm.clip_threshold), xanchor: "right", yanchor: "bottom", showarrow: false,
                         text: thresholdLabel(sm, strings), font: { size: 15, color: C("bound") } });
    }
  } else {
    annotations.push(centerNote(strings.clip_wait, theme, box));
  }
  const layout = baseLayout(theme, {
    height: 380, barmode: "group", showlegend: done, legend: { orientation: "h", y: 1.12 },
    xaxis: { type: "category", tickangle: -30, tickfont: { size: 13 }, fixedrange: true, visible: done, automargin: true },
    yaxis: logAxis(data.flatMap((d) => d.y).concat(sm && sm.clip_mode ? [sm.clip_threshold] : []),
                   { title: { text: strings.axis_norm }, visible: done }),
    shapes, annotations, margin: { l: 80, r: 10, t: 40, b: 110 },
  });
  return { data, layout };
}

/* "임계값 1 (노름 기준)": the mode in the page's words. */
export function thresholdLabel(sm, strings) {
  const mode = strings[`choice_clip_mode_${sm.clip_mode}`] || sm.clip_mode;
  return `${strings.threshold} ${sm.clip_threshold} (${mode})`;
}

export function describe(trace, view, strings) {
  if (!complete(trace, view)) return strings.clip_wait;
  const sm = trace.summary;
  if (!sm.clip_mode) return fmt(strings.describe_clip_off, { v: short(sm.grad_norm_before_clip) });
  return fmt(strings.describe_clip, { before: short(sm.grad_norm_before_clip), after: short(sm.grad_norm_after_clip),
                                      mode: strings[`choice_clip_mode_${sm.clip_mode}`] || sm.clip_mode, c: num(sm.clip_threshold) });
}
