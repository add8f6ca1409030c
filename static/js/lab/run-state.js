/* What the page knows of one training run, built from its events (GET /api/runs/{id}/events): a pure
   reducer, no DOM, no network (unit-tested in tests/js/lab.test.mjs).

   newRun(index, knobs)        { index, knobs, id, status, position, step, steps, series, snapshots,
                                 end, benchUrl, version }
   applyRunEvent(run, kind, data)  mutates run and returns it; kinds: queued {position}, started,
                                 metrics {step, loss, held_out, accuracy, grad_norm_before, ...},
                                 snapshot {step, distance, mean, final}, paused, resumed, and last
                                 done | diverged | stopped {step, reason}
   FINAL, isLive(run), canPause(run), canResume(run)
   latest(run)                 the last metrics event (or null)

   Overflowed numbers arrive as null and stay null: the plots skip them.
*/

export const FINAL = Object.freeze(["done", "diverged", "stopped"]);
export const EVENTS = Object.freeze(["queued", "started", "metrics", "snapshot", "paused", "resumed", ...FINAL]);
const SERIES = ["loss", "held_out", "accuracy", "grad_norm_before", "grad_norm_after", "clipped_share"];

export function newRun(index, knobs) {
  const series = { step: [] };
  for (const name of SERIES) series[name] = [];
  return {
    index, knobs, id: null, urls: null, status: "starting", position: null, step: 0, steps: knobs.steps,
    series, baseline: null, last: null, snapshots: [], end: null, benchUrl: undefined, error: null, version: 0,
  };
}

const value = (x) => (typeof x === "number" && Number.isFinite(x) ? x : null);

export function applyRunEvent(run, kind, data) {
  const d = data || {};
  switch (kind) {
    case "queued":
      run.status = "queued";
      run.position = d.position ?? null;
      break;
    case "started":
      run.status = "running";
      run.position = null;
      break;
    case "metrics": {
      const s = run.series, n = s.step.length;
      if (n && s.step[n - 1] === d.step) break;  // the same step reported twice (a metrics event before diverged)
      s.step.push(d.step);
      for (const name of SERIES) s[name].push(value(d[name]));
      if (value(d.baseline) !== null) run.baseline = d.baseline;
      run.last = d;
      run.step = Math.max(run.step, d.step || 0);
      break;
    }
    case "snapshot":
      run.snapshots.push({ step: d.step, distance: d.distance || [], final: d.final || [], mean: d.mean || [] });
      break;
    case "paused":
      run.status = "paused";
      break;
    case "resumed":
      run.status = "running";
      break;
    case "done":
    case "diverged":
    case "stopped":
      if (isLive(run) || run.status === "lost") {
        run.status = kind;
        run.end = { kind, ...d };
        run.position = null;
        if (typeof d.step === "number") run.step = Math.max(run.step, d.step);
      }
      break;
    default:
      return run;
  }
  run.version += 1;
  return run;
}

export function isLive(run) {
  return ["starting", "queued", "running", "paused"].includes(run.status);
}

export const canPause = (run) => run.status === "running";
export const canResume = (run) => run.status === "paused";

export function latest(run) {
  return run.last;
}

/* Points of a series worth drawing on a log axis: finite and positive ({x, y} of equal length). */
export function logPoints(xs, ys) {
  const x = [], y = [];
  for (let i = 0; i < ys.length; i++) {
    const v = ys[i];
    if (typeof v === "number" && Number.isFinite(v) && v > 0) { x.push(xs[i]); y.push(v); }
  }
  return { x, y };
}
