/* ||dL/dh_t|| per step (the sum over every later loss) on a log axis, one line per layer (the LSTM's
   ||dL/dc_t|| too), with Pascanu's bound for the Elman RNN. The axis spans the data; a bound that
   leaves it is clipped with a marker; inf/NaN is named once, where it starts. */

import { clipToAxis, fmt, logAxis, num, positive, short } from "../core/format.js";
import { axisBack, ALL, currentStep, cutLabels, legend, overflowMarks, overflowStart, progress, revealed, shown, sub, tokenLabel, top, backwardLogLayout } from "./common.js";

export const id = "grad-norm";
export const reads = ["meta", "back", "summary.truncated_vs_full", "summary.cuts"];
export const archs = ALL;

export function key(trace, view) {
  return `${progress(trace)}|${shown(view, trace).nb}|${currentStep(view, trace)}`;
}

/* The largest value of a clipped line that the axis does not show. */
export function offAxisMax(y, clipped) {
  return Math.max(...y.filter((v, i) => positive(v) !== null && clipped.y[i] === null));
}

/* The marks where a clipped bound leaves the axis, as a marker trace at the axis edge. */
export function clippedMarks(x, clipped, axis, name, colour) {
  if (!clipped.marks.length) return null;
  const [lo, hi] = axis.range, pad = 0.03 * (hi - lo);
  return {
    x: clipped.marks.map((m) => x[m.i]),
    y: clipped.marks.map((m) => 10 ** (m.edge === "top" ? hi - pad : lo + pad)),
    text: clipped.marks.map((m) => short(m.value)),
    mode: "markers", cliponaxis: false, name, meta: "bound-clipped",
    marker: { symbol: clipped.marks.map((m) => (m.edge === "top" ? "triangle-up" : "triangle-down")), size: 16, color: colour },
    hovertemplate: "%{text}<extra></extra>",
  };
}

export function figure(trace, view, strings, theme, box) {
  const T = trace.T, arch = trace.meta.arch, reached = new Set(revealed(view, trace)), x = [...Array(T).keys()];
  const at = (f) => x.map((t) => (reached.has(t) ? positive(f(trace.back[t])) : null));
  const first = trace.back.find(Boolean), L = first ? first.grad_h.length : 1;
  const label = arch === "transformer" ? strings.grad_x : strings.grad_h;
  const C = (n) => theme.colour(n);
  const data = [];
  for (let l = 0; l < L; l++) {
    const isTop = l === L - 1;
    data.push({ x, y: at((b) => b.grad_h[l]), mode: isTop ? "lines+markers" : "lines", connectgaps: false,
                name: L > 1 ? `${label} · ${fmt(strings.layer_n, { n: l })}` : label, meta: isTop ? "grad_h" : `grad_h_l${l}`,
                line: { color: C("gradient"), width: isTop ? 4 : 2, dash: isTop ? "solid" : "dot" },
                marker: { size: 9 }, hovertemplate: "t=%{x} %{y:.3e}<extra></extra>" });
  }
  if (arch === "lstm") {
    data.push({ x, y: at((b) => top(b.grad_c)), mode: "lines+markers", name: strings.grad_c, meta: "grad_c",
                line: { color: C("cell"), width: 3, dash: "dashdot" }, marker: { size: 7, symbol: "square" },
                hovertemplate: "t=%{x} %{y:.3e}<extra></extra>" });
  }
  // the axis spans every received step (it does not jump while stepping), the data only, never the bound
  const counted = axisBack(trace, view, reached);
  const received = counted.flatMap((b) => [...b.grad_h, ...(arch === "lstm" && b.grad_c ? [top(b.grad_c)] : [])]);
  const boundY = at((b) => b.bound);
  const anyBound = trace.back.some((b) => b && b.bound !== null && b.bound !== undefined);
  const allBounds = counted.map((b) => b.bound);
  const yaxis = logAxis(received.some((v) => positive(v) !== null) ? received : allBounds, { title: { text: strings.axis_norm } });
  if (anyBound) {
    const clipped = clipToAxis(boundY, yaxis);
    data.push({ x, y: clipped.y, mode: "lines", name: strings.pascanu, meta: "bound", connectgaps: false,
                line: { color: C("bound"), width: 3, dash: "dash" }, hovertemplate: "bound %{y:.3e}<extra></extra>" });
    const marks = clippedMarks(x, clipped, yaxis, fmt(strings.bound_off_axis, { v: short(offAxisMax(boundY, clipped)) }), C("bound"));
    if (marks) data.push(marks);
  } else if (arch === "lstm" || arch === "gru" || arch === "sgru") {  // said once, in the legend
    data.push({ x: [null], y: [null], mode: "lines", name: strings.pascanu_na, meta: "bound-na",
                line: { color: C("bound"), width: 3, dash: "dash" }, hoverinfo: "skip" });
  }
  const over = overflowMarks(trace, overflowStart(trace, view, "backward"), strings, theme);
  const annotations = [...over.annotations, ...cutLabels(trace, theme)];
  const drawn = data.some((d) => d.meta && d.meta.startsWith("grad") && d.y.some((v) => v !== null));
  const layout = backwardLogLayout(trace, view, strings, theme, box, { reached, drawn, yaxis, annotations, over });
  return { data, layout, note: note(trace, strings) };
}

function note(trace, strings) {
  const tvf = trace.summary && trace.summary.truncated_vs_full;
  if (!tvf || tvf.cosine === null || tvf.cosine === undefined) return "";
  const deg = (Math.acos(Math.max(-1, Math.min(1, tvf.cosine))) * 180) / Math.PI;
  return fmt(strings.truncated_vs_full, { cos: num(tvf.cosine), deg: deg.toFixed(1), ratio: num(tvf.norm_ratio) });
}

export function describe(trace, view, strings) {
  const t = currentStep(view, trace);
  if (view.phase !== "backward" || t < 0) return strings.backward_wait;
  const b = trace.back[t];
  const of = trace.meta.arch === "transformer" ? "x" : "h";
  if (b.overflow) return fmt(strings.describe_overflow, { t, ch: tokenLabel(trace, t) });
  return fmt(strings.describe_grad_norm, { t, ch: tokenLabel(trace, t), g: `‖∂L/∂${of}${sub(t)}‖`, v: short(top(b.grad_h)),
                                           bound: b.bound === null || b.bound === undefined ? "" : fmt(strings.describe_bound, { v: short(b.bound) }) });
}
