/* The context vector c_i at the current output step: its 2H values as bars (forward half, then backward
   half), with ‖c_i‖ over all steps above. Without attention c_i is [fh_J; bh_1] at every step, so the
   norm line is flat: the whole source squeezed into one vector. Reads a Seq2SeqSource trace. */

import { fmt, sig } from "../core/format.js";
import { baseLayout } from "./common.js";
import { key as stepKey, outputIndex } from "../sources/seq2seq-view.js";

export const id = "context";
export const reads = ["meta", "steps"];
export const archs = ["seq2seq"];
export const key = stepKey;

export function figure(trace, view, strings, theme) {
  const m = trace.meta;
  if (!m) return { data: [], layout: baseLayout(theme, { height: 360 }) };
  const i = Math.max(0, outputIndex(trace, view));
  const c = trace.steps[i].context;
  const data = [
    { type: "bar", x: c.map((_, k) => k), y: c, marker: { color: theme.colour(m.attention ? "attention" : "bound") },
      xaxis: "x", yaxis: "y", hovertemplate: `c_${i}[%{x}] = %{y:.3f}<extra></extra>` },
    { type: "scatter", mode: "lines+markers", x: trace.steps.map((_, k) => k), y: trace.steps.map((s) => s.context_norm),
      xaxis: "x2", yaxis: "y2", line: { color: theme.colour("hidden") }, hovertemplate: "‖c_%{x}‖ = %{y:.3f}<extra></extra>" },
    { type: "scatter", mode: "markers", x: [i], y: [trace.steps[i].context_norm], xaxis: "x2", yaxis: "y2",
      marker: { size: 12, color: theme.colour("current") }, hoverinfo: "skip" },
  ];
  return {
    data,
    layout: baseLayout(theme, {
      height: 380, grid: { rows: 2, columns: 1, pattern: "independent", roworder: "bottom to top" },
      margin: { l: 60, r: 20, t: 16, b: 56 },
      xaxis: { title: { text: `${strings.s2s_context} (${strings.s2s_unit})` }, fixedrange: true, zeroline: false },
      yaxis: { domain: [0, 0.55], fixedrange: true },
      xaxis2: { title: { text: strings.s2s_output, standoff: 2 }, fixedrange: true, dtick: 2, zeroline: false },
      yaxis2: { domain: [0.75, 1], title: { text: strings.s2s_context_norm }, fixedrange: true, rangemode: "tozero" },
    }),
  };
}

export function describe(trace, view, strings) {
  const m = trace.meta;
  if (!m) return "";
  const i = Math.max(0, outputIndex(trace, view));
  return fmt(m.attention ? strings.s2s_context_desc_att : strings.s2s_context_desc,
             { i, norm: sig(trace.steps[i].context_norm, 3) });
}
