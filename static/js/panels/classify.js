/* The many-to-one classifier as it reads (POST /api/shapes/classify): after each character t, the
   probability that the sentence names a person if it ended there (the readout of h_t), and the norm
   of h_t below. Only the last step's probability is the classifier's answer. view.step counts the
   characters read. Reads a ShapesSource trace. */

import { fmt, sig, showChar } from "../core/format.js";
import { baseLayout } from "./common.js";

export const id = "classify";
export const reads = ["meta", "classify"];
export const archs = ["shapes"];

export function key(trace, view) {
  return `${trace.version}|${Math.min(view.step || 0, trace.T)}`;
}

export function figure(trace, view, strings, theme, box) {
  const c = trace.classify;
  if (!c) return { data: [], layout: baseLayout(theme, { height: 400 }) };
  const T = c.chars.length, n = Math.min(view.step || 0, T);
  const xs = c.chars.map((_, i) => i);
  const width = (box && box.width) || 900;
  const every = Math.max(1, Math.ceil((T * 15) / Math.max(200, width - 90)));
  const ticks = xs.filter((i) => i % every === 0);
  const shown = (arr) => arr.map((v, i) => (i < n ? v : null));
  const data = [
    { type: "scatter", mode: "lines+markers", x: xs, y: shown(c.p_name), xaxis: "x", yaxis: "y2",
      text: c.chars.map(showChar), line: { color: theme.colour("prob"), width: 3 }, marker: { size: 6 },
      hovertemplate: `'%{text}' (t=%{x}): ${strings.shapes_p_name} %{y:.3f}<extra></extra>` },
    { type: "scatter", mode: "lines", x: xs, y: shown(c.hidden_norm), xaxis: "x", yaxis: "y",
      line: { color: theme.colour("hidden"), width: 2 }, hovertemplate: "‖h_%{x}‖ = %{y:.3f}<extra></extra>" },
  ];
  if (n > 0) {
    data.push({ type: "scatter", mode: "markers", x: [n - 1], y: [c.p_name[n - 1]], xaxis: "x", yaxis: "y2",
                marker: { size: 13, color: theme.colour("current") }, hoverinfo: "skip" });
  }
  return {
    data,
    layout: baseLayout(theme, {
      height: 400, margin: { l: 64, r: 16, t: 16, b: 50 },
      shapes: [{ type: "line", xref: "paper", yref: "y2", x0: 0, x1: 1, y0: 0.5, y1: 0.5,
                 line: { color: theme.colour("muted"), width: 1, dash: "dash" } }],
      xaxis: { range: [-0.5, T - 0.5], tickmode: "array", tickvals: ticks, ticktext: ticks.map((i) => showChar(c.chars[i])),
               tickangle: 0, fixedrange: true, zeroline: false, tickfont: { size: width < 560 ? 12 : 15 } },
      yaxis: { domain: [0, 0.25], title: { text: "‖h_t‖" }, fixedrange: true, rangemode: "tozero" },
      yaxis2: { domain: [0.35, 1], title: { text: strings.shapes_p_name }, fixedrange: true, range: [0, 1.02] },
    }),
  };
}

export function describe(trace, view, strings) {
  const c = trace.classify;
  if (!c) return "";
  const n = Math.min(view.step || 0, c.chars.length);
  if (n === 0) return fmt(strings.shapes_classify_none, { T: c.chars.length });
  const text = fmt(strings.shapes_classify_desc, { t: n - 1, c: showChar(c.chars[n - 1]), p: sig(c.p_name[n - 1]) });
  return n === c.chars.length ? `${text} ${fmt(strings.shapes_classify_final, { p: sig(c.p_final) })}` : text;
}
