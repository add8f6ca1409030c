/* A lesson's lab figure (pages/lesson.js): what it may show while a prediction about it is still open,
   and an "open in the bench" link for each run that has stopped training. Pure functions, no DOM
   (unit-tested in tests/js/lab-bench-links.test.mjs).

   concealLab(questions)        true while some question on the figure is neither locked in nor revealed:
                                the runs' curves are the answer, so they are drawn only after the learner
                                has committed to a prediction (training may run meanwhile; nothing of it shows)
   runBenchLinks(trace, lang)   [{ n, label, href }] for every run that has finished (done, diverged,
                                stopped) and whose task the bench shows; none while the figure is concealed
*/

import { isLive } from "./run-state.js";
import { benchHref } from "./upload.js";

export function concealLab(questions) {
  return (questions || []).some((q) => !q.committed && !q.revealed);
}

export function runBenchLinks(trace, lang) {
  if (!trace || trace.concealed || !trace.started) return [];
  const labels = (trace.meta && trace.meta.labels) || [];
  return (trace.runs || []).flatMap((run, i) => (!isLive(run) && run.id && run.benchUrl
    ? [{ n: i + 1, label: labels[i] ?? "", href: benchHref(run.benchUrl, lang) }] : []));
}

/* The runs whose bench link is still to be asked for (GET /api/runs/{id}: bench_url), once each. */
export function benchToAsk(trace) {
  return (trace.runs || []).filter((run) => run.id && !isLive(run) && run.benchUrl === undefined && !run.benchPending);
}
