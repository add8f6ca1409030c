/* The hidden state h: units down, steps across, one more column per forward step. */

import { fmt, num } from "../core/format.js";
import { stepColumns, RECURRENT, baseLayout, currentShape, currentStep, diverging, layerOf, overflowMarks, overflowStart, sub, tokenAxis, tokenLabel, unitsBySteps } from "./common.js";

export const id = "hidden";
export const reads = ["meta", "steps"];
export const archs = RECURRENT;

export { stepKey as key, stepCursorKey as cursorKey } from "./common.js";

export function figure(trace, view, strings, theme, box) {
  const n = stepColumns(trace, view);
  const { z, H, maxAbs } = unitsBySteps(trace, (s) => layerOf(s.h, view.layer), n);
  const over = overflowMarks(trace, overflowStart(trace, view, "forward"), strings, theme);
  const data = [{ type: "heatmap", z, colorscale: diverging(theme, "hidden"), zmin: -maxAbs, zmax: maxAbs, zmid: 0,
                  hoverongaps: false, xgap: 1, colorbar: { thickness: 14, len: 0.9 }, meta: "h",
                  hovertemplate: `t=%{x} · ${strings.axis_unit} %{y}<br>h=%{z:.3f}<extra></extra>` }];
  const layout = baseLayout(theme, {
    height: 360, xaxis: tokenAxis(trace, box),
    yaxis: { title: { text: strings.axis_unit }, range: [H - 0.5, -0.5], fixedrange: true, zeroline: false },
    shapes: [...currentShape(trace, view, theme), ...over.shapes], annotations: over.annotations,
    margin: { l: 70, r: 10, t: 24, b: 70 },
  });
  return { data, layout };
}

export function describe(trace, view, strings) {
  const t = currentStep(view, trace);
  if (t < 0) return strings.status_none;
  const h = layerOf(trace.steps[t].h, view.layer) || [];
  let j = 0;
  h.forEach((x, i) => { if (Math.abs(x ?? 0) > Math.abs(h[j] ?? 0)) j = i; });
  return fmt(strings.describe_hidden, { t, ch: tokenLabel(trace, t), h: `h${sub(t)}`, j, v: num(h[j]) });
}
