/* What the lab panels (lab-loss, lab-grad-norm, lab-distance) share: the context static/js/lab/plots.js
   draws with, built from a lab figure's trace (pages/lesson.js LabSource):

   trace = { kind: "lab", meta: { task: {name, regression, has_accuracy}, knobs: [LabKnobs per run],
             labels: [label per run], colours: [concepts.css name per run] },
             runs: [lab/run-state.js run per run], started, done, version }

   Lives beside plots.js, not in panels/: it is no panel. */

import { short } from "../core/format.js";

export function labContext(trace, strings, theme, box) {
  const meta = trace.meta || {};
  return { strings, theme, colours: meta.colours || [], labels: meta.labels || [], taskName: meta.task?.name,
           task: meta.task || null, box,
           // what an empty plot says: start the runs, or (a lesson's open question) commit to a prediction first
           waiting: trace.concealed ? strings.lesson_lab_concealed : strings.lab_plot_waiting };
}

/* The runs to draw: none before the learner pressed start (the plots then say to start them), nor while a
   lesson's question about them is open (trace.concealed, lab/bench-links.js concealLab). */
export function shownRuns(trace) {
  return trace.started === false || trace.concealed ? [] : trace.runs || [];
}

/* plots.js sizes a plot to the /lab page's box; in a lesson Plotly follows the figure's container
   (its resize handler), so the layout keeps no fixed width. */
export function unsized(out) {
  const { width, ...layout } = out.layout;
  return { ...out, layout };
}

/* The figure redraws only when a run's events changed it. */
export function labKey(trace) {
  return `${trace.version}|${trace.concealed ? 1 : 0}|${(trace.runs || []).map((r) => r.version).join(",")}`;
}

/* "1 · RNN (tanh)" */
export function runName(trace, i) {
  return `${i + 1} · ${(trace.meta?.labels || [])[i] ?? ""}`;
}

export function num(v) {
  return typeof v === "number" && Number.isFinite(v) ? short(v) : "—";
}
