/* Greedy accuracy against input length, measured live on held-out random strings (GET
   /api/seq2seq/accuracy): one line per checkpoint of the trace's task, with attention and without, and
   (the bench opened on a lab run) the run's own line at the step traced, dashed; the current source's
   length is marked. Reads a Seq2SeqSource trace's `accuracy`. */

import { fmt } from "../core/format.js";
import { baseLayout, legend } from "./common.js";

export const id = "accuracy-length";
export const reads = ["meta", "accuracy"];
export const archs = ["seq2seq"];

export function key(trace) { return `${trace.version}|${trace.accuracy ? 1 : 0}`; }

function label(model, strings) {
  const kind = model.attention ? strings.s2s_with : strings.s2s_without;
  if (!model.run) return kind;
  const step = String(model.checkpoint).split("@")[1] ?? "";  // run:<id>@<step>
  return `${fmt(strings.s2s_run_line, { step })}, ${kind}`;
}

export function figure(trace, view, strings, theme) {
  const acc = trace.accuracy;
  if (!acc || !trace.meta) return { data: [], layout: baseLayout(theme, { height: 340 }) };
  const data = acc.models.map((m) => ({
    type: "scatter", mode: "lines+markers", name: m.run ? label(m, strings) : `${label(m, strings)} (${m.checkpoint})`, x: acc.lengths,
    y: m.sequence, connectgaps: false,
    line: m.run ? { color: theme.colour("run"), width: 3, dash: "dash" }
      : { color: theme.colour(m.attention ? "attention" : "bound"), width: 3 },
    hovertemplate: "n=%{x}: %{y:.2f}<extra></extra>",
  }));
  const J = trace.meta.J;
  return {
    data,
    layout: baseLayout(theme, {
      height: 360, showlegend: true, legend: legend({ y: -0.25 }), margin: { l: 60, r: 20, t: 16, b: 100 },
      xaxis: { title: { text: strings.s2s_length, standoff: 4 }, fixedrange: true, dtick: 2 },
      yaxis: { title: { text: strings.s2s_accuracy }, range: [-0.03, 1.03], fixedrange: true },
      shapes: [{ type: "line", xref: "x", yref: "paper", x0: J, x1: J, y0: 0, y1: 1,
                 line: { color: theme.colour("current"), dash: "dot", width: 2 } }],
    }),
  };
}

export function describe(trace, view, strings) {
  const acc = trace.accuracy;
  if (!acc || !trace.meta) return "";
  const n = acc.lengths.reduce((best, L) => (Math.abs(L - trace.meta.J) < Math.abs(best - trace.meta.J) ? L : best));
  const k = acc.lengths.indexOf(n);
  const parts = acc.models.filter((m) => m.sequence[k] !== null)
    .map((m) => `${label(m, strings)} ${Math.round(100 * m.sequence[k])}%`).join(", ");
  return fmt(strings.s2s_accuracy_desc, { n, parts });
}
