/* The lesson pages: the index (/) shows each lesson's progress; a lesson (/lessons/{slug}) mounts its
   figures and questions from the spec the page embeds (#lesson-config, built by app/routes/lessons.py
   from lesson.toml).

   A figure: one source per knob set (core/source.js sourceFor: equal knobs share one, the page opens
   at most one EventSource), one view store (core/view.js; an A/B pair shares it, so both sides step
   together), its panels (core/figure.js mountFigure), a control bar (transport and the learner's
   knobs: a change fetches the new trace and keeps the view), an "open in the bench" link carrying
   the current knobs and view, and a one-line description of the current step (aria-live).
   Keys (core/keys.js): the figure focused or clicked last receives ← → b space.

   A question: the learner moves a slider or picks an option, locks it in, and only then may reveal:
   the answer function (core/answers.js) runs on the figure's live trace for its current knobs, so a
   changed knob changes the answer ("reveal again" recomputes it). The raw value is in data-value.

   A lab figure (source "lab", LabSource below) trains its runs on the server only when the learner
   presses its start button; its questions are answered from the finished runs.

   Progress (sections seen, questions answered) lives in localStorage under unrolled.progress.<slug>.
*/

import { ANSWERS, computeAnswer, judgeGuess, sliderToValue } from "../core/answers.js";
import { mountFigure } from "../core/figure.js";
import { errorLines, fmt, sig } from "../core/format.js";
import { bindKeys } from "../core/keys.js";
import { CompareSource, knobQuery, releaseSource, sourceFor } from "../core/source.js";
import { readTheme } from "../core/theme.js";
import { Player, ViewStore } from "../core/view.js";
import { labApi } from "../lab/client.js";
import { runColours, runLabel } from "../lab/knobs.js";
import { benchToAsk, concealLab, runBenchLinks } from "../lab/bench-links.js";
import { isLive, newRun } from "../lab/run-state.js";
import { followRun } from "../lab/stream.js";
import { FetchedSource } from "../sources/fetched.js";
import { Seq2SeqSource } from "../sources/seq2seq.js";
import { ShapesSource } from "../sources/shapes.js";

// ---- pure helpers (unit-tested in tests/js/answers.test.mjs) ----

/** A small seeded generator (mulberry32): the same seed, the same shuffle, on every machine. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The characters of `text` in a seeded random order (Fisher-Yates); never the text itself when
 *  another order exists. */
export function shuffleText(text, seed) {
  const chars = Array.from(text);
  if (new Set(chars).size < 2) return text;
  for (let attempt = 0; attempt < 16; attempt++) {
    const rand = mulberry32(seed * 16 + attempt + 1), out = chars.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    const shuffled = out.join("");
    if (shuffled !== text) return shuffled;
  }
  return chars.slice(1).join("") + chars[0];
}

export const PROGRESS_PREFIX = "unrolled.progress.";

export function readProgress(storage, slug) {
  try {
    const raw = JSON.parse(storage.getItem(PROGRESS_PREFIX + slug) || "null");
    if (raw && Array.isArray(raw.seen) && raw.answered && typeof raw.answered === "object") return raw;
  } catch (err) {
    // a damaged entry starts again
  }
  return { seen: [], answered: {} };
}

export function progressLine(progress, sections, questions, strings) {
  const seen = sections.filter((s) => progress.seen.includes(s)).length;
  const answered = questions.filter((q) => q in progress.answered).length;
  if (!seen && !answered) return strings.index_not_started;
  if (seen === sections.length && answered === questions.length) return strings.index_finished;
  return fmt(strings.index_progress, { seen, total: sections.length, answered, questions: questions.length });
}

/** The initial view of a figure spec: "end" steps wait for the trace length. */
function initialView(view) {
  const out = { ...view };
  for (const key of ["step", "bstep"]) if (out[key] === "end") delete out[key];
  delete out.speed;
  return out;
}

function storage() {
  try { return window.localStorage; } catch (err) { return null; }
}

// ---- the page ----

// ---- the language-model sources (docs/design-lessons.md, section 6) ----

export const LM_API = Object.freeze({ sample: "/api/sample", sampleStream: "/api/sample/stream", ar: "/api/ar" });
let sampleStreaming = null;  // the page's one EventSource: the first sample figure streams, the others post

/* The same shape as a trace source (trace, status, error, subscribe, start, close), for
     "sample": text a trained character model writes (GET /api/sample/stream, else POST /api/sample):
               trace = { kind, meta: {knobs, vocab, prompt, unknown, length, T}, steps: [{t, char, probs}],
                         text, done, T, nSteps }
     "ar":     GET /api/ar: trace = { kind, meta: {knobs, vocab, tau, text, checkpoint, unknown, T},
                         steps: [{t, char, context, count, tau_used, probs, target, p_target, rnn}], summary,
                         done, T, nSteps } */
export class LMSource extends FetchedSource {
  constructor(kind, knobs, opts) {
    super(kind, knobs, { stream: kind === "sample", ...(opts || {}) },
          { steps: [], back: [], summary: null, text: "" });
    this.es = null;
  }

