/* The unrolled graph of one RNN shape (the figure's `shape` knob): inputs x_t below, states h_t in the
   middle, outputs y_t above, the arrows between them. many-to-one, one-to-many, many-to-many,
   encoder-decoder, bidirectional and deep (as many stacked rows of states as the figure's layers knob). Pure SVG as { html } (presentation attributes only: the page's
   CSP allows no inline style or script); the column of the current step is outlined. Reads a
   ShapesSource trace (only its shape: the graph is the same for every sentence). */

import { escapeHtml, fmt } from "../core/format.js";
import { sub } from "./common.js";

export const id = "shape-graph";
export const reads = ["meta"];
export const archs = ["shapes"];

const NODE = 46;
const SUPER = ["¹", "²", "³"];  // the deep shape's layers (the recurrent engine stacks at most three)

/** The deep graph's layer count: the figure's layers knob (default 2). */
export function layersOf(trace) {
  const n = trace.meta && trace.meta.knobs ? Number(trace.meta.knobs.layers) : NaN;
  return Number.isFinite(n) ? n : 2;
}
/** The time steps drawn and the drawing's width (it scales to the box's width): five steps, spread
 *  wider in a wide box so that the graph does not grow tall, or four on a phone so the labels stay legible. */
export function columns(box) {
  const w = (box && box.width) || 720;
  return w < 560 ? { COLS: 4, W: 460 } : w < 1000 ? { COLS: 5, W: 720 } : { COLS: 5, W: 960 };
}

/** Where each kind of node sits, per shape: rows of {kind, cols, label(t)} and the arrows between. */
export function layout(shape, COLS = 5, layers = 2) {
  const all = [...Array(COLS).keys()];
  const x = (cols, name = "x") => ({ kind: "input", cols, label: (t) => `${name}${sub(t + 1)}` });
  const h = (cols, name = "h") => ({ kind: "hidden", cols, label: (t) => `${name}${sub(t + 1)}` });
  const y = (cols) => ({ kind: "output", cols, label: (t) => `y${sub(t + 1)}` });
  if (shape === "one-to-many") return { rows: [x([0]), h(all), y(all)], feed: true };
  if (shape === "many-to-many") return { rows: [x(all), h(all), y(all)] };
  if (shape === "encoder-decoder") {
    const split = Math.ceil(COLS / 2), enc = all.slice(0, split), dec = all.slice(split);
    const xs = x([...enc, split]), label = xs.label;
    xs.label = (t) => (t === split ? "BOS" : label(t));  // the decoder starts from BOS, then reads its own outputs
    return { rows: [xs, h(all), y(dec)], feed: true, split };
  }
  if (shape === "bidirectional") {
    return { rows: [x(all), h(all, "→h"), { ...h(all, "←h"), back: true }, y(all)], bi: true };
  }
  if (shape === "deep") {  // stacked: layer l reads layer l-1's state at the same step
    const n = Math.min(Math.max(Math.trunc(layers) || 1, 1), SUPER.length);
    return { rows: [x(all), ...SUPER.slice(0, n).map((s) => h(all, `h${s}`)), y(all)] };
  }
  return { rows: [x(all), h(all), y([COLS - 1])] };  // many-to-one
}

function colourOf(kind, theme) {
  return theme.colour({ input: "input", hidden: "hidden", output: "prob" }[kind]);
}

