/* The encoder-decoder's alignment: the weights a_ij as a heatmap (the energies e_ij on hover), rows
   = the output steps revealed so far (i = 0 at the top), columns = the source characters j. The task's
   own alignment (which source character each output copies) is outlined. Reads a Seq2SeqSource trace
   (static/js/sources/seq2seq.js). Without attention there are no weights: a note says so. */

import { fmt, sig } from "../core/format.js";
import { baseLayout, centerNote, sequential } from "./common.js";
import { charLabel, key as stepKey, outputIndex } from "../sources/seq2seq-view.js";

export const id = "alignment";
export const reads = ["meta", "steps"];
export const archs = ["seq2seq"];
export const key = stepKey;

export function figure(trace, view, strings, theme, box) {
  const m = trace.meta;
  if (!m) return { data: [], layout: baseLayout(theme, { height: 360 }) };
  if (!m.attention) {
    return { data: [], layout: baseLayout(theme, { height: 260, xaxis: { visible: false }, yaxis: { visible: false },
      annotations: [centerNote(strings.s2s_no_attention, theme, box, "muted")] }) };
  }
  const shown = outputIndex(trace, view);
  const rows = trace.steps.map((s, i) => (i <= shown ? s.weights : s.weights.map(() => null)));
  const energies = trace.steps.map((s) => s.energies);
  const yText = trace.steps.map((s, i) => `${i} ${charLabel(s.target)}`);
  const xText = m.encoder.chars.map((c, j) => `${j}<br>${charLabel(c)}`);
  const hits = [];
  trace.steps.forEach((s, i) => {
    if (i <= shown && s.aligned !== null) hits.push({ x: s.aligned, y: i });
  });
  const data = [
    { type: "heatmap", z: rows, x: m.encoder.chars.map((_, j) => j), y: trace.steps.map((_, i) => i),
      customdata: energies, colorscale: sequential(theme, "attention"), zmin: 0, zmax: 1, hoverongaps: false,
      colorbar: { title: { text: "a" }, thickness: 12 },
      hovertemplate: `i=%{y} j=%{x}: ${strings.s2s_weight} %{z:.3f}, ${strings.s2s_energy} %{customdata:.2f}<extra></extra>` },
    { type: "scatter", mode: "markers", x: hits.map((h) => h.x), y: hits.map((h) => h.y), hoverinfo: "skip",
      marker: { symbol: "square-open", size: Math.max(8, Math.min(26, ((box?.width || 600) - 150) / (m.J + 1))),
                color: theme.colour("target"), line: { width: 2 } } },
  ];
  const every = Math.max(1, Math.ceil((m.J * 26) / Math.max(200, (box?.width || 600) - 150)));
  return {
    data,
    layout: baseLayout(theme, {
      height: Math.max(320, Math.min(560, 60 + 22 * trace.steps.length)),
      margin: { l: 56, r: 20, t: 16, b: 70 },
      xaxis: { title: { text: strings.s2s_source }, automargin: true, tickvals: xText.map((_, j) => j).filter((j) => j % every === 0),
               ticktext: xText.filter((_, j) => j % every === 0), fixedrange: true, zeroline: false, showgrid: false },
      yaxis: { title: { text: strings.s2s_output }, autorange: "reversed", tickvals: yText.map((_, i) => i),
               ticktext: yText, fixedrange: true, zeroline: false, showgrid: false, tickfont: { size: 13 } },
    }),
  };
}

export function describe(trace, view, strings) {
  const m = trace.meta;
  if (!m) return "";
  if (!m.attention) return strings.s2s_no_attention;
  const i = outputIndex(trace, view);
  if (i < 0) return "";
  const w = trace.steps[i].weights;
  const j = w.indexOf(Math.max(...w));
  return fmt(strings.s2s_alignment_desc, { i, out: charLabel(trace.steps[i].target), j, src: charLabel(m.encoder.chars[j]),
                                           w: sig(w[j], 3) });
}