  query() {
    const q = new URLSearchParams(knobQuery(this.knobs));
    if (this.opts.lang) q.set("lang", this.opts.lang);
    return q;
  }

  start() {
    if (this.status !== "idle") return this;
    if (this.kind === "ar") this.fetchAr();
    else if (this.opts.stream && typeof EventSource === "function" && !sampleStreaming) this.stream();
    else this.postSample();
    return this;
  }

  setMeta(meta) {
    this.trace.meta = { ...meta, T: meta.length };
    this.trace.T = meta.length;
  }

  stream() {
    this.status = "streaming";
    sampleStreaming = this;
    const es = new EventSource(`${LM_API.sampleStream}?${this.query()}`);
    this.es = es;
    es.addEventListener("meta", (e) => { if (this.es === es) { this.setMeta(JSON.parse(e.data)); this.notify(); } });
    es.addEventListener("step", (e) => {
      if (this.es !== es) return;
      this.trace.steps.push(JSON.parse(e.data));
      this.trace.nSteps = this.trace.steps.length;
      this.notify();
    });
    es.addEventListener("done", (e) => {
      if (this.es !== es) return;
      this.trace.text = JSON.parse(e.data).text;
      this.trace.done = true;
      this.status = "done";
      this.stopStream();
      this.notify();
    });
    es.onerror = () => {
      if (this.es !== es || this.trace.done) return;
      if (es.readyState === 2) {  // refused (a 422) or gone: the same request as a POST says why
        this.stopStream();
        this.trace.steps = [];
        this.trace.nSteps = 0;
        this.postSample();
      }
    };
  }

  stopStream() {
    if (this.es) { this.es.close(); this.es = null; }
    if (sampleStreaming === this) sampleStreaming = null;
  }

  async postSample() {
    this.status = "loading";
    const q = this.opts.lang ? `?lang=${this.opts.lang}` : "";
    const body = await this.post(`${LM_API.sample}${q}`, this.knobs);
    if (!body) return;
    const { steps, text, ...meta } = body;
    this.setMeta(meta);
    Object.assign(this.trace, { steps, text, done: true, nSteps: steps.length });
    this.status = "done";
    this.notify();
  }

  async fetchAr() {
    this.status = "loading";
    const body = await this.request(`${LM_API.ar}?${this.query()}`, { headers: { Accept: "application/json" } });
    if (!body) return;
    const { steps, summary, ...rest } = body;
    this.trace.meta = { ...rest, knobs: this.knobs, T: steps.length };
    Object.assign(this.trace, { steps, summary, T: steps.length, nSteps: steps.length, done: true });
    this.status = "done";
    this.notify();
  }

  close() {
    this.stopStream();
    super.close();
  }
}

// ---- the lab source: training runs on the server (docs/design-lessons.md, section 5) ----

/* The same shape as a trace source, for a lab figure (source "lab"): its runs (full POST /api/runs
   bodies from the page's config) start only when the learner presses start, each followed over its own
   EventSource (lab/stream.js) through lab/run-state.js's reducer, as on the /lab page.
     trace = { kind: "lab", meta: {task, knobs, labels, colours}, runs: [run-state runs], started, done,
               T: 0, version }
   status: "idle" (not started) | "running" | "done" (every run finished, diverged or was stopped) |
   "error" (a run could not start: the others are stopped; `problems` says why, in the page's language). */
