/* A lab figure's runs: training loss (solid) and held-out loss (dotted) against the training step, with
   the task's baseline; drawn by static/js/lab/plots.js lossFigure, the same drawing as the /lab page. */

import { fmt } from "../core/format.js";
import { baselineLine, lossFigure } from "../lab/plots.js";
import { labContext, labKey, num, runName, shownRuns, unsized } from "../lab/panel-context.js";

export const id = "lab-loss";
export const reads = ["runs"];
export const archs = ["lab"];

export function key(trace) {
  return labKey(trace);
}

export function figure(trace, view, strings, theme, box) {
  const out = unsized(lossFigure(shownRuns(trace), labContext(trace, strings, theme, box)));
  // which run is which: the numbers at the lines' ends, then the baseline in words
  const legend = (trace.runs || []).map((r, i) => runName(trace, i)).join(" · ");
  const baseline = baselineLine(shownRuns(trace), trace.meta?.task?.name, strings);
  return { ...out, note: [legend, baseline].filter(Boolean).join(" — ") };
}

/* "1 · RNN (tanh): held-out 0.194 at step 600 · 2 · IRNN: ..." (or that nothing has run yet). */
export function describe(trace, view, strings) {
  const runs = shownRuns(trace);  // none while a question about them is open
  if (!runs.some((r) => r.series.step.length)) return strings.lab_plot_waiting;
  return runs.map((r, i) => {
    const last = r.last;
    return last ? fmt(strings.lesson_lab_describe_loss, { run: runName(trace, i), v: num(last.held_out), step: last.step })
      : `${runName(trace, i)}: —`;
  }).join(" · ");
}
