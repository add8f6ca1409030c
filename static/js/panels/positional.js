/* The positional encoding added at each position (sinusoidal or learned): dimensions down, positions across. */

import { fmt, isNum } from "../core/format.js";
import { baseLayout, currentShape, currentStep, diverging, progress, tokenAxis } from "./common.js";

export const id = "positional";
export const reads = ["meta", "steps.positional"];
export const archs = ["transformer"];

export function key(trace) {
  return progress(trace);
}

export function cursorKey(trace, view) {
  return `${view.phase}|${currentStep(view, trace)}`;
}

export function figure(trace, view, strings, theme, box) {
  const T = trace.T, rows = [];
  for (let t = 0; t < T; t++) { const s = trace.steps[t]; rows.push(s && s.positional ? s.positional : null); }
  const D = (rows.find(Boolean) || []).length;
  const z = Array.from({ length: D }, (_, d) => rows.map((r) => (r ? r[d] : null)));
  let maxAbs = 0;
  for (const r of rows) if (r) for (const v of r) if (isNum(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
  const data = [{ type: "heatmap", z, colorscale: diverging(theme, "position"), zmid: 0, zmin: -(maxAbs || 1), zmax: maxAbs || 1,
                  hoverongaps: false, colorbar: { thickness: 14 }, meta: "positional",
                  hovertemplate: `${strings.axis_position} %{x} · ${strings.axis_dim} %{y}<br>%{z:.3f}<extra></extra>` }];
  const layout = baseLayout(theme, {
    height: 380, xaxis: tokenAxis(trace, box, { title: { text: strings.axis_position } }),
    yaxis: { title: { text: strings.axis_dim }, autorange: "reversed", fixedrange: true },
    shapes: currentShape(trace, view, theme), margin: { l: 70, r: 10, t: 16, b: 90 },
  });
  return { data, layout };
}

export function describe(trace, view, strings) {
  const t = currentStep(view, trace);
  if (t < 0) return strings.caption_positional;
  return fmt(strings.describe_positional, { t, kind: strings[`choice_positional_${trace.meta.knobs.positional || "sinusoidal"}`] || "" });
}
