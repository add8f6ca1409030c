/* The name tagger, character by character: above, the probability each tagger (unidirectional, reading
   left to right only, and bidirectional, reading both ways) puts on the tag the bidirectional tagger
   chose; below, the gain p_bi - p_uni. The characters the bidirectional tagger puts in a name (B or I)
   are shaded; characters the models never saw are marked "?". view.step counts the characters read.
   Reads a ShapesSource trace (POST /api/shapes/tag). */

import { fmt, sig, showChar } from "../core/format.js";
import { baseLayout, legend } from "./common.js";

export const id = "tags";
export const reads = ["meta", "tag"];
export const archs = ["shapes"];

export function key(trace, view) {
  return `${trace.version}|${Math.min(view.step || 0, trace.T)}`;
}

/** Per character: [p_uni, p_bi] of the bidirectional tagger's tag, and whether that tag is in a name. */
export function rows(tag) {
  return tag.chars.map((c, i) => {
    const k = tag.bi.tags[i];
    return { c, tag: tag.tags[k], uni: tag.uni.probs[i][k], bi: tag.bi.probs[i][k], gain: tag.gain[i],
             name: tag.tags[k] !== "O", unknown: tag.unknown.includes(i), changed: tag.changed.includes(i) };
  });
}

export function figure(trace, view, strings, theme, box) {
  const tag = trace.tag;
  if (!tag) return { data: [], layout: baseLayout(theme, { height: 420 }) };
  const rs = rows(tag), n = Math.min(view.step || 0, rs.length);
  const xs = rs.map((_, i) => i);
  const shown = (f) => rs.map((r, i) => (i < n ? f(r) : null));
  const width = (box && box.width) || 900;
  const every = Math.max(1, Math.ceil((rs.length * 15) / Math.max(200, width - 90)));
  const ticks = xs.filter((i) => i % every === 0);
  const label = (r) => (r.unknown ? "?" : showChar(r.c));
  const hover = rs.map((r) => `'${label(r)}' ${r.tag}`);
  const names = [];
  rs.forEach((r, i) => { if (r.name && i < n) names.push(i); });
  const shapes = names.map((i) => ({ type: "rect", xref: "x", yref: "paper", x0: i - 0.5, x1: i + 0.5, y0: 0, y1: 1,
                                     fillcolor: theme.colour("faint"), opacity: 0.25, line: { width: 0 }, layer: "below" }));
  if (n > 0) {
    shapes.push({ type: "line", xref: "x", yref: "paper", x0: n - 1, x1: n - 1, y0: 0, y1: 1,
                  line: { color: theme.colour("current"), width: 2, dash: "dot" } });
  }
  const data = [
    { type: "scatter", mode: "lines+markers", name: strings.shapes_uni, x: xs, y: shown((r) => r.uni), text: hover,
      line: { color: theme.colour("prob"), width: 2 }, marker: { size: 6 }, xaxis: "x", yaxis: "y2",
      hovertemplate: `%{text}: ${strings.shapes_uni} %{y:.3f}<extra></extra>` },
    { type: "scatter", mode: "lines+markers", name: strings.shapes_bi, x: xs, y: shown((r) => r.bi), text: hover,
      line: { color: theme.colour("hidden"), width: 3 }, marker: { size: 6 }, xaxis: "x", yaxis: "y2",
      hovertemplate: `%{text}: ${strings.shapes_bi} %{y:.3f}<extra></extra>` },
    { type: "bar", name: strings.shapes_gain, x: xs, y: shown((r) => r.gain), text: hover, textposition: "none", xaxis: "x", yaxis: "y",
      marker: { color: rs.map((r) => theme.colour(r.gain >= 0 ? "hidden" : "prob")) },
      hovertemplate: `%{text}: ${strings.shapes_gain} %{y:.3f}<extra></extra>` },
  ];
  return {
    data,
    layout: baseLayout(theme, {
      height: 440, showlegend: true, legend: legend({ y: 1.12, yanchor: "bottom" }), shapes,
      margin: { l: 64, r: 16, t: 56, b: 50 },
      xaxis: { range: [-0.5, rs.length - 0.5], tickmode: "array", tickvals: ticks, ticktext: ticks.map((i) => label(rs[i])),
               tickangle: 0, fixedrange: true, zeroline: false, tickfont: { size: width < 560 ? 12 : 15 } },
      yaxis: { domain: [0, 0.3], title: { text: strings.shapes_gain_axis }, fixedrange: true, range: [-1, 1] },
      yaxis2: { domain: [0.4, 1], title: { text: strings.shapes_p_axis }, fixedrange: true, range: [0, 1.02] },
    }),
  };
}

export function describe(trace, view, strings) {
  const tag = trace.tag;
  if (!tag) return "";
  const rs = rows(tag), n = Math.min(view.step || 0, rs.length);
  if (n === 0) return fmt(strings.shapes_tags_none, { T: rs.length });
  const r = rs[n - 1];
  return fmt(strings.shapes_tags_desc, { t: n - 1, c: r.unknown ? "?" : showChar(r.c), tag: r.tag, bi: sig(r.bi),
                                         uni: sig(r.uni), gain: sig(r.gain) });
}
