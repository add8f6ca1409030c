/* A stacked (deep) recurrent net, layer by layer (lesson 10): the norm of each layer's hidden state
   ‖h^l_t‖ at every step shown, one line per layer, the top layer (the one the readout reads) drawn
   thickest; layers are numbered from 0 as grad-norm's lines are. Layer l reads layer l-1's state at the same step, so with more layers the same text goes
   through more nonlinearities between input and output; the gradient per layer is grad-norm's.
   Reads a recurrent trace (steps[t].h: one vector per layer). */

import { fmt, num } from "../core/format.js";
import { RECURRENT, baseLayout, legend, stepColumns, stepKey, tokenAxis } from "./common.js";

export const id = "depth";
export const reads = ["meta", "steps"];
export const archs = RECURRENT;

export function key(trace, view) {
  return stepKey(trace, view);
}

/** Per layer, ‖h^l_t‖ for t < n (null where a step has not arrived). */
export function layerNorms(trace, n) {
  const first = trace.steps.find(Boolean), L = first ? first.h.length : 0;
  const norm = (v) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return [...Array(L).keys()].map((l) => [...Array(trace.T).keys()].map((t) => {
    const s = trace.steps[t];
    return t < n && s ? norm(s.h[l]) : null;
  }));
}

export function figure(trace, view, strings, theme, box) {
  const n = stepColumns(trace, view), norms = layerNorms(trace, n), L = norms.length;
  const x = [...Array(trace.T).keys()];
  const data = norms.map((y, l) => ({
    x, y, mode: l === L - 1 ? "lines+markers" : "lines", connectgaps: false, meta: `h_l${l}`,
    name: fmt(strings.layer_n, { n: l }) + (l === L - 1 && L > 1 ? ` (${strings.depth_top})` : ""),
    line: { color: theme.colour("hidden"), width: 1.5 + 1.5 * l, dash: l === L - 1 ? "solid" : ["dot", "dash"][l % 2] },
    marker: { size: 8 }, hovertemplate: `t=%{x} ‖h‖=%{y:.3f}<extra></extra>`,
  }));
  return {
    data,
    layout: baseLayout(theme, {
      height: 340, showlegend: true, legend: legend(),
      xaxis: tokenAxis(trace, box), yaxis: { title: { text: strings.depth_axis }, rangemode: "tozero", fixedrange: true },
    }),
  };
}

export function describe(trace, view, strings) {
  const n = stepColumns(trace, view);
  if (!n || !trace.steps[n - 1]) return "";
  const norms = layerNorms(trace, n).map((y) => y[n - 1]);
  return fmt(strings.depth_desc, { t: n - 1, L: norms.length,
                                   parts: norms.map((v, l) => `${fmt(strings.layer_n, { n: l })} ${num(v)}`).join(", ") });
}
