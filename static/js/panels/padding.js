/* One ragged batch, run three ways (POST /api/shapes/padding): padded to the longest sentence without a
   mask (a static RNN: every sentence reads T_max steps, the short ones read PAD after their end), padded
   with a mask (the state stops moving at each sentence's end), and packed (pack_padded_sequence, a
   dynamic RNN); the figure's mask knob picks which padded run is drawn beside the packed one. Above: the batch, real characters against PAD, with the time step t = view.step
   outlined; below, per sentence: how far its last hidden state lies from the packed one, and its loss.
   Reads a ShapesSource trace. */

import { fmt, sig } from "../core/format.js";
import { baseLayout, legend } from "./common.js";

export const id = "padding";
export const reads = ["meta", "padding"];
export const archs = ["shapes"];
export const WAYS = ["no_mask", "mask", "packed"];
const COLOUR = { no_mask: "cut", mask: "gate-i", packed: "hidden" };

export function key(trace, view) {
  return `${trace.version}|${view.step || 0}`;
}

/** The ways drawn: the figure's mask knob picks the padded run shown beside the packed one (true: with
 *  its mask, false: without); a trace without the knob (the bench, tests) shows all three. */
export function waysShown(trace) {
  const mask = trace.meta && trace.meta.knobs ? trace.meta.knobs.mask : undefined;
  if (mask === undefined || mask === null) return WAYS;
  return [mask ? "mask" : "no_mask", "packed"];
}

export function figure(trace, view, strings, theme, box) {
  const p = trace.padding;
  if (!p) return { data: [], layout: baseLayout(theme, { height: 560 }) };
  const S = p.sentences.length, Tm = p.padded_length;
  const t = Math.min(view.step || 0, Tm);
  const names = p.sentences.map((_, k) => fmt(strings.shapes_pad_sentence, { k: k + 1, n: p.lengths[k] }));
  const grid = p.lengths.map((len) => [...Array(Tm).keys()].map((j) => (j < len ? 1 : 0)));
  const text = p.sentences.map((s, k) => [...Array(Tm).keys()].map((j) => (j < p.lengths[k] ? [...s][j] : "PAD")));
  const data = [
    { type: "heatmap", z: grid, x: [...Array(Tm).keys()], y: names, text, zmin: 0, zmax: 1, showscale: false,
      colorscale: [[0, theme.colour("wash")], [1, theme.colour("faint")]], xgap: 1, ygap: 2, xaxis: "x", yaxis: "y",
      hovertemplate: "%{y}, t=%{x}: %{text}<extra></extra>" },
  ];
  for (const way of waysShown(trace)) {
    data.push({ type: "bar", name: strings[`shapes_pad_${way}`], x: names, y: p[way].distance_to_packed, xaxis: "x2",
                yaxis: "y2", marker: { color: theme.colour(COLOUR[way]) }, offsetgroup: way,
                hovertemplate: `%{x}: ${strings[`shapes_pad_${way}`]} %{y:.3g}<extra></extra>` });
    data.push({ type: "bar", name: strings[`shapes_pad_${way}`], x: names, y: p[way].loss, xaxis: "x3", yaxis: "y3",
                marker: { color: theme.colour(COLOUR[way]) }, offsetgroup: way, showlegend: false,
                hovertemplate: `%{x}: ${strings.shapes_pad_loss} %{y:.3g}<extra></extra>` });
  }
  const narrow = ((box && box.width) || 900) < 560;
  const shapes = t > 0 ? [{ type: "rect", xref: "x", yref: "y domain", x0: t - 1.5, x1: t - 0.5, y0: 0, y1: 1,
                            line: { color: theme.colour("current"), width: 3 } }] : [];
  return {
    data,
    layout: baseLayout(theme, {
      height: 600, barmode: "group", showlegend: true, legend: legend({ y: -0.08 }), shapes,
      margin: { l: narrow ? 70 : 110, r: 16, t: 16, b: 90 },
      xaxis: { domain: [0, 1], anchor: "y", title: { text: strings.shapes_pad_time, standoff: 2 }, fixedrange: true,
               zeroline: false },
      yaxis: { domain: [0.74, 1], anchor: "x", fixedrange: true, autorange: "reversed",
               tickfont: { size: narrow ? 11 : 14 } },
      xaxis2: { domain: [0, 0.44], anchor: "y2", fixedrange: true, tickfont: { size: narrow ? 10 : 13 } },
      // one scale for every way: with the mask the bars sit at 0 against the no-mask distances, not float noise
      yaxis2: { domain: [0, 0.56], anchor: "x2", title: { text: strings.shapes_pad_distance }, fixedrange: true,
                range: [0, 1.1 * Math.max(...WAYS.flatMap((w) => p[w].distance_to_packed), 1e-3)] },
      xaxis3: { domain: [0.64, 1], anchor: "y3", fixedrange: true, tickfont: { size: narrow ? 10 : 13 } },
      yaxis3: { domain: [0, 0.56], anchor: "x3", title: { text: strings.shapes_pad_loss }, fixedrange: true,
                rangemode: "tozero" },
    }),
  };
}

export function describe(trace, view, strings) {
  const p = trace.padding;
  if (!p) return "";
  const t = Math.min(view.step || 0, p.padded_length);
  const reading = p.lengths.filter((n) => n >= t).length;
  const far = Math.max(...p.no_mask.distance_to_packed), masked = Math.max(...p.mask.distance_to_packed);
  return fmt(strings.shapes_pad_desc, { t, reading, pads: p.lengths.length - reading, far: sig(far),
                                        masked: sig(masked), loss_no: sig(p.no_mask.mean_loss),
                                        loss_packed: sig(p.packed.mean_loss) });
}