export class LabSource {
  constructor(lab, opts) {
    this.lab = lab;
    this.opts = { lang: null, strings: {}, fetch: undefined, EventSource: undefined, ...(opts || {}) };
    const knobs = lab.runs, strings = this.opts.strings;
    this.trace = { kind: "lab", meta: { task: lab.task, knobs, labels: knobs.map((k) => runLabel(k, knobs, strings)),
                                        colours: runColours(knobs) },
                   runs: knobs.map((k, i) => newRun(i, k)), steps: [], back: [], started: false, done: false, T: 0,
                   nSteps: 0, nBack: 0, version: 0 };
    this.status = "idle";
    this.error = null;
    this.problems = [];
    this.listeners = new Set();
    this.closers = [];
    this.generation = 0;
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  notify() {
    const t = this.trace;
    t.done = t.started && t.runs.every((r) => !isLive(r));
    if (t.done && this.status === "running") this.status = "done";
    t.version += 1;
    for (const run of benchToAsk(t)) this.askBench(run);
    for (const fn of [...this.listeners]) fn(t, this);
  }

  /** A finished run's bench link (its summary's bench_url; null where the bench cannot show the task). */
  async askBench(run) {
    run.benchPending = true;
    const r = await this.api().summary(run.id);
    run.benchPending = false;
    run.benchUrl = r.ok ? r.data.bench_url ?? null : null;
    run.version += 1;
    if (this.status !== "closed") this.notify();
  }

  /** While a question about the runs is open nothing of them is drawn (lab/bench-links.js concealLab). */
  setConcealed(on) {
    if (Boolean(this.trace.concealed) === on) return;
    this.trace.concealed = on;
    this.notify();
  }

  api() {
    return labApi(this.lab.api, this.opts.lang || "ko", this.opts.strings, this.opts.fetch);
  }

  get live() { return this.status === "running"; }

  /** Starts every run (again, with fresh runs, once the last ones have finished). */
  async start() {
    if (this.status === "running" || this.status === "closed") return this;
    const generation = ++this.generation;
    this.closeStreams();
    this.trace.runs = this.lab.runs.map((k, i) => newRun(i, k));
    Object.assign(this.trace, { started: true, done: false });
    this.status = "running";
    this.error = null;
    this.problems = [];
    this.notify();
    const api = this.api();
    for (const run of this.trace.runs) {
      const r = await api.start(run.knobs);
      if (generation !== this.generation || this.status === "closed") return this;
      if (!r.ok) {
        run.status = "failed";
        this.problems = r.problems;
        this.error = { status: r.status, detail: null };
        this.stop();
        this.status = "error";
        this.notify();
        return this;
      }
      run.id = r.data.id;
      run.urls = r.data;
      this.closers.push(followRun(run, r.data.events, () => { if (generation === this.generation) this.notify(); },
                                  this.opts.EventSource));
    }
    return this;
  }

  /** Stops the live runs on the server (each stream then receives its `stopped`). */
  stop() {
    const api = this.api();
    for (const run of this.trace.runs) {
      if (run.id && isLive(run)) api.control(run.id, "stop");
      else if (!run.id && isLive(run)) run.status = "stopped";
    }
  }

  closeStreams() {
    for (const close of this.closers) close();
    this.closers = [];
  }

  close() {
    this.stop();
    this.closeStreams();
    this.status = "closed";
    this.listeners.clear();
  }
}

/** A panel drawn from the same text through every architecture (summaries only: a CompareSource). */
function readsSummaries(panel) {
  return (panel.reads || []).some((r) => r === "summaries" || String(r).startsWith("summaries."));
}

const panelModules = new Map();
function loadPanel(id) {
  if (!panelModules.has(id)) panelModules.set(id, import(`../panels/${id}.js`));
  return panelModules.get(id);
}

class LessonFigure {
  constructor(page, el, spec) {
    this.page = page;
    this.el = el;
    this.spec = spec;
    this.id = spec.id;
    this.kind = spec.source || "trace";
    this.knobs = { ...spec.knobs };
    this.store = new ViewStore(initialView(spec.view || {}));
    this.ends = { step: spec.view?.step === "end", bstep: spec.view?.bstep === "end" };
    this.sized = false;
    this.player = new Player(this.store, { speed: spec.view?.speed ?? 4 });
    const names = spec.compare ? ["a", "b"] : ["a"];
    this.sides = names.map((name) => ({ name, source: null, unsub: null, figs: [], panels: [] }));
    this.knobListeners = new Set();
    this.waiters = [];
    this.shuffles = 0;
  }

  $(sel) { return this.el.querySelector(sel); }

  knobsFor(side) {
    return side.name === "a" ? { ...this.knobs } : { ...this.knobs, ...this.spec.compare };
  }

  openSource(knobs) {
    // one fetch per knob set: a lesson shows a finished trace step by step, so streaming it would only
    // redraw the figure once per arriving event (the page's one EventSource is left to a sample figure)
    if (this.kind === "trace") return sourceFor(knobs, { stream: false, lang: this.page.lang });
    if (this.kind === "lab") return new LabSource(this.spec.lab, { lang: this.page.lang, strings: this.page.strings });
    if (this.kind === "seq2seq") return new Seq2SeqSource(knobs, { lang: this.page.lang }).start();
    if (this.kind === "shapes") return new ShapesSource(knobs, { lang: this.page.lang }).start();
    return new LMSource(this.kind, knobs, { lang: this.page.lang }).start();
  }

  release(source) {
    if (this.kind === "trace") releaseSource(source); else source.close();
  }

  attach(side, source) {
    if (side.unsub) side.unsub();
    side.source = source;
    side.unsub = source.subscribe(() => this.onTrace());
  }

