/* The unrolled network: one cell per step; forward arrows carry h, backward arrows are as thick as the
   gradient that crosses them, with scissors where truncated BPTT cuts. Short texts are drawn as shapes
   and annotations, long ones as a few marker traces (hundreds of annotations would be slow). */

import { fmt, isNum, mix, num, rgba, short } from "../core/format.js";
import { ALL, MARK, RECURRENT, baseLayout, currentStep, cuts, markedSteps, overflowLine, overflowStart, progress, shown, sub, tokenLabel } from "./common.js";

export const id = "strip";
export const reads = ["meta", "steps", "back", "summary.cuts"];
export const archs = ALL;

export function key(trace, view) {
  const { nf, nb } = shown(view, trace);
  return `${progress(trace)}|${view.phase}|${nf}|${nb}|${currentStep(view, trace)}`;
}

// the gradient that reaches step t from later losses u > t: the sum of ||dL_u/dh_t||
function later(trace, t) {
  const b = trace.back[t];
  return b ? b.grad_flow_from.slice(t + 1).reduce((a, x) => a + (isNum(x) ? x : 0), 0) : null;
}

export function figure(trace, view, strings, theme, box) {
  const T = trace.T, back = view.phase === "backward", { nf, nb } = shown(view, trace), cur = currentStep(view, trace);
  const recurrent = RECURRENT.includes(trace.meta.arch);
  const cutSet = new Set(cuts(trace));
  // one ⚠ where inf/NaN starts, not one per step
  const over = overflowStart(trace, view, back ? "backward" : "forward");
  const overSteps = new Set();
  for (let t = 0; over && t < T; t++) {
    const flagged = back ? t <= over.first && t >= T - nb && trace.back[t] && trace.back[t].overflow
      : t >= over.first && t < nf && trace.steps[t].overflow;
    if (flagged) overSteps.add(t);
  }
  const C = (n) => theme.colour(n);
  const numeric = trace.meta.input_kind === "numbers";  // a label of four or five characters, not one
  const cells = [], marked = new Set(markedSteps(trace));  // numbers: the two steps whose values are added
  for (let t = 0; t < T; t++) {
    const on = t < nf, warn = overSteps.has(t);
    const wash = marked.has(t) ? rgba(C("target"), on ? 0.4 : 0.2) : on ? rgba(C("hidden"), 0.18) : C("wash");
    cells.push({ t, on, label: tokenLabel(trace, t),
      line: t === cur ? C("ink") : marked.has(t) ? C("target") : on ? C("hidden") : C("faint"), lineWidth: t === cur ? 5 : 2,
      fill: warn ? rgba(C("overflow"), 0.3) : t === cur ? C("current") : wash });
  }
  const arrows = [], scissors = [];  // arrow: from, to, f in [0, 1] (size), hover
  if (!recurrent && back) {  // no chain between positions: the gradient colours each cell it reaches
    const size = cells.map((c) => later(trace, c.t) || 0), most = Math.max(...size.filter(isNum), 1e-30);
    for (let t = T - nb; t < T; t++) {
      if (t !== cur && size[t] > 0 && !overSteps.has(t)) cells[t].fill = mix(C("paper"), C("gradient"), Math.min(1, size[t] / most));
    }
  } else if (recurrent && !back) {
    for (let t = 1; t < nf; t++) arrows.push({ from: t - 1, to: t, f: null });
  } else if (recurrent) {
    const size = [];
    for (let t = 0; t < T - 1; t++) size[t] = later(trace, t);
    const logs = size.filter((x) => x > 0 && isNum(x)).map(Math.log10);
    const lo = Math.min(...logs), hi = Math.max(...logs);
    for (let t = T - 2; t >= T - nb && t >= 0; t--) {
      if (cutSet.has(t + 1)) { scissors.push(t + 0.5); continue; }
      const v = size[t];
      if (!(v > 0)) continue;
      arrows.push({ from: t + 1, to: t, f: isNum(v) && hi > lo ? (Math.log10(v) - lo) / (hi - lo) : 1, hover: `‖·‖ = ${num(v)}` });
    }
  }
  const arrowColour = (a) => (a.f === null ? C("hidden") : mix(C("paper"), C("gradient"), 0.3 + 0.7 * a.f));
  const cutLines = [...cutSet].map((s) => ({ type: "line", x0: s - 0.5, x1: s - 0.5, y0: 0.02, y1: 0.98, xref: "x", yref: "y",
                                             line: { color: C("cut"), width: 3, dash: "dash" } }));
  const warnText = over ? `⚠ ${overflowLine(over, strings)}` : "";
  const layout = baseLayout(theme, {
    height: 200, margin: { l: 20, r: 20, t: 10, b: 10 },
    xaxis: { range: [-0.6, T - 0.4], visible: false, fixedrange: true },
    yaxis: { range: [-0.2, 1.12], visible: false, fixedrange: true },
  });
  const hover = { x: cells.map((c) => c.t), y: cells.map(() => 0.5), mode: "markers", marker: { opacity: 0 },
                  hovertemplate: "t=%{x}<extra></extra>", meta: "hover" };
  if (numeric) Object.assign(hover, { text: cells.map((c) => c.label), hovertemplate: "t=%{x} %{text}<extra></extra>" });
  const step = (((box && box.width) || 1200) - 40) / T;  // pixels per step
  if (T <= 24 && step >= 44) {
    const w = 0.27, ann = [];
    layout.shapes = cells.map((c) => ({ type: "rect", x0: c.t - w, x1: c.t + w, y0: 0.15, y1: 0.85, xref: "x", yref: "y",
                                        line: { color: c.line, width: c.lineWidth }, fillcolor: c.fill })).concat(cutLines);
    for (const c of cells) {
      ann.push({ x: c.t, y: 0.5, text: c.label, showarrow: false,
                 font: { size: numeric ? 15 : 24, color: c.on ? C("input") : C("faint"), family: "monospace" } });
      ann.push({ x: c.t, y: -0.08, text: String(c.t), showarrow: false, font: { size: 13, color: C("muted") } });
    }
    if (over) ann.push({ x: over.first, y: 1.0, text: warnText, showarrow: false, xanchor: back ? "right" : "left",
                         font: { size: 16, color: C("overflow") } });
    for (const a of arrows) {
      const dir = a.to > a.from ? 1 : -1, width = a.f === null ? 2.5 : 1.5 + 10.5 * a.f;
      ann.push({ x: a.to - dir * w, y: 0.5, ax: a.from + dir * w, ay: 0.5, xref: "x", yref: "y", axref: "x", ayref: "y",
                 text: "", showarrow: true, arrowhead: 2, arrowwidth: width, arrowsize: a.f === null ? 1 : Math.max(0.45, 2.2 / width),
                 arrowcolor: arrowColour(a), hovertext: a.hover });
    }
    for (const x of scissors) ann.push({ x, y: 0.5, text: "✂", showarrow: false, font: { size: 26, color: C("cut") } });
    layout.annotations = ann;
    return { data: [hover], layout };
  }
  // long texts (or a narrow screen): every cell, arrow and mark is one point of a few traces
  const px = Math.max(3, Math.min(40, (step < 30 ? 0.75 : 0.58) * step)), gap = step - px;  // a cell, and the room between cells
  layout.shapes = cutLines;
  const data = [
    { x: cells.map((c) => c.t), y: cells.map(() => 0.5), mode: T <= 120 ? "markers+text" : "markers", meta: "cells",
      // numbers too narrow for their cells: the two marked ones keep their ★, every value is in the hover
      text: cells.map((c) => (numeric && px < 34 ? (marked.has(c.t) ? MARK : "") : c.label)),
      textfont: { size: numeric ? (px < 34 ? 14 : 10) : px > 18 ? 16 : 11, family: "monospace",
                  color: numeric && px < 34 ? C("paper") : undefined }, hoverinfo: "skip",
      marker: { symbol: "square", size: px, color: cells.map((c) => c.fill),
                line: { color: cells.map((c) => c.line), width: cells.map((c) => Math.min(c.lineWidth, 3)) } } },
    { x: arrows.map((a) => (a.from + a.to) / 2), y: arrows.map(() => 0.5), mode: "markers", hoverinfo: "text", meta: "arrows",
      text: arrows.map((a) => a.hover || ""),
      marker: { symbol: arrows.map((a) => (a.to > a.from ? "triangle-right" : "triangle-left")),
                size: arrows.map((a) => Math.max(4, gap * (a.f === null ? 0.7 : 0.45 + 0.9 * a.f))),
                color: arrows.map(arrowColour) } },
    { x: scissors, y: scissors.map(() => 0.5), mode: "text", text: scissors.map(() => "✂"), meta: "scissors",
      textfont: { size: 16, color: C("cut") }, hoverinfo: "skip" },
    { x: over ? [over.first] : [], y: over ? [1.02] : [], mode: "text", text: over ? [warnText] : [], meta: "overflow",
      textposition: back ? "middle left" : "middle right", textfont: { size: 15, color: C("overflow") }, hoverinfo: "skip" },
    hover,
  ];
  const every = Math.max(1, Math.ceil(T / 30), Math.ceil(28 / step));
  const ticks = cells.filter((c) => c.t % every === 0);
  data.push({ x: ticks.map((c) => c.t), y: ticks.map(() => 0.05), mode: "text", text: ticks.map((c) => String(c.t)),
              textfont: { size: 13, color: C("muted") }, hoverinfo: "skip", meta: "ticks" });
  return { data, layout };
}

export function describe(trace, view, strings) {
  const t = currentStep(view, trace);
  if (t < 0) return view.phase === "backward" ? strings.backward_wait : strings.status_none;
  const ch = tokenLabel(trace, t);
  if (view.phase === "forward") return fmt(strings.describe_strip_forward, { t, ch, h: `h${sub(t)}` });
  const g = later(trace, t);
  const cut = cuts(trace).includes(t + 1);
  return fmt(strings[cut ? "describe_strip_cut" : "describe_strip_backward"], { t, ch, v: short(g), next: t + 1 });
}
