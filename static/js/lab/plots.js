/* The lab's three plots as pure functions of the runs (lab/run-state.js) to a Plotly figure
   { data, layout }; the page hands them to Plotly.react. No DOM (unit-tested in tests/js/lab.test.mjs).

   ctx = { strings, theme, colours: [concepts.css name per run], labels: [label per run], task, box }

   lossFigure(runs, ctx)               training loss (solid) and held-out loss (dotted) against the
                                       training step, log y, the task's baseline as a labelled line
   baselineLine(runs, taskName, strings)  the baseline in words, for under the loss plot
   gradFigure(runs, ctx)               gradient norm before clipping, log y, each clip-by-norm
                                       threshold as a labelled line
   snapshotFigure(runs, step, ctx)     the gradient of the last loss against distance d (`final`),
                                       log y, from each run's snapshot at training step `step` (null:
                                       its latest); the y axis spans every snapshot received, so it
                                       holds still while the curves move
   snapshotSteps(runs), snapshotCount(runs), snapshotAt(run, step)   for the slider

   Every trace carries `meta` ("train-0", "held-1", "grad-2", "snap-3", "baseline" ...) so tests and
   tools can tell them apart. Runs differ in colour and also in dash and marker where lines are few.
*/

import { fmt, isNum, logAxis, short } from "../core/format.js";
import { baseLayout, centerNote } from "../panels/common.js";
import { logPoints } from "./run-state.js";

const DASH = ["solid", "dash", "dot", "dashdot"];
const SYMBOL = ["circle", "square", "diamond", "triangle-up"];

function height(box) {
  return box && box.width < 520 ? 300 : 360;
}

function layoutFor(ctx, extra) {
  const narrow = ctx.box && ctx.box.width < 520;
  return baseLayout(ctx.theme, {
    height: height(ctx.box),
    ...(ctx.box && ctx.box.width ? { width: ctx.box.width } : {}),  // the page redraws when its box changes
    margin: narrow ? { l: 58, r: 30, t: 12, b: 50 } : { l: 76, r: 44, t: 14, b: 56 },
    font: { size: narrow ? 13 : 15, color: ctx.theme.font.color, family: ctx.theme.font.family },
    hovermode: "closest",
    ...extra,
  });
}

function emptyFigure(ctx, text) {
  return { data: [], layout: layoutFor(ctx, { xaxis: { visible: false }, yaxis: { visible: false },
                                              annotations: [centerNote(text, ctx.theme, ctx.box)] }) };
}

function maxSteps(runs) {
  return Math.max(1, ...runs.map((r) => r.steps || 0));
}

const NICE = [1, 1.5, 2, 3, 5, 7.5];

/* The step axis grows with the runs in a few jumps (50, 75, 100, 150 ...), up to the longest run's
   length: early curves are not squeezed into the left edge, and the axis rarely moves. */
export function stepRange(reached, total) {
  const want = Math.max(10, reached * 1.08);
  if (want >= total) return [0, total * 1.02];
  const decade = 10 ** Math.floor(Math.log10(want));
  const nice = NICE.map((f) => f * decade).find((v) => v >= want) || 10 * decade;
  return [0, Math.min(nice, total) * 1.02];
}

function stepAxis(runs, ctx) {
  const reached = Math.max(0, ...runs.map((r) => r.series.step[r.series.step.length - 1] || 0));
  return { title: { text: ctx.strings.lab_axis_step }, range: stepRange(reached, maxSteps(runs)), zeroline: false, fixedrange: true };
}

/* A horizontal line across the plot at y, with its label above the line's right end. */
function hline(y, text, colour) {
  return {
    shape: { type: "line", xref: "paper", yref: "y", x0: 0, x1: 1, y0: y, y1: y, line: { color: colour, width: 2, dash: "dash" } },
    annotation: { xref: "paper", yref: "y", x: 0.99, y: Math.log10(y), xanchor: "right", yanchor: "bottom", showarrow: false,
                  text, font: { size: 13, color: colour } },
  };
}