  async mount() {
    let modules;
    try {
      modules = await Promise.all(this.spec.panels.map(loadPanel));
    } catch (err) {
      this.showError(String(err));
      this.el.dataset.state = "error";
      return;
    }
    this.modules = modules;
    this.steppable = modules.some((m) => !readsSummaries(m));
    if (this.steppable) for (const side of this.sides) this.attach(side, this.openSource(this.knobsFor(side)));
    if (modules.some(readsSummaries)) this.openCompare();
    for (const el of this.el.querySelectorAll("[data-act]")) {
      el.hidden = !this.steppable || (el.dataset.act === "phase" && this.kind !== "trace");
    }
    if (this.kind === "lab") this.wireLab();
    const bench = this.$("[data-bench]");
    if (bench) bench.hidden = !["trace", "seq2seq"].includes(this.kind);  // the bench traces; it does not sample
    this.wireBar();
    this.wireControls();
    this.store.subscribe(() => this.onView());
    this.player.subscribe((playing) => this.onPlay(playing));
    const detached = () => this.el.ownerDocument.createElement("p");  // each panel's own line; the figure writes one
    for (const side of this.sides) {
      const box = this.spec.compare ? this.$(`[data-side-box="${side.name}"]`) : this.el;
      this.spec.panels.forEach((panelId, i) => {
        const plot = box.querySelector(`[data-panel="${panelId}"][data-side="${side.name}"]`);
        const source = readsSummaries(modules[i]) ? this.compare : side.source;
        const fig = mountFigure(plot, {
          source, view: this.store, panel: modules[i], strings: this.page.strings,
          theme: this.page.theme, describeEl: detached(), isVisible: () => this.seen,
          filename: `unrolled-${this.page.slug}-${this.id}-${panelId}${side.name === "b" ? "-b" : ""}`,
        });
        fig.summaries = readsSummaries(modules[i]);
        side.figs.push(fig);
      });
    }
    this.mounted = true;
    this.page.watchFigure(this);
    this.onTrace();
  }

  /** Drawn once it comes near the screen (a long lesson does not draw every plot at load), and from
   *  then on at every change. */
  show() {
    if (this.seen) return;
    this.seen = true;
    for (const side of this.sides) for (const fig of side.figs) fig.schedule(true);
  }

  /** The same text through every architecture, for the panels that read summaries. */
  openCompare() {
    if (this.compare) this.compare.close();
    this.compare = new CompareSource(this.knobs, { lang: this.page.lang });
    this.compare.subscribe(() => this.onTrace());
    this.compare.start();
  }

  // ---- what arrives ----

  traces() { return this.steppable ? this.sides.map((s) => s.source.trace) : [this.compare.trace]; }

  done() {
    if (!this.mounted) return false;
    const traces = this.steppable ? this.sides.every((s) => s.source.trace.done && s.source.status !== "error") : true;
    return traces && (!this.compare || this.compare.trace.ready);
  }

  failed() { return this.steppable ? this.sides.find((s) => s.source.status === "error") || null : null; }

  onTrace() {
    if (!this.mounted) return;
    const Ts = this.steppable ? this.sides.map((side) => side.source.trace.T).filter(Boolean) : [];
    if (Ts.length) {
      const T = Math.max(...Ts);
      if (this.store.T !== T) this.store.setLength(T);
      if (this.kind === "sample") {  // the view follows the writing unless the learner stepped back
        const n = this.sides[0].source.trace.nSteps;
        if (this.store.state.step >= (this.followed || 0)) this.store.set({ step: n });
        this.followed = n;
      }
      if (!this.sized) {
        this.sized = true;
        const patch = {};
        if (this.ends.step || this.store.state.phase === "backward") patch.step = T;
        if (this.ends.bstep) patch.bstep = T;
        this.store.set(patch);
      }
    }
    const bad = this.failed();
    if (bad) {
      const lines = this.kind === "lab" ? bad.source.problems : errorLines(bad.source.error?.detail, this.page.strings);
      const msg = this.kind === "lab" ? lines.map((l) => (l.label ? `${l.label}: ${l.text}` : l.text)).join(" · ")
        : lines.length ? lines.map((l) => `${l.label}: ${l.text}`).join(" · ")
        : `HTTP ${bad.source.error?.status ?? 0}`;
      this.showError(fmt(this.page.strings.lesson_error, { msg }));
    } else {
      this.showError(null);
    }
    this.el.dataset.state = bad ? "error" : this.done() ? "done" : this.kind === "lab" && this.sides[0].source.status === "idle"
      ? "idle" : "loading";
    if (this.kind === "lab") this.updateLab();
    this.onView();
    if (this.done() || bad) {
      const waiters = this.waiters.splice(0);
      for (const w of waiters) (bad ? w.reject : w.resolve)(bad ? new Error(this.$("[data-error]").textContent) : this);
    }
  }