export function figure(trace, view, strings, theme, box) {
  const shape = trace.meta ? trace.meta.shape : "many-to-one";
  const { COLS, W } = columns(box), GAP = (W - 80) / COLS;
  const L = layout(shape, COLS, layersOf(trace));
  const rowH = 84, top = 34, H = top + rowH * L.rows.length + 10;
  const cx = (t) => 60 + GAP * t + GAP / 2;
  const cy = (r) => top + rowH * (L.rows.length - 1 - r) + rowH / 2;  // row 0 (inputs) at the bottom
  const ink = theme.colour("ink"), muted = theme.colour("muted"), cur = theme.colour("current");
  const step = view.step || 0;  // the outlined column: the step read, while it is one of those drawn
  const parts = [];
  const arrow = (x1, y1, x2, y2, dashed) => parts.push(
    `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${dashed ? muted : ink}" stroke-width="2"` +
    `${dashed ? ' stroke-dasharray="6 5"' : ""} marker-end="url(#sg-head-${escapeHtml(shape)})"/>`);
  const half = NODE / 2 + 4;
  L.rows.forEach((row, r) => {
    for (const t of row.cols) {
      // up into this node from the row below, where that row has a node in this column
      const below = L.rows[r - 1];
      if (below && below.cols.includes(t) && !(L.bi && r === 2)) arrow(cx(t), cy(r - 1) - half, cx(t), cy(r) + half);
      if (L.bi && r === 2) arrow(cx(t) + 14, cy(0) - half, cx(t) + 14, cy(r) + half, false);
      if (L.bi && r === 3) arrow(cx(t) - 14, cy(1) - half, cx(t) - 14, cy(r) + half, false);
      if (row.kind === "hidden") {  // along time: forward, or backward in the bidirectional second row
        const next = row.back ? t - 1 : t + 1;
        if (row.cols.includes(next) && !(L.split && next === L.split && !row.back)) {
          arrow(row.back ? cx(t) - half : cx(t) + half, cy(r), row.back ? cx(next) + half : cx(next) - half, cy(r));
        } else if (L.split && next === L.split) {  // the encoder's last state is the decoder's first input: c
          arrow(cx(t) + half, cy(r), cx(next) - half, cy(r));
          parts.push(`<text x="${(cx(t) + cx(next)) / 2}" y="${cy(r) - 10}" text-anchor="middle" font-size="16" ` +
                     `fill="${ink}">c</text>`);
        }
      }
      if (row.kind === "output" && L.feed) {  // the output (a sample) is the next step's input
        const next = t + 1;
        if (next < COLS && L.rows[1].cols.includes(next)) {
          parts.push(`<path d="M ${cx(t) + half} ${cy(r)} C ${cx(t) + GAP / 2} ${cy(r)}, ${cx(next) - 30} ${cy(1) - 60}, ` +
                     `${cx(next) - 12} ${cy(1) - half}" fill="none" stroke="${muted}" stroke-width="2" ` +
                     `stroke-dasharray="6 5" marker-end="url(#sg-head-${escapeHtml(shape)})"/>`);
        }
      }
    }
  });
  L.rows.forEach((row, r) => {
    for (const t of row.cols) {
      const on = t === step - 1;
      parts.push(`<rect x="${cx(t) - NODE / 2}" y="${cy(r) - NODE / 2}" width="${NODE}" height="${NODE}" rx="${row.kind === "hidden" ? 10 : 23}" ` +
                 `fill="${colourOf(row.kind, theme)}" fill-opacity="0.18" stroke="${on ? cur : colourOf(row.kind, theme)}" ` +
                 `stroke-width="${on ? 4 : 2}"/>`);
      parts.push(`<text x="${cx(t)}" y="${cy(r) + 6}" text-anchor="middle" font-size="17" fill="${ink}">${escapeHtml(row.label(t))}</text>`);
    }
  });
  if (L.split) {
    const xs = cx(L.split) - GAP / 2;
    parts.push(`<line x1="${xs}" y1="${top - 6}" x2="${xs}" y2="${H - 4}" stroke="${muted}" stroke-width="1" stroke-dasharray="2 4"/>`);
    parts.push(`<text x="${xs - 10}" y="${top - 12}" text-anchor="end" font-size="15" fill="${muted}">${escapeHtml(strings.shapes_encoder)}</text>`);
    parts.push(`<text x="${xs + 10}" y="${top - 12}" font-size="15" fill="${muted}">${escapeHtml(strings.shapes_decoder)}</text>`);
  } else {
    parts.push(`<text x="10" y="${top - 12}" font-size="15" fill="${muted}">${escapeHtml(strings[`choice_shape_${shape}`] || shape)}</text>`);
  }
  const head = `<defs><marker id="sg-head-${escapeHtml(shape)}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" ` +
               `markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="${ink}"/></marker></defs>`;
  const title = escapeHtml(fmt(strings.shapes_graph_title, { shape: strings[`choice_shape_${shape}`] || shape }));
  return {
    html: `<svg class="shape-graph" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${title}" ` +
          `xmlns="http://www.w3.org/2000/svg">${head}${parts.join("")}</svg>`,
  };
}

export function key(trace, view) {
  return `${trace.meta ? trace.meta.shape : ""}|${layersOf(trace)}|${Math.min(view.step || 0, 6)}`;  // past the columns: none outlined
}

export function describe(trace, view, strings) {
  const shape = trace.meta ? trace.meta.shape : "many-to-one";
  if (shape === "deep") {
    const n = layout("deep", 5, layersOf(trace)).rows.filter((r) => r.kind === "hidden").length;
    return fmt(strings.shapes_graph_desc_deep, { n, top: `h${SUPER[n - 1]}` });
  }
  return strings[`shapes_graph_desc_${shape}`] || "";
}
