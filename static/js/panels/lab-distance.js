/* A lab figure's runs: the gradient the last loss sends d steps back, from each run's latest snapshot;
   drawn by static/js/lab/plots.js snapshotFigure, as on the /lab page. */

import { fmt } from "../core/format.js";
import { snapshotAt, snapshotFigure } from "../lab/plots.js";
import { labContext, labKey, num, runName, shownRuns, unsized } from "../lab/panel-context.js";

export const id = "lab-distance";
export const reads = ["runs"];
export const archs = ["lab"];

export function key(trace) {
  return labKey(trace);
}

export function figure(trace, view, strings, theme, box) {
  return unsized(snapshotFigure(shownRuns(trace), null, labContext(trace, strings, theme, box)));
}

/* At the farthest distance of each run's latest snapshot: "1 · RNN (tanh): d = 49: 3.9e-23 (step 570)". */
export function describe(trace, view, strings) {
  const runs = shownRuns(trace);  // none while a question about them is open
  if (!runs.some((r) => r.snapshots.length)) return strings.lab_plot_waiting;
  return runs.map((r, i) => {
    const snap = snapshotAt(r, null);
    if (!snap || !snap.distance.length) return `${runName(trace, i)}: —`;
    const k = snap.distance.length - 1;
    return fmt(strings.lesson_lab_describe_distance, { run: runName(trace, i), d: snap.distance[k], v: num(snap.final[k]),
                                                       step: snap.step });
  }).join(" · ");
}