  /** Resolves once every side's trace for the current knobs is complete. */
  whenReady() {
    if (this.kind === "lab" && ["idle", "closed"].includes(this.sides[0].source.status)) {
      return Promise.reject(Object.assign(new Error(this.page.strings.lesson_lab_not_started), { plain: true }));
    }
    if (this.failed()) return Promise.reject(new Error(this.$("[data-error]").textContent));
    if (this.done()) return Promise.resolve(this);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  showError(text) {
    const el = this.$("[data-error]");
    el.hidden = !text;
    el.textContent = text || "";
  }

  // ---- the view ----

  onView() {
    const v = this.store.state, T = this.store.T || 0, s = this.page.strings;
    const status = this.$("[data-status]");
    if (this.kind === "lab") {
      this.sides[0].source.setConcealed(Boolean(v.conceal));
      const text = this.labStatus();
      if (status.textContent !== text) status.textContent = text;
      this.describe();
      return;
    }
    const forward = { trace: s.lesson_status_forward, sample: s.lesson_status_sample, ar: s.lesson_status_ar,
                      seq2seq: s.lesson_status_seq2seq, shapes: s.lesson_status_shapes }[this.kind];
    const text = !this.steppable ? (this.done() ? "" : s.lesson_loading) : !T ? s.lesson_loading
      : v.phase === "forward" ? fmt(forward, { n: v.step, T }) : fmt(s.lesson_status_backward, { n: v.bstep, T });
    if (status.textContent !== text) status.textContent = text;
    const phase = this.$('[data-act="phase"]');
    if (phase) {
      phase.textContent = v.phase === "forward" ? s.lesson_phase_forward : s.lesson_phase_backward;
      phase.setAttribute("aria-pressed", String(v.phase === "backward"));
    }
    this.el.dataset.step = String(v.step);
    this.el.dataset.bstep = String(v.bstep);
    this.el.dataset.phase = v.phase;
    this.updateBench();
    this.describe();
  }

  describe() {
    const el = this.$("[data-describe]");
    const panel = this.modules && this.modules[0];
    if (!this.mounted || !panel.describe) return;
    const lines = [];
    this.sides.forEach((side, i) => {
      if (readsSummaries(panel) && i > 0) return;
      const trace = readsSummaries(panel) ? this.compare.trace : side.source.trace;
      if (!trace.meta) return;
      if (trace.concealed) { lines.push(this.page.strings.lesson_lab_concealed); return; }
      let line;
      try { line = panel.describe(trace, this.store.state, this.page.strings); } catch (err) { line = ""; }
      if (!line) return;
      const label = this.spec.compare && !readsSummaries(panel) ? `${(this.spec.labels || ["A", "B"])[i]}: ` : "";
      lines.push(label + line);
    });
    // where the figure is, then what its first panel shows there: the line follows every step, also
    // for panels whose reading does not change with the step (clipping norms, the compare strip)
    const status = this.steppable ? this.$("[data-status]").textContent : "";
    const text = [status, lines.join(" · ")].filter(Boolean).join(" — ");
    if (el.textContent !== text) el.textContent = text;
  }

  // ---- a lab figure: start and stop ----

  wireLab() {
    const links = this.el.ownerDocument.createElement("span");  // one "open in the bench" per finished run
    links.className = "lab-bench-links";
    links.dataset.labBench = "";
    links.hidden = true;
    this.$(".lab-bar").append(links);
    this.$('[data-lab="start"]').addEventListener("click", () => {
      this.page.activate(this);
      const other = [...this.page.figures.values()].find((f) => f !== this && f.kind === "lab" && f.sides[0].source.live);
      if (other) { this.busy = true; this.onView(); return; }  // one figure trains at a time (EventSources, server time)
      this.busy = false;
      this.sides[0].source.start();
    });
    this.$('[data-lab="stop"]').addEventListener("click", () => this.sides[0].source.stop());
  }

  updateLab() {
    const source = this.sides[0].source, s = this.page.strings;
    const start = this.$('[data-lab="start"]'), stop = this.$('[data-lab="stop"]');
    start.disabled = source.live;
    start.textContent = source.trace.started && !source.live ? s.lesson_lab_again : s.lesson_lab_start;
    stop.disabled = !source.live;
    if (source.live) this.busy = false;
    this.updateBenchLinks();
  }

  updateBenchLinks() {
    const box = this.$("[data-lab-bench]"), s = this.page.strings;
    if (!box) return;
    const links = runBenchLinks(this.sides[0].source.trace, this.page.lang);
    const key = links.map((l) => l.href).join(" ");
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    const doc = this.el.ownerDocument;
    box.replaceChildren(...links.flatMap((l, i) => {
      const a = this.el.ownerDocument.createElement("a");
      a.className = "bench-link";
      a.href = l.href;
      a.target = "_blank";
      a.rel = "noopener";
      a.dataset.run = String(l.n - 1);
      a.textContent = fmt(s.lesson_lab_bench_run, { n: l.n });
      a.title = `${l.n} · ${l.label}`;
      return i ? [doc.createTextNode(" · "), a] : [a];
    }));
    box.hidden = !links.length;
  }

  labStatus() {
    const source = this.sides[0].source, s = this.page.strings, runs = source.trace.runs;
    const steps = Math.max(...runs.map((r) => r.steps || 0));
    if (this.busy) return s.lesson_lab_busy;
    if (source.status === "idle") return fmt(s.lesson_lab_idle_n, { n: runs.length, steps });
    if (source.status === "error") return s.lab_status_failed;
    const finished = runs.filter((r) => !isLive(r)).length;
    const step = Math.max(0, ...runs.map((r) => r.step || 0));
    if (source.live) return fmt(s.lesson_lab_running, { done: finished, n: runs.length, step, steps });
    const ends = runs.map((r, i) => `${i + 1} ${s[`lab_status_${r.status}`] || r.status}`).join(", ");
    return fmt(s.lesson_lab_finished, { list: ends });
  }

  benchHref() {
    const v = this.store.state;
    const q = new URLSearchParams(knobQuery(this.knobs));
    if (this.kind === "seq2seq") q.set("mode", "seq2seq");  // the bench's encoder-decoder mode
    q.set("phase", v.phase);
    q.set("step", String(v.step));
    q.set("bstep", String(v.bstep));
    if (this.page.lang) q.set("lang", this.page.lang);
    return `/bench?${q}`;
  }

  updateBench() {
    const a = this.$("[data-bench]");
    if (a) a.href = this.benchHref();
  }

  onPlay(playing) {
    const b = this.$('[data-act="play"]');
    if (!b) return;
    b.textContent = playing ? "❚❚" : "▶";
    const label = playing ? b.dataset.pause : b.dataset.play;
    b.setAttribute("aria-label", label);
    b.title = label;
  }

  // ---- the learner's moves ----

  forward() { this.player.pause(); this.store.stepBy(1); }
  back() { this.player.pause(); this.store.stepBy(-1); }
  play() { this.player.toggle(); }
  phase() { if (this.kind === "trace") { this.player.pause(); this.store.togglePhase(); } }
  start() { this.player.pause(); this.store.toStart(); }
  end() { this.player.pause(); this.store.toEnd(); }

  wireBar() {
    for (const button of this.el.querySelectorAll("[data-act]")) {
      button.addEventListener("click", () => { this.page.activate(this); this[button.dataset.act](); });
    }
  }

  wireControls() {
    const parse = (input) => {
      const type = input.dataset.type;
      if (type === "boolean") return input.checked;
      if (input.value === "") return null;
      if (type === "integer") return parseInt(input.value, 10);
      if (type === "number") return parseFloat(input.value);
      return input.value;
    };
    const output = (name, text) => {
      const out = this.$(`[data-out="${name}"]`);
      if (out) out.textContent = text;
    };
    for (const input of this.el.querySelectorAll("[data-knob]")) {
      const name = input.dataset.knob;
      if (input.type === "range") input.addEventListener("input", () => output(name, input.value));
      input.addEventListener("change", () => {
        if (input.type === "text" && input.minLength > 0 && input.value.length < input.minLength) return;
        if (input.type === "number" && !input.checkValidity()) return;
        this.setKnob(name, parse(input));
      });
    }
    for (const box of this.el.querySelectorAll("[data-null-for]")) {
      const name = box.dataset.nullFor, input = this.$(`[data-knob="${name}"]`);
      box.addEventListener("change", () => {
        input.disabled = box.checked;
        const nullLabel = box.parentElement.textContent.trim();
        output(name, box.checked ? nullLabel : input.value);
        this.setKnob(name, box.checked ? null : parse(input));
      });
    }
    const shuffle = this.$("[data-shuffle]"), unshuffle = this.$("[data-unshuffle]");
    if (shuffle) {
      shuffle.addEventListener("click", () => {
        this.shuffles += 1;
        this.setText(shuffleText(this.spec.knobs.text, this.shuffles));
        unshuffle.hidden = false;
      });
      unshuffle.addEventListener("click", () => { this.setText(this.spec.knobs.text); unshuffle.hidden = true; });
    }
  }

  setText(text) {
    const input = this.$('[data-knob="text"]');
    if (input) input.value = text;
    const shown = this.$("[data-text]");
    if (shown) shown.textContent = text;
    this.setKnob("text", text);
  }

  setKnob(name, value) {
    const before = this.knobs[name] ?? null;
    if (before === value) return;
    if (value === null) delete this.knobs[name]; else this.knobs[name] = value;
    if (name === "text") { const shown = this.$("[data-text]"); if (shown) shown.textContent = value; }
    this.reload();
  }

  /** New knobs: each side gets the source for them (the view stays; the store clamps it to the new T). */
  reload() {
    if (!this.mounted) return;
    this.player.pause();
    this.sized = true;
    this.followed = 0;
    for (const side of this.steppable ? this.sides : []) {
      const next = this.openSource(this.knobsFor(side));
      const old = side.source;
      if (next === old) { this.release(next); continue; }
      this.attach(side, next);
      for (const fig of side.figs) if (!fig.summaries) fig.setSource(next);
      this.release(old);
    }
    if (this.compare) {
      this.openCompare();
      for (const side of this.sides) for (const fig of side.figs) if (fig.summaries) fig.setSource(this.compare);
    }
    for (const fn of this.knobListeners) fn();
    this.onTrace();
  }
}

class LessonQuestion {
  constructor(page, el, spec) {
    this.page = page;
    this.el = el;
    this.spec = spec;
    this.id = spec.id;
    this.figure = page.figures.get(spec.figure);
    this.guess = null;
    this.committed = false;
    this.revealed = false;
  }