/* The run's number just right of its last drawn point (colour is not the only cue). */
function endLabel(points, run, colour, meta) {
  const n = points.x.length;
  return { x: n ? [points.x[n - 1]] : [], y: n ? [points.y[n - 1]] : [], mode: "text", text: [String(run.index + 1)],
           textposition: "middle right", textfont: { size: 14, color: colour }, cliponaxis: false, hoverinfo: "skip",
           showlegend: false, meta };
}

export function lossFigure(runs, ctx) {
  if (!runs.length) return emptyFigure(ctx, ctx.waiting || ctx.strings.lab_plot_waiting);
  const { strings, theme } = ctx, data = [], values = [];
  runs.forEach((run, i) => {
    const colour = theme.colour(ctx.colours[i]), name = `${i + 1} · ${ctx.labels[i]}`;
    const train = logPoints(run.series.step, run.series.loss), held = logPoints(run.series.step, run.series.held_out);
    values.push(...train.y, ...held.y);
    data.push({ x: train.x, y: train.y, mode: "lines", name: `${name} · ${strings.lab_train}`, meta: `train-${i}`,
                line: { color: colour, width: 3 }, hovertemplate: `${name}<br>${strings.lab_train} %{y:.3g} @ %{x}<extra></extra>` });
    data.push({ x: held.x, y: held.y, mode: "lines", name: `${name} · ${strings.lab_held_out}`, meta: `held-${i}`,
                line: { color: colour, width: 2, dash: "dot" }, hovertemplate: `${name}<br>${strings.lab_held_out} %{y:.3g} @ %{x}<extra></extra>` });
    data.push(endLabel(train, run, colour, `label-${i}`));
    if (run.status === "diverged" && train.x.length) {
      data.push({ x: [train.x[train.x.length - 1]], y: [train.y[train.y.length - 1]], mode: "markers+text", meta: `diverged-${i}`,
                  marker: { symbol: "x-thin-open", size: 18, line: { width: 3, color: theme.colour("cut") }, color: theme.colour("cut") },
                  text: [strings.lab_diverged_mark], textposition: "top right", textfont: { color: theme.colour("cut"), size: 14 },
                  cliponaxis: false, hoverinfo: "skip", showlegend: false });
    }
  });
  const baseline = runs.map((r) => r.baseline).find(isNum);
  if (isNum(baseline) && baseline > 0) values.push(baseline);
  if (!values.length) return emptyFigure(ctx, strings.lab_plot_no_data);
  const regression = ctx.task && ctx.task.regression;
  const yaxis = logAxis(values, { title: { text: regression ? strings.lab_axis_loss_mse : strings.lab_axis_loss_ce } });
  const shapes = [], annotations = [];
  if (isNum(baseline) && baseline > 0) {
    const label = strings[`lab_baseline_${ctx.taskName}`] || "baseline";
    const line = hline(baseline, fmt(strings.lab_baseline_short, { v: short(baseline) }), theme.colour("bound"));
    shapes.push(line.shape);
    annotations.push(line.annotation);
    data.push({ x: [null], y: [null], mode: "lines", meta: "baseline", name: label, showlegend: false, hoverinfo: "skip",
                line: { color: theme.colour("bound"), dash: "dash" } });
  }
  return { data, layout: layoutFor(ctx, { xaxis: stepAxis(runs, ctx), yaxis, shapes, annotations }) };
}

/* The baseline in words, under the loss plot: "baseline: always answer 1 (MSE 1/6) = 0.167". */
export function baselineLine(runs, taskName, strings) {
  const baseline = runs.map((r) => r.baseline).find(isNum);
  if (!isNum(baseline)) return "";
  return `${strings[`lab_baseline_${taskName}`] || "baseline"} = ${Number(baseline.toPrecision(3))}`;
}

