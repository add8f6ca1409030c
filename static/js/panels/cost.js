/* What one Transformer block costs against length, next to a GRU layer as wide (models/transformer.py
   layer_cost, sent in the trace's meta as `cost`): attention's scores and weighted sums grow as T²·d,
   the recurrence's work as T·d², and the recurrence's T steps run one after another. Log-log axes. */

import { fmt, isNum } from "../core/format.js";
import { baseLayout, legend } from "./common.js";

export const id = "cost";
export const reads = ["meta"];
export const archs = ["transformer"];

export function key(trace) {
  return trace.meta && trace.meta.cost ? `${trace.meta.cost.T}|${trace.meta.knobs.d_model}|${trace.meta.knobs.d_ff}` : "none";
}

const big = (n) => (isNum(n) ? Number(n).toLocaleString("en-US") : "–");

/* The ratio attention / recurrence at length T, and how it moved from half the length. */
export function costAt(cost) {
  return { T: cost.T, attention: cost.attention_macs, recurrent: cost.recurrent_macs,
           ratio: cost.recurrent_macs > 0 ? cost.attention_macs / cost.recurrent_macs : null,
           steps: cost.recurrent_sequential_steps };
}

export function figure(trace, view, strings, theme, box) {
  const cost = trace.meta && trace.meta.cost;
  const C = (n) => theme.colour(n);
  if (!cost) return { data: [], layout: baseLayout(theme, { height: 360 }) };
  const x = cost.lengths, c = cost.curves, at = costAt(cost);
  const line = (y, name, colour, meta) => ({ x, y, name, meta, mode: "lines", line: { color: colour, width: 3 },
                                           hovertemplate: `T = %{x}: %{y:,.0f}<extra>${name}</extra>` });
  const data = [
    line(c.attention_macs, strings.cost_attention, C("arch-transformer"), "attention"),
    line(c.recurrent_macs, strings.cost_recurrent, C("arch-gru"), "recurrent"),
    { x: [at.T, at.T], y: [at.attention, at.recurrent], mode: "markers", meta: "now", showlegend: false,
      marker: { size: 11, color: [C("arch-transformer"), C("arch-gru")], line: { color: C("ink"), width: 1.5 } },
      hovertemplate: `T = %{x}: %{y:,.0f}<extra></extra>` },
  ];
  const layout = baseLayout(theme, {
    height: 380, showlegend: true, legend: legend({ y: box && box.width < 600 ? -0.42 : -0.3 }),
    xaxis: { type: "log", title: { text: strings.axis_length } },
    yaxis: { type: "log", title: { text: strings.axis_macs_layer }, exponentformat: "power" },
    shapes: [{ type: "line", xref: "x", yref: "paper", x0: at.T, x1: at.T, y0: 0, y1: 1,
               line: { color: C("current"), width: 2, dash: "dot" } }],
    margin: { l: 80, r: 16, t: 16, b: box && box.width < 600 ? 140 : 110 },
  });
  return { data, layout };
}

export function describe(trace, view, strings) {
  const cost = trace.meta && trace.meta.cost;
  if (!cost) return strings.caption_cost;
  const at = costAt(cost);
  return fmt(strings.describe_cost, { T: at.T, attention: big(at.attention), recurrent: big(at.recurrent),
                                      ratio: isNum(at.ratio) ? at.ratio.toFixed(2) : "–", steps: at.steps });
}
