/* The T x T matrix ||dL_t/dh_s||: row t is one loss, column s the step its gradient reaches (log
   colour). The backward pass fills it column by column; clicking a row picks that loss for the
   "gradient from one loss" panel (view.loss). */

import { fmt, isNum, logTicks, short, tickLabel } from "../core/format.js";
import { axisBack, ALL, baseLayout, currentStep, cutShapes, lossIndex, progress, revealed, sequential, shown, sub, tokenAxis,
         tokenYAxis } from "./common.js";

export const id = "grad-flow";
export const reads = ["meta", "back.grad_flow_from", "summary.cuts"];
export const archs = ALL;

export function key(trace, view) {
  return `${progress(trace)}|${shown(view, trace).nb}`;
}

export function cursorKey(trace, view) {
  return `${lossIndex(view, trace)}|${currentStep(view, trace)}`;
}

export function figure(trace, view, strings, theme, box) {
  const T = trace.T, reached = new Set(revealed(view, trace)), counted = new Set(axisBack(trace, view, reached));
  const z = Array.from({ length: T }, () => Array(T).fill(null));
  let lo = Infinity, hi = -Infinity;
  for (let s = 0; s < T; s++) {
    const b = trace.back[s];
    if (!b || !counted.has(b)) continue;
    b.grad_flow_from.forEach((v, u) => {
      if (!(isNum(v) && v > 0)) return;
      const lv = Math.log10(v);
      lo = Math.min(lo, lv); hi = Math.max(hi, lv);
      if (reached.has(s)) z[u][s] = lv;
    });
  }
  if (!isFinite(lo)) { lo = -8; hi = 0; }
  if (hi - lo < 0.3) { lo -= 0.15; hi += 0.15; }
  const ticks = logTicks(lo, hi);
  const transformer = trace.meta.arch === "transformer";
  const data = [{ type: "heatmap", z, zmin: lo, zmax: hi, colorscale: sequential(theme, "gradient"), hoverongaps: false, meta: "G",
                  colorbar: { tickvals: ticks, ticktext: ticks.map(tickLabel), thickness: 14 },
                  hovertemplate: `L<sub>%{y}</sub> → ${transformer ? "x" : "h"}<sub>%{x}</sub><br>10^%{z:.2f}<extra></extra>` }];
  const t = lossIndex(view, trace), shapes = [...cutShapes(trace, theme)];
  if (t >= 0) {
    shapes.push({ type: "rect", xref: "paper", yref: "y", x0: 0, x1: 1, y0: t - 0.5, y1: t + 0.5,
                  line: { color: theme.colour("ink"), width: 3 }, fillcolor: "rgba(0,0,0,0)" });
  }
  const layout = baseLayout(theme, {
    height: 420, xaxis: tokenAxis(trace, box, { title: { text: strings.axis_source_step } }),
    yaxis: tokenYAxis(trace, box, { title: { text: strings.axis_loss_step } }),
    shapes, margin: { l: 90, r: 10, t: 16, b: 90 },
  });
  return { data, layout };
}

/* A click on row t (a loss that exists) picks it. */
export function click(point, trace) {
  const t = Math.round(Number(point.y));
  return Number.isInteger(t) && t >= 0 && t <= trace.T - 2 ? { loss: t } : null;
}

export function describe(trace, view, strings) {
  const { nb } = shown(view, trace);
  const t = lossIndex(view, trace);
  if (view.phase !== "backward" || !nb || t < 0) return strings.describe_grad_flow_wait;
  const s = currentStep(view, trace);
  const v = s <= t ? trace.back[s].grad_flow_from[t] : null;
  return fmt(strings.describe_grad_flow, { s, t, L: `L${sub(t)}`, v: short(v) });
}
