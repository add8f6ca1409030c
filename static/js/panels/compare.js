/* Gradient against distance for the same text through RNN, LSTM, GRU, the simplified GRU and Transformer: the mean
   ||dL_t/dh_{t-d}|| over every loss, from each architecture's summary (a CompareSource's trace:
   { meta: { arch }, summaries: { arch: summary }, failed: { arch: true }, ready }). For the Elman
   RNN, the theory line local * (gamma sigma_max)^d. */

import { clipToAxis, fmt, gradientVsDistance, logAxis, positive, short } from "../core/format.js";
import { ALL, baseLayout, centerNote, legend } from "./common.js";

export const id = "compare";
export const reads = ["summaries"];
export const archs = ALL;
export const inputs = ["chars"];  // the same text through every architecture

const DASH = { rnn: "solid", lstm: "dash", gru: "dot", sgru: "longdash", transformer: "dashdot" };
const SYMBOL = { rnn: "circle", lstm: "square", gru: "diamond", sgru: "cross", transformer: "triangle-up" };

export function key(trace) {
  return `${trace.version}|${trace.ready}`;
}

export function curves(trace) {
  const out = {};
  for (const arch of ALL) if (trace.summaries[arch]) out[arch] = gradientVsDistance(trace.summaries[arch].grad_flow);
  return out;
}

export function figure(trace, view, strings, theme, box) {
  if (!trace.ready) {
    return { data: [], layout: baseLayout(theme, { height: 380, xaxis: { visible: false }, yaxis: { visible: false },
      annotations: [centerNote(strings.compare_loading, theme, box)] }) };
  }
  const c = curves(trace), data = [];
  for (const arch of ALL) {
    const name = strings[`choice_arch_${arch}`] || arch, colour = theme.colour(`arch-${arch}`);
    if (trace.failed[arch] || !c[arch]) {
      data.push({ x: [null], y: [null], mode: "lines", name: `${name} (${strings.compare_unavailable})`, meta: arch,
                  line: { color: colour, dash: DASH[arch] } });
      continue;
    }
    data.push({ x: c[arch].x, y: c[arch].y, mode: "lines+markers", name, meta: arch,
                line: { color: colour, width: arch === trace.meta.arch ? 5 : 3, dash: DASH[arch] },
                marker: { size: 8, symbol: SYMBOL[arch] }, hovertemplate: `${name} d=%{x}: %{y:.3e}<extra></extra>` });
  }
  const yaxis = logAxis(data.flatMap((d) => d.y), { title: { text: strings.axis_norm } });
  const rnn = c.rnn, p = trace.summaries.rnn && trace.summaries.rnn.pascanu;
  const eta = p && p.decay_bound ? p.decay_bound[p.decay_bound.length - 1] : null;
  if (rnn && eta > 0) {  // each step back multiplies by at most eta = gamma * sigma_max(W_hh)
    const clipped = clipToAxis(rnn.x.map((d, i) => positive(rnn.local[i] * eta ** d)), yaxis);
    data.push({ x: rnn.x, y: clipped.y, mode: "lines", name: strings.theory_line, meta: "theory",
                line: { color: theme.colour("bound"), width: 3, dash: "dash" }, hoverinfo: "skip" });
    if (clipped.marks.length) {
      data.push({ x: clipped.marks.map((m) => rnn.x[m.i]), y: clipped.marks.map(() => 10 ** (yaxis.range[1] - 0.03 * (yaxis.range[1] - yaxis.range[0]))),
                  mode: "markers", cliponaxis: false, meta: "theory-clipped", marker: { symbol: "triangle-up", size: 16, color: theme.colour("bound") },
                  name: fmt(strings.bound_off_axis, { v: short(Math.max(...rnn.x.map((d, i) => (clipped.y[i] === null ? rnn.local[i] * eta ** d : 0)))) }) });
    }
  }
  const layout = baseLayout(theme, {
    height: 400, showlegend: true, legend: legend({ y: -0.3 }),  // below the axis title
    xaxis: { title: { text: strings.axis_distance }, fixedrange: true, zeroline: false }, yaxis,
    margin: { l: 80, r: 20, t: 20, b: 130 },
  });
  return { data, layout };
}

export function describe(trace, view, strings) {
  if (!trace.ready) return strings.compare_loading;
  const c = curves(trace), drawn = ALL.filter((arch) => c[arch] && c[arch].x.length > 1);
  if (!drawn.length) return strings.compare_unavailable;
  const d = Math.min(...drawn.map((arch) => c[arch].x[c[arch].x.length - 1]));  // the farthest distance all share
  const parts = drawn.map((arch) => `${strings[`choice_arch_${arch}`] || arch} ${short(c[arch].y[c[arch].x.indexOf(d)])}`);
  return `${fmt(strings.describe_compare, { d })} ${parts.join(" · ")}`;
}