  $(sel) { return this.el.querySelector(sel); }

  format(value) {
    return value === null || value === undefined ? this.page.strings.lesson_q_none : sig(value);
  }

  guessText() {
    if (this.spec.kind === "number") return this.format(this.guess);
    const input = this.el.querySelector(`[data-guess][value="${this.guess}"]`);
    return input ? input.parentElement.textContent.trim() : "";
  }

  mount() {
    const commit = this.$("[data-commit]");
    if (this.spec.kind === "number") {
      const slider = this.$("[data-guess]");
      const update = () => {
        this.guess = sliderToValue(Number(slider.value), this.spec.range, this.spec.scale);
        this.$("[data-guess-out]").textContent = this.format(this.guess);
      };
      slider.addEventListener("input", update);
      update();
    } else {
      for (const radio of this.el.querySelectorAll("[data-guess]")) {
        radio.addEventListener("change", () => { this.guess = radio.value; commit.disabled = false; });
      }
    }
    commit.addEventListener("click", () => this.lock(true));
    this.$("[data-change]").addEventListener("click", () => this.lock(false));
    this.$("[data-reveal]").addEventListener("click", () => this.reveal());
    if (this.figure) this.figure.knobListeners.add(() => { if (this.revealed) this.$("[data-stale]").hidden = false; });
  }

