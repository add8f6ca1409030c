/* Attention weights of one layer and head: row t is query t's distribution over keys s <= t. */

import { fmt, num } from "../core/format.js";
import { baseLayout, currentStep, progress, sequential, shown, tokenAxis, tokenLabel, tokenYAxis } from "./common.js";

export const id = "attention";
export const reads = ["meta", "steps.attention"];
export const archs = ["transformer"];

const rowsShown = (trace, view) => (view.phase === "backward" ? trace.T : shown(view, trace).nf);

export function key(trace, view) {
  return `${progress(trace)}|${rowsShown(trace, view)}|${view.layer}|${view.head}`;
}

export function cursorKey(trace, view) {
  return `${view.phase}|${currentStep(view, trace)}`;
}

function weights(step, view) {
  const layer = step && step.attention && step.attention[Math.min(view.layer, step.attention.length - 1)];
  return layer ? layer[Math.min(view.head, layer.length - 1)] : null;
}

export function figure(trace, view, strings, theme, box) {
  const T = trace.T, n = rowsShown(trace, view);
  const z = Array.from({ length: T }, () => Array(T).fill(null));
  for (let t = 0; t < n; t++) {
    const row = weights(trace.steps[t], view);
    if (!row) continue;
    for (let j = 0; j <= t && j < row.length; j++) z[t][j] = row[j];
  }
  const cur = currentStep(view, trace);
  const data = [{ type: "heatmap", z, zmin: 0, zmax: 1, colorscale: sequential(theme, "attention"), hoverongaps: false, meta: "attention",
                  xgap: 1, ygap: 1, colorbar: { thickness: 14 },
                  hovertemplate: `${strings.axis_query} %{y} → ${strings.axis_key} %{x}<br>%{z:.3f}<extra></extra>` }];
  const layout = baseLayout(theme, {
    height: 460, xaxis: tokenAxis(trace, box, { title: { text: strings.axis_key } }),
    yaxis: tokenYAxis(trace, box, { title: { text: strings.axis_query } }),
    shapes: cur < 0 ? [] : [{ type: "rect", xref: "paper", yref: "y", x0: 0, x1: 1, y0: cur - 0.5, y1: cur + 0.5,
                              line: { color: theme.colour("ink"), width: 3 } }],
    margin: { l: 80, r: 10, t: 16, b: 90 },
  });
  return { data, layout };
}

export function describe(trace, view, strings) {
  const t = currentStep(view, trace);
  if (t < 0) return strings.status_none;
  const row = weights(trace.steps[t], view) || [];
  let best = 0;
  for (let j = 0; j <= t && j < row.length; j++) if ((row[j] ?? -1) > (row[best] ?? -1)) best = j;
  return fmt(strings.describe_attention, { t, ch: tokenLabel(trace, t), s: best, chs: tokenLabel(trace, best), w: num(row[best]),
                                           layer: view.layer, head: view.head });
}
