/* The gates, one heatmap row each: LSTM i f g o and the cell state c, GRU r z n, simplified GRU u n. The names come from
   the trace (meta.gates); g and n are tanh-valued candidates, the rest sigmoids in (0, 1). */

import { fmt, num } from "../core/format.js";
import { stepColumns, baseLayout, currentShape, currentStep, diverging, layerOf, overflowStart, overflowLine, sequential, sub, tokenAxis, tokenLabel, unitsBySteps } from "./common.js";

export const id = "gates";
export const reads = ["meta.gates", "steps"];
export const archs = ["lstm", "gru", "sgru"];

const CANDIDATES = new Set(["g", "n"]);  // tanh-valued: a diverging scale, the candidate's colour

export function rows(trace) {
  const names = [...(trace.meta.gates || [])];
  const first = trace.steps.find(Boolean);
  if (first && first.c) names.push("c");
  return names;
}

const colourName = (g) => (g === "c" ? "cell" : CANDIDATES.has(g) ? "candidate" : `gate-${g}`);
export { stepKey as key, stepCursorKey as cursorKey } from "./common.js";

export function figure(trace, view, strings, theme, box) {
  const names = rows(trace), n = stepColumns(trace, view), k = names.length, gap = 0.04, hRow = (1 - gap * (k - 1)) / k;
  const shapes = [], annotations = [];
  const over = overflowStart(trace, view, "forward");
  if (over) annotations.push({ xref: "x", yref: "paper", x: over.first - 0.5, y: 1, yanchor: "bottom", xanchor: "left",
                               showarrow: false, text: `⚠ ${overflowLine(over, strings)}`,
                               font: { size: 15, color: theme.colour("overflow") } });
  const data = [], axes = {};
  names.forEach((g, i) => {
    const get = g === "c" ? (s) => layerOf(s.c, view.layer) : (s) => layerOf(s.gates && s.gates[g], view.layer);
    const { z, H, maxAbs } = unitsBySteps(trace, get, n);
    const cname = colourName(g), signed = g === "c" || CANDIDATES.has(g);
    const ax = i === 0 ? "" : String(i + 1);
    data.push({ type: "heatmap", z, xaxis: "x", yaxis: `y${ax}`, showscale: false, hoverongaps: false, xgap: 1, meta: g,
                colorscale: signed ? diverging(theme, cname) : sequential(theme, cname),
                zmin: signed ? -maxAbs : 0, zmax: signed ? maxAbs : 1,
                hovertemplate: `${g}: t=%{x} · ${strings.axis_unit} %{y}<br>%{z:.3f}<extra></extra>` });
    const topEdge = 1 - i * (hRow + gap);
    shapes.push(...currentShape(trace, view, theme, `y${ax} domain`));
    annotations.push({ xref: "paper", yref: "paper", x: -0.015, y: topEdge - hRow / 2, xanchor: "right", showarrow: false,
                       text: `<b>${g}</b>`, font: { size: 26, color: theme.colour(cname) } });
    axes[`yaxis${ax}`] = { domain: [topEdge - hRow, topEdge], range: [H - 0.5, -0.5], fixedrange: true,
                                      showticklabels: false, zeroline: false, showgrid: false };
  });
  const layout = baseLayout(theme, {
    height: 120 * k + 90, margin: { l: 50, r: 10, t: 24, b: 70 }, shapes, annotations, ...axes,
    xaxis: tokenAxis(trace, box, { anchor: `y${k === 1 ? "" : k}` }),
  });
  return { data, layout };
}

export function describe(trace, view, strings) {
  const t = currentStep(view, trace);
  if (t < 0) return strings.status_none;
  const s = trace.steps[t];
  const parts = (trace.meta.gates || []).map((g) => {
    const v = layerOf(s.gates[g], view.layer) || [];
    const finite = v.filter((x) => x !== null);
    const mean = finite.length ? finite.reduce((a, x) => a + x, 0) / finite.length : null;
    return `${g} ${num(mean, 2)}`;
  });
  return fmt(strings.describe_gates, { t, ch: tokenLabel(trace, t), gates: parts.join(", "), h: `h${sub(t)}` });
}