  lock(on) {
    if (on && (this.guess === null || this.guess === undefined)) return;
    this.committed = on;
    for (const input of this.el.querySelectorAll("[data-guess]")) input.disabled = on;
    this.$("[data-commit]").hidden = on;
    this.$("[data-change]").hidden = !on;
    this.$("[data-reveal]").disabled = !on;
    this.$("[data-locked]").textContent = on ? fmt(this.page.strings.lesson_q_locked, { guess: this.guessText() }) : "";
    if (!on) {
      this.$("[data-result]").hidden = true;
      this.$("[data-stale]").hidden = true;
    }
    this.el.dataset.committed = String(on);
    this.page.concealOpenAnswers();  // a lab figure shows its runs once its predictions are locked in
  }

  async reveal() {
    if (!this.committed) return;
    const s = this.page.strings, error = this.$("[data-q-error]"), button = this.$("[data-reveal]");
    error.hidden = true;
    this.el.dataset.revealing = "true";
    button.disabled = true;
    const waiting = setTimeout(() => { error.hidden = false; error.textContent = s.lesson_q_waiting; }, 300);
    try {
      await this.figure.whenReady();
      const [traceA, traceB] = this.figure.traces();
      const result = computeAnswer(this.spec.answer, traceA, this.spec.args, traceB);
      clearTimeout(waiting);
      error.hidden = true;
      this.show(result);
    } catch (err) {
      clearTimeout(waiting);
      error.hidden = false;
      error.textContent = err.plain ? err.message : fmt(s.lesson_q_error, { msg: err.message || String(err) });
    } finally {
      button.disabled = false;
      this.el.dataset.revealing = "false";
    }
  }

  show(result) {
    const s = this.page.strings;
    const verdict = judgeGuess(this.spec, result, this.spec.kind === "number" ? this.guess : this.guess);
    const value = this.$("[data-answer]");
    value.dataset.value = String(result.value);
    value.textContent = this.format(result.value);
    const theoryBox = this.$("[data-theory-box]"), theory = this.$("[data-theory]");
    const hasTheory = result.theory !== undefined;
    theoryBox.hidden = !hasTheory;
    theory.dataset.value = hasTheory ? String(result.theory) : "";
    theory.textContent = hasTheory ? this.format(result.theory) : "";
    let answer = "";
    if (this.spec.kind !== "number" && verdict.correct !== null && verdict.correct !== -1) {
      const input = this.el.querySelector(`[data-guess][value="${verdict.correct}"]`);
      answer = input ? input.parentElement.textContent.trim() : "";
    }
    const v = this.$("[data-verdict]");
    v.textContent = (verdict.right ? s.lesson_q_right : s.lesson_q_wrong) + (answer ? ` ${fmt(s.lesson_q_correct, { answer })}` : "");
    v.dataset.right = String(verdict.right);
    this.$("[data-result]").hidden = false;
    this.$("[data-stale]").hidden = true;
    const button = this.$("[data-reveal]");
    button.textContent = button.dataset.again;
    this.revealed = true;
    this.el.dataset.revealed = "true";
    this.el.dataset.right = String(verdict.right);
    this.page.answered(this.id, { guess: this.guess, right: verdict.right });
    this.page.concealOpenAnswers();
  }
}

/* A figure whose question is still open keeps its axes to what the learner has stepped through. A lab
   figure's runs are the answer itself: it draws them only once every question on it is locked in. */
function concealFigures(figures, questions) {
  for (const fig of figures) {
    if (!fig.store) continue;
    const mine = questions.filter((q) => q.figure === fig);
    fig.store.set({ conceal: fig.kind === "lab" ? concealLab(mine) : mine.some((q) => !q.revealed) });
  }
}

class LessonPage {
  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.slug = config.slug;
    this.lang = config.lang;
    this.strings = config.i18n;
    this.theme = readTheme();
    this.figures = new Map();
    this.questions = new Map();
    this.active = null;
    this.progress = readProgress(storage() || { getItem: () => null }, this.slug);
  }

