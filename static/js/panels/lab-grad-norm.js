/* A lab figure's runs: the parameter gradient's norm before clipping at each training step, with each
   clip-by-norm threshold; drawn by static/js/lab/plots.js gradFigure, as on the /lab page. */

import { fmt } from "../core/format.js";
import { gradFigure } from "../lab/plots.js";
import { labContext, labKey, num, runName, shownRuns, unsized } from "../lab/panel-context.js";

export const id = "lab-grad-norm";
export const reads = ["runs"];
export const archs = ["lab"];

export function key(trace) {
  return labKey(trace);
}

export function figure(trace, view, strings, theme, box) {
  return unsized(gradFigure(shownRuns(trace), labContext(trace, strings, theme, box)));
}

export function describe(trace, view, strings) {
  const runs = shownRuns(trace);  // none while a question about them is open
  if (!runs.some((r) => r.series.step.length)) return strings.lab_plot_waiting;
  return runs.map((r, i) => {
    const last = r.last;
    const end = r.status === "diverged" ? ` ${strings.lab_diverged_mark}` : "";
    return last ? fmt(strings.lesson_lab_describe_grad, { run: runName(trace, i), v: num(last.grad_norm_before), step: last.step }) + end
      : `${runName(trace, i)}: —${end}`;
  }).join(" · ");
}