export function gradFigure(runs, ctx) {
  if (!runs.length) return emptyFigure(ctx, ctx.waiting || ctx.strings.lab_plot_waiting);
  const { strings, theme } = ctx, data = [], values = [];
  runs.forEach((run, i) => {
    const colour = theme.colour(ctx.colours[i]), name = `${i + 1} · ${ctx.labels[i]}`;
    const points = logPoints(run.series.step, run.series.grad_norm_before);
    values.push(...points.y);
    data.push({ x: points.x, y: points.y, mode: "lines", name, meta: `grad-${i}`, line: { color: colour, width: 2 },
                hovertemplate: `${name}<br>‖∇‖ %{y:.3g} @ %{x}<extra></extra>` });
    data.push(endLabel(points, run, colour, `grad-label-${i}`));
  });
  if (!values.length) return emptyFigure(ctx, strings.lab_plot_no_data);
  const thresholds = [...new Set(runs.filter((r) => r.knobs.clip_mode === "norm" && isNum(r.knobs.clip_threshold) && r.knobs.clip_threshold > 0)
    .map((r) => r.knobs.clip_threshold))];
  const yaxis = logAxis([...values, ...thresholds], { title: { text: strings.lab_axis_grad } });
  const shapes = [], annotations = [];
  for (const v of thresholds) {
    const line = hline(v, fmt(strings.lab_threshold, { v: short(v) }), theme.colour("bound"));
    shapes.push(line.shape);
    annotations.push(line.annotation);
    data.push({ x: [null], y: [null], mode: "lines", meta: `threshold-${v}`, showlegend: false, hoverinfo: "skip",
                line: { color: theme.colour("bound"), dash: "dash" } });
  }
  return { data, layout: layoutFor(ctx, { xaxis: stepAxis(runs, ctx), yaxis, shapes, annotations }) };
}

/* The training steps at which any run took a snapshot, in order: what the slider scrubs through. */
export function snapshotSteps(runs) {
  return [...new Set(runs.flatMap((r) => r.snapshots.map((s) => s.step)))].sort((a, b) => a - b);
}

export function snapshotCount(runs) {
  return snapshotSteps(runs).length;
}

/* A run's snapshot at training step `step` (null: its latest): the last one taken at or before it, or
   its first when it has none that early. */
export function snapshotAt(run, step) {
  const n = run.snapshots.length;
  if (!n) return null;
  if (step === null || step === undefined) return run.snapshots[n - 1];
  let found = run.snapshots[0];
  for (const s of run.snapshots) if (s.step <= step) found = s;
  return found;
}

export function snapshotFigure(runs, step, ctx) {
  if (!runs.length) return emptyFigure(ctx, ctx.waiting || ctx.strings.lab_plot_waiting);
  const { strings, theme } = ctx, data = [], all = [];
  let far = 1;
  for (const run of runs) {
    for (const s of run.snapshots) {
      all.push(...logPoints(s.distance, s.final).y);
      far = Math.max(far, ...s.distance);
    }
  }
  if (!all.length) return emptyFigure(ctx, strings.lab_plot_no_data);
  runs.forEach((run, i) => {
    const snap = snapshotAt(run, step);
    const colour = theme.colour(ctx.colours[i]), name = `${i + 1} · ${ctx.labels[i]}`;
    const points = snap ? logPoints(snap.distance, snap.final) : { x: [], y: [] };
    data.push({ x: points.x, y: points.y, mode: "lines+markers", name, meta: `snap-${i}`,
                line: { color: colour, width: 3, dash: DASH[i % DASH.length] },
                marker: { size: 7, symbol: SYMBOL[i % SYMBOL.length], color: colour },
                hovertemplate: `${name}<br>d=%{x}: %{y:.3e}<extra></extra>` });
    data.push(endLabel(points, run, colour, `snap-label-${i}`));
  });
  const yaxis = logAxis(all, { title: { text: strings.lab_axis_final } });
  const xaxis = { title: { text: strings.lab_axis_distance }, range: [-0.5, far + 1.5], zeroline: false, fixedrange: true };
  return { data, layout: layoutFor(ctx, { xaxis, yaxis }) };
}