  concealOpenAnswers() { concealFigures([...this.figures.values()], [...this.questions.values()]); }

  start() {
    for (const spec of this.config.figures) {
      const el = this.root.querySelector(`[data-figure="${spec.id}"]`);
      if (!el) continue;
      const fig = new LessonFigure(this, el, spec);
      this.figures.set(spec.id, fig);
      el.addEventListener("focusin", () => this.activate(fig));
      el.addEventListener("pointerdown", () => this.activate(fig));
      fig.mount();
    }
    for (const spec of this.config.questions) {
      const el = this.root.querySelector(`[data-question="${spec.id}"]`);
      if (!el) continue;
      const q = new LessonQuestion(this, el, spec);
      this.questions.set(spec.id, q);
      q.mount();
    }
    this.concealOpenAnswers();
    bindKeys({
      forward: () => this.target()?.forward(),
      back: () => this.target()?.back(),
      play: () => this.target()?.play(),
      phase: () => this.target()?.phase(),
      start: () => this.target()?.start(),
      end: () => this.target()?.end(),
    });
    this.watchSections();
    this.drawWhenIdle();
  }

  activate(fig) {
    fig.show();
    if (this.active === fig) return;
    if (this.active) this.active.el.classList.remove("is-active");
    this.active = fig;
    fig.el.classList.add("is-active");
  }

  /** The figure the keys move: the one focused or clicked last, else the first one on screen. */
  target() {
    if (this.active) return this.active;
    const h = window.innerHeight;
    for (const fig of this.figures.values()) {
      const r = fig.el.getBoundingClientRect();
      if (r.bottom > 0 && r.top < h) { this.activate(fig); return fig; }
    }
    return null;
  }

  save() {
    const store = storage();
    if (!store) return;
    try { store.setItem(PROGRESS_PREFIX + this.slug, JSON.stringify(this.progress)); } catch (err) { /* full or private */ }
  }

  answered(id, record) {
    this.progress.answered[id] = record;
    this.save();
  }

  /** The figures not on screen yet are drawn one by one while the browser is idle, so scrolling down
   *  finds them ready (and a whole-page screenshot or print shows them). */
  drawWhenIdle() {
    const idle = window.requestIdleCallback || ((fn) => setTimeout(fn, 200));
    const next = () => {
      const waiting = [...this.figures.values()].filter((f) => !f.seen && f.el.dataset.state !== "error");
      const fig = waiting.find((f) => f.done() || f.kind === "lab");  // a lab figure waits for its start button
      if (fig) { fig.show(); idle(next); } else if (waiting.length) setTimeout(() => idle(next), 500);
    };
    setTimeout(() => idle(next), 1000);
  }

  watchFigure(fig) {
    if (typeof IntersectionObserver !== "function") { fig.show(); return; }
    if (!this.figureObserver) {
      this.figureObserver = new IntersectionObserver((entries) => {
        for (const e of entries) {
          if (!e.isIntersecting) continue;
          this.figureObserver.unobserve(e.target);
          const f = [...this.figures.values()].find((x) => x.el === e.target);
          if (f) f.show();
        }
      }, { rootMargin: "600px 0px" });
    }
    this.figureObserver.observe(fig.el);
  }

  watchSections() {
    if (typeof IntersectionObserver !== "function") return;
    const observer = new IntersectionObserver((entries) => {
      let changed = false;
      for (const e of entries) {
        const id = e.target.closest("[data-section]").dataset.section;
        if (e.isIntersecting && !this.progress.seen.includes(id)) { this.progress.seen.push(id); changed = true; }
      }
      if (changed) this.save();
    });
    for (const h of this.root.querySelectorAll("[data-section] > h2")) observer.observe(h);
  }
}

function startIndex(root) {
  const config = JSON.parse(document.getElementById("index-config").textContent);
  const store = storage() || { getItem: () => null };
  for (const card of root.querySelectorAll("[data-lesson]")) {
    const progress = readProgress(store, card.dataset.lesson);
    const sections = card.dataset.sections.split(" ").filter(Boolean);
    const questions = card.dataset.questions.split(" ").filter(Boolean);
    const line = progressLine(progress, sections, questions, config.i18n);
    card.querySelector("[data-progress]").textContent = line;
    card.dataset.started = String(line !== config.i18n.index_not_started);
  }
}

function boot() {
  const lesson = document.getElementById("lesson");
  if (lesson) {
    const config = JSON.parse(document.getElementById("lesson-config").textContent);
    const page = new LessonPage(lesson, config);
    window.unrolledLesson = page;  // for the browser tests and the console
    page.start();
    // a classroom room: the "open a class" button, or following/teaching the room in ?room= (rooms/lesson-room.js)
    import("../rooms/lesson-room.js").then((m) => m.attachRoom(page));
  }
  const index = document.getElementById("lesson-index");
  if (index) startIndex(index);
}

export { ANSWERS };

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
}
