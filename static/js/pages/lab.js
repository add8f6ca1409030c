/* The training lab (/lab): pick a preset or edit up to four runs, start them together, and follow
   them live (templates/lab.html; the knobs' limits and the presets come from #lab-config, built by
   app/routes/lab.py's lab_config(); the words from #lab-strings).

   - The form is built from LabKnobs' JSON schema (lab/knobs.js): the task and T are shared, every
     other knob has one column per run; a knob that does not apply to a run's model is disabled.
   - "Start together" stops the page's live runs, then sends one POST /api/runs per run; if any is
     refused, the others are stopped again and every refusal is shown (422: the knob and the
     server's sentence; 429/503: its sentence with the wait).
   - Each run has an EventSource (lab/stream.js) kept open while the page shows it (the server stops
     a run nobody follows), a legend row (label, status, progress, pause/resume, stop, the bench, the
     weights), and its curves in three plots (lab/plots.js) redrawn once per animation frame with
     Plotly.react.
   - Keys: space pauses every running run, or resumes every paused one (core/keys.js).
   - "Bring your own model" (UploadSection): the chosen file is posted raw (body: file,
     application/octet-stream) to POST /api/models with the architecture, the activation (RNN only),
     the vocabulary if typed and the page's ?lang= (URL and answers: lab/upload.js); a file over the
     limit in #lab-config (models.limits.UPLOAD_BYTES) is refused before it is sent. Errors are the
     server's sentences; success a summary and an "open in the bench" link (bench_url).

   window.unrolledLab = { runs, pending, upload, snapshotIndex } for the browser tests.
*/

import { fmt, short } from "../core/format.js";
import { bindKeys } from "../core/keys.js";
import { readTheme } from "../core/theme.js";
import { labApi } from "../lab/client.js";
import { MAX_RUNS, SHARED, applies, fieldSpecs, fieldText, parseField, requestBody, runColours, runLabel, useSchema } from "../lab/knobs.js";
import { baselineLine, gradFigure, lossFigure, snapshotAt, snapshotCount, snapshotFigure, snapshotSteps } from "../lab/plots.js";
import { FINAL, canPause, canResume, isLive, newRun } from "../lab/run-state.js";
import { followRun } from "../lab/stream.js";
import { benchHref, megabytes, parseVocab, summaryParts, tooBig, uploadProblems, uploadUrl } from "../lab/upload.js";

const PLOT_CONFIG = Object.freeze({ displayModeBar: false, responsive: true });
const PLOT_EVERY_MS = 150;
const $ = (sel, root) => (root || document).querySelector(sel);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

class LabPage {
  constructor(root) {
    this.root = root;
    this.cfg = JSON.parse($("#lab-config").textContent);
    this.t = JSON.parse($("#lab-strings").textContent);
    this.lang = document.documentElement.lang || "ko";
    this.theme = readTheme();
    this.api = labApi(this.cfg.api, this.lang, this.t);
    const order = JSON.parse($("#lab-knob-order").textContent);
    useSchema(this.cfg.knobs);
    this.specs = fieldSpecs(Object.fromEntries(order.map((name) => [name, this.cfg.knobs[name]])));
    this.spec = Object.fromEntries(this.specs.map((s) => [s.name, s]));
    this.perRun = this.specs.filter((s) => !SHARED.includes(s.name));
    this.runs = [];          // the set on screen (lab/run-state.js objects)
    this.closers = [];       // their EventSources
    this.labels = [];
    this.colours = [];
    this.snapIndex = null;   // null: follow the latest snapshot
    this.frame = null;
    this.timer = null;
    this.drawnKey = null;
    this.drawnAt = -Infinity;
    this.starting = false;
    this.plots = { loss: $("#plot-loss"), grad: $("#plot-grad"), snapshot: $("#plot-snapshot") };
    this.slider = $("#snapshot-slider");
    this.sliderOut = $("#snapshot-at");
    this.baselineNote = $("#loss-baseline");
    this.form = $("#lab-form");
    this.message = $("#lab-message");
    this.list = $("#lab-run-list");

    const preset = $('input[name="preset"]:checked', root);
    this.loadPreset(preset ? preset.value : Object.keys(this.cfg.presets)[0]);
    root.addEventListener("change", (e) => {
      if (e.target.name === "preset") this.loadPreset(e.target.value);
    });
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.startAll(); });
    $("#lab-stop-all").addEventListener("click", () => this.stopAll());
    this.slider.addEventListener("input", () => {
      const n = snapshotCount(this.runs), v = parseInt(this.slider.value, 10);
      this.snapIndex = v >= n - 1 ? null : v;
      this.schedule();
    });
    bindKeys({ play: () => this.toggleAll() });
    document.addEventListener("plotly:ready", () => this.schedule());
    window.addEventListener("resize", () => this.schedule());
    this.schedule();
  }

  // ---- the form ----

  loadPreset(name) {
    const runs = this.cfg.presets[name] || [];
    // a preset's null (clipping off, full BPTT) is a value, not a missing knob
    const pick = (knobs, s) => (knobs && s.name in knobs ? knobs[s.name] : s.default);
    this.shared = Object.fromEntries(SHARED.map((k) => [k, pick(runs[0], this.spec[k])]));
    this.draft = runs.map((knobs) => Object.fromEntries(this.perRun.map((s) => [s.name, pick(knobs, s)])));
    this.buildForm();
  }

  defaultRun() {
    const last = this.draft[this.draft.length - 1];
    return last ? { ...last } : Object.fromEntries(this.perRun.map((s) => [s.name, s.default]));
  }

  field(spec, value, run) {
    const id = run === null ? `knob-${spec.name}` : `knob-${spec.name}-${run}`;
    const label = this.t[`knob_${spec.name}`] || spec.name;
    const aria = run === null ? null : `${fmt(this.t.lab_run_n, { n: run + 1 })} · ${label}`;
    let input;
    if (spec.kind === "choice") {
      input = el("select", { id, name: spec.name, "aria-label": aria });
      const choices = spec.nullable ? [null, ...spec.choices] : spec.choices;
      for (const c of choices) {
        const text = this.t[`choice_${spec.name}_${c ?? ""}`] || String(c);
        const option = el("option", { value: c ?? "", text });
        if ((c ?? null) === (value ?? null)) option.selected = true;
        input.append(option);
      }
    } else {
      input = el("input", { id, name: spec.name, type: "text", inputmode: spec.kind === "int" ? "numeric" : "decimal",
                            autocomplete: "off", spellcheck: "false", "aria-label": aria, size: 7,
                            placeholder: spec.nullable ? (this.t[`lesson_null_${spec.name}`] || this.t.lesson_off) : null });
      input.value = fieldText(value);
    }
    input.dataset.knob = spec.name;
    input.dataset.run = run === null ? "" : String(run);
    return input;
  }

  rangeHint(spec) {
    if (spec.name === "seq_len") {
      const [lo, hi] = (this.cfg.tasks[this.shared.task] || {}).seq_len || [spec.min, spec.max];
      return fmt(this.t.knob_hint_range, { min: lo, max: hi });
    }
    if (spec.kind === "choice" || spec.max === null) return "";
    const lo = spec.min ?? spec.exclusiveMin;
    return lo === null ? "" : fmt(this.t.knob_hint_range, { min: String(lo), max: String(spec.max) });
  }

  buildForm() {
    const t = this.t, form = this.form;
    form.replaceChildren();
    const shared = el("div", { class: "lab-shared" });
    for (const name of SHARED) {
      const spec = this.spec[name];
      const hint = el("span", { class: "knob-hint", "data-hint": name, text: this.rangeHint(spec) });
      shared.append(el("label", { class: "knob", for: `knob-${name}` },
                       el("span", { class: "knob-label" }, t[`knob_${name}`] || name, hint), this.field(spec, this.shared[name], null)));
    }
    shared.append(el("p", { class: "lab-hint", text: t.lab_shared }));
    form.append(shared);

    const table = el("table", { class: "lab-table" });
    const head = el("tr", {}, el("th", { scope: "col", text: t.lab_knob }));
    this.draft.forEach((_, i) => {
      const remove = this.draft.length > 1
        ? el("button", { type: "button", class: "run-remove", "data-remove": i, "aria-label": fmt(t.lab_remove_run, { n: i + 1 }),
                         title: fmt(t.lab_remove_run, { n: i + 1 }), text: "×" })
        : null;
      head.append(el("th", { scope: "col" }, el("span", { class: "run-chip", "data-slot": i, text: fmt(t.lab_run_n, { n: i + 1 }) }), remove));
    });
    table.append(el("thead", {}, head));
    const body = el("tbody");
    for (const spec of this.perRun) {
      const row = el("tr", {}, el("th", { scope: "row" }, t[`knob_${spec.name}`] || spec.name,
                                   el("span", { class: "knob-hint", text: this.rangeHint(spec) })));
      this.draft.forEach((knobs, i) => row.append(el("td", {}, this.field(spec, knobs[spec.name], i))));
      body.append(row);
    }
    table.append(body);
    form.append(el("div", { class: "lab-table-wrap" }, table));
    const add = el("button", { type: "button", id: "lab-add-run", text: `+ ${t.lab_add_run}`, disabled: this.draft.length >= MAX_RUNS });
    form.append(el("p", { class: "lab-form-tools" }, add, el("span", { class: "knob-hint", text: fmt(t.lab_max_runs, { n: MAX_RUNS }) })));

    add.addEventListener("click", () => {
      if (this.draft.length < MAX_RUNS) { this.draft.push(this.defaultRun()); this.buildForm(); }
    });
    form.querySelectorAll("[data-remove]").forEach((b) => b.addEventListener("click", () => {
      this.draft.splice(parseInt(b.dataset.remove, 10), 1);
      this.buildForm();
    }));
    form.querySelectorAll("[data-knob]").forEach((input) => {
      const update = () => this.readField(input);
      input.addEventListener("change", update);
      input.addEventListener("input", update);
    });
    this.paintSlots();
    this.refreshApplies();
  }

  readField(input) {
    const name = input.dataset.knob, spec = this.spec[name], value = parseField(spec, input.value);
    input.removeAttribute("aria-invalid");
    if (input.dataset.run === "") {
      this.shared[name] = value;
      if (name === "task") {
        const task = this.cfg.tasks[value];
        if (task) {
          this.shared.seq_len = task.default_seq_len;
          $("#knob-seq_len", this.form).value = String(task.default_seq_len);
          $('[data-hint="seq_len"]', this.form).textContent = this.rangeHint(this.spec.seq_len);
        }
      }
    } else {
      this.draft[parseInt(input.dataset.run, 10)][name] = value;
    }
    this.refreshApplies();
  }

  refreshApplies() {
    this.form.querySelectorAll("[data-knob]").forEach((input) => {
      if (input.dataset.run === "") return;
      input.disabled = !applies(input.dataset.knob, this.draft[parseInt(input.dataset.run, 10)]);
    });
  }

  paintSlots() {
    const colours = runColours(this.draft);
    this.form.querySelectorAll("[data-slot]").forEach((chip) => {
      chip.style.setProperty("--run-colour", this.theme.colour(colours[parseInt(chip.dataset.slot, 10)]));
    });
  }

  // ---- starting, stopping ----

  showProblems(heading, lines) {
    const box = this.message;
    box.replaceChildren();
    if (!lines.length) { box.hidden = true; return; }
    if (heading) box.append(el("h3", { text: heading }));
    const ul = el("ul");
    for (const line of lines) ul.append(el("li", { text: line }));
    box.append(ul);
    box.hidden = false;
  }

  markInvalid(run, problems) {
    for (const p of problems) {
      if (!p.field) continue;
      const shared = SHARED.includes(p.field);
      const input = $(shared ? `#knob-${p.field}` : `#knob-${p.field}-${run}`, this.form);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        $("#lab-editor").open = true;
      }
    }
  }

  problemText(p) {
    return p.label ? `${p.label}: ${p.text}` : p.text;
  }

  async startAll() {
    if (this.starting) return;
    this.starting = true;
    const start = $("#lab-start");
    start.disabled = true;
    start.textContent = this.t.lab_starting;
    this.showProblems(null, []);
    this.form.querySelectorAll("[aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
    try {
      await this.stopAll();
      this.clearRuns();
      const knobs = this.draft.map((k) => requestBody({ ...this.shared, ...k }));
      this.setRuns(knobs.map((k, i) => newRun(i, k)));
      const answers = await Promise.all(this.runs.map((run) => this.api.start(run.knobs)));
      const failed = [];
      answers.forEach((answer, i) => {
        const run = this.runs[i];
        if (answer.ok) {
          run.id = answer.data.id;
          run.urls = answer.data;
        } else {
          run.status = "failed";
          run.error = answer.problems.map((p) => this.problemText(p)).join(" ");
          run.version += 1;
          failed.push([i, answer.problems]);
        }
      });
      if (failed.length) {
        const lines = [];
        for (const [i, problems] of failed) {
          this.markInvalid(i, problems);
          for (const p of problems) lines.push(fmt(this.t.lab_error_control, { n: i + 1, msg: this.problemText(p) }));
        }
        const started = this.runs.filter((r) => r.id);
        if (started.length) {
          lines.push(this.t.lab_error_rolled_back);
          await Promise.all(started.map((r) => this.api.control(r.id, "stop")));
          for (const r of started) { r.status = "stopped"; r.end = { kind: "stopped", reason: "asked" }; r.version += 1; }
        }
        this.showProblems(this.t.lab_error_heading, lines);
      } else {
        for (const run of this.runs) this.follow(run);
        // the runs and the first plot on screen (on a projector or a phone the presets fill the first screen)
        if (this.list.getBoundingClientRect().top > window.innerHeight / 2) this.list.scrollIntoView({ block: "start" });
      }
    } finally {
      this.starting = false;
      start.disabled = false;
      start.textContent = this.t.lab_start;
      this.schedule();
    }
  }

  follow(run) {
    this.closers.push(followRun(run, run.urls.events, () => {
      if (run.status === "running" && run.benchUrl === undefined) this.checkBench(run, false);
      this.schedule();
    }));
  }

  async checkBench(run, open) {
    if (!run.id || run.benchPending) return;
    run.benchPending = true;
    this.schedule();
    const answer = await this.api.summary(run.id);
    run.benchPending = false;
    if (answer.ok) {
      run.benchUrl = answer.data.bench_url ?? null;
      if (open && run.benchUrl) {
        const w = window.open(run.benchUrl, "_blank");
        if (w) w.opener = null;
        else window.location.assign(run.benchUrl);  // no new tab allowed: this one (the run keeps its weights)
      }
    } else if (open) {
      this.showProblems(null, answer.problems.map((p) => fmt(this.t.lab_error_control, { n: run.index + 1, msg: this.problemText(p) })));
    }
    run.version += 1;
    this.schedule();
  }

  async control(run, action) {
    if (!run.id || run.followed) return;  // a classroom's follower only watches the teacher's runs (rooms/lab-room.js)
    const answer = await this.api.control(run.id, action);
    if (!answer.ok) {
      this.showProblems(null, answer.problems.map((p) => fmt(this.t.lab_error_control, { n: run.index + 1, msg: this.problemText(p) })));
    }
    // the state itself changes with the run's events (paused, resumed, stopped)
  }

  async stopAll() {
    const live = this.runs.filter((r) => r.id && isLive(r));
    await Promise.all(live.map((r) => this.control(r, "stop")));
  }

  toggleAll() {
    const running = this.runs.filter(canPause);
    if (running.length) { for (const r of running) this.control(r, "pause"); return; }
    for (const r of this.runs.filter(canResume)) this.control(r, "resume");
  }

  clearRuns() {
    for (const close of this.closers) close();
    this.closers = [];
    this.setRuns([]);
  }

  setRuns(runs) {
    this.runs = runs;
    const knobs = runs.map((r) => r.knobs);
    this.labels = knobs.map((k) => runLabel(k, knobs, this.t));
    this.colours = runColours(knobs);
    this.snapIndex = null;
    this.rows = runs.map((run, i) => this.buildRow(run, i));
    this.list.replaceChildren(...this.rows.map((r) => r.li));
    this.schedule();
  }

  // ---- the legend rows ----

  buildRow(run, i) {
    const t = this.t;
    const li = el("li", { class: "run-row", "data-run": i });
    li.style.setProperty("--run-colour", this.theme.colour(this.colours[i]));
    const status = el("span", { class: "run-status", "aria-live": "polite" });
    const progress = el("progress", { max: run.steps, value: 0 });
    const count = el("span", { class: "run-count" });
    const latest = el("p", { class: "run-latest" });
    const note = el("p", { class: "run-note", hidden: true });
    const pause = el("button", { type: "button", "data-act": "pause", text: t.lab_pause });
    const stop = el("button", { type: "button", "data-act": "stop", text: t.lab_stop });
    const bench = el("button", { type: "button", "data-act": "bench", text: t.lesson_open_bench });
    const benchWrap = el("span", { class: "bench-wrap" }, bench);
    const weights = el("a", { class: "button", "data-act": "checkpoint", title: t.lab_checkpoint_title, text: t.lab_checkpoint });
    li.append(
      el("span", { class: "run-swatch", "aria-hidden": "true", text: String(i + 1) }),
      el("div", { class: "run-main" },
         el("p", { class: "run-head" }, el("strong", { class: "run-label", text: this.labels[i] }), status),
         el("div", { class: "run-progress" }, progress, count),
         latest, note),
      el("div", { class: "run-buttons" }, pause, stop, benchWrap, weights),
    );
    pause.addEventListener("click", () => this.control(run, canResume(run) ? "resume" : "pause"));
    stop.addEventListener("click", () => this.control(run, "stop"));
    bench.addEventListener("click", () => this.checkBench(run, true));
    return { li, status, progress, count, latest, note, pause, stop, bench, benchWrap, weights, version: -1 };
  }

  statusText(run) {
    const t = this.t;
    if (run.status === "queued") return fmt(t.lab_status_queued, { position: run.position ?? "?" });
    return t[`lab_status_${run.status}`] || run.status;
  }

  noteText(run) {
    const t = this.t;
    if (run.status === "failed") return run.error || "";
    if (run.status === "lost") return t.lab_lost_note;
    if (run.status === "diverged") return fmt(t.lab_diverged_note, { step: run.end ? run.end.step : run.step });
    if (run.status === "stopped" && run.end && t[`lab_reason_${run.end.reason}`]) return t[`lab_reason_${run.end.reason}`];
    return "";
  }

  renderRow(run, row) {
    if (row.version === run.version) return;
    row.version = run.version;
    const t = this.t;
    row.li.dataset.status = run.status;
    row.status.textContent = run.status === "diverged" ? `✕ ${this.statusText(run)}` : this.statusText(run);
    row.progress.max = run.steps;
    row.progress.value = Math.min(run.step, run.steps);
    row.count.textContent = fmt(t.lab_progress, { step: run.step, steps: run.steps });
    const m = run.last;
    if (m) {
      const parts = [fmt(t.lab_latest, { loss: short(m.loss), held_out: short(m.held_out) })];
      if (m.accuracy !== null && m.accuracy !== undefined) parts.push(fmt(t.lab_latest_accuracy, { accuracy: `${Math.round(m.accuracy * 100)}%` }));
      if (run.knobs.clip_mode && typeof m.clipped_share === "number") parts.push(fmt(t.lab_latest_clipped, { share: `${Math.round(m.clipped_share * 100)}%` }));
      row.latest.textContent = parts.join(" · ");
    } else {
      row.latest.textContent = "";
    }
    const note = this.noteText(run);
    row.note.hidden = !note;
    row.note.textContent = note;
    row.pause.textContent = canResume(run) ? t.lab_resume : t.lab_pause;
    row.pause.disabled = run.followed || !(canPause(run) || canResume(run));
    row.stop.disabled = run.followed || !(run.id && isLive(run));
    const unavailable = run.benchUrl === null;
    row.bench.disabled = !run.id || unavailable || Boolean(run.benchPending) || run.status === "failed";
    const tip = unavailable ? t.lab_bench_unavailable : run.benchPending ? t.lab_bench_checking : "";
    row.benchWrap.title = tip;
    row.bench.title = tip;
    if (tip) row.bench.setAttribute("aria-description", tip); else row.bench.removeAttribute("aria-description");
    const hasWeights = Boolean(run.urls) && run.series.step.length > 0;
    if (hasWeights) {
      row.weights.href = run.urls.checkpoint;
      row.weights.setAttribute("download", "");
      row.weights.removeAttribute("aria-disabled");
    } else {
      row.weights.removeAttribute("href");
      row.weights.setAttribute("aria-disabled", "true");
    }
  }

  // ---- drawing ----

  get pending() {
    return this.frame !== null || this.timer !== null;
  }

  schedule() {
    if (this.frame !== null) return;
    this.frame = requestAnimationFrame(() => { this.frame = null; this.render(); });
  }

  render() {
    $("#lab-no-runs").hidden = this.runs.length > 0;
    this.runs.forEach((run, i) => this.renderRow(run, this.rows[i]));
    $("#lab-stop-all").disabled = !this.runs.some((r) => r.id && !r.followed && isLive(r));
    this.renderSlider();
    const P = globalThis.Plotly;
    if (!P) return;  // plotly.js is still loading: "plotly:ready" draws
    // the plots only when their data changed, and at most every PLOT_EVERY_MS (four runs stream fast)
    const widths = Object.values(this.plots).map((p) => p.clientWidth).join(",");
    const key = `${this.runs.map((r) => `${r.id}.${r.version}`).join("|")}|${this.snapIndex}|${widths}`;
    if (key === this.drawnKey) return;
    const wait = this.drawnAt + PLOT_EVERY_MS - performance.now();
    if (wait > 0) {
      if (!this.timer) this.timer = setTimeout(() => { this.timer = null; this.schedule(); }, wait);
      return;
    }
    this.drawnKey = key;
    this.drawnAt = performance.now();
    const taskName = this.runs.length ? this.runs[0].knobs.task : this.shared.task;
    const base = { strings: this.t, theme: this.theme, colours: this.colours, labels: this.labels, taskName,
                   task: this.cfg.tasks[taskName] };
    const box = (name) => ({ width: this.plots[name].clientWidth || 600 });
    const draw = (name, figure) => P.react(this.plots[name], figure.data, figure.layout, PLOT_CONFIG);
    draw("loss", lossFigure(this.runs, { ...base, box: box("loss") }));
    draw("grad", gradFigure(this.runs, { ...base, box: box("grad") }));
    draw("snapshot", snapshotFigure(this.runs, this.snapStep(), { ...base, box: box("snapshot") }));
    this.baselineNote.textContent = baselineLine(this.runs, taskName, this.t);
  }

  renderSlider() {
    const steps = snapshotSteps(this.runs), n = steps.length;
    this.slider.disabled = n < 2;
    this.slider.max = String(Math.max(0, n - 1));
    if (!n) { this.sliderOut.textContent = ""; return; }
    const index = this.snapIndex === null ? n - 1 : Math.min(this.snapIndex, n - 1);
    if (this.snapIndex === null) this.slider.value = String(n - 1);
    const at = steps[index];
    let line = fmt(this.t.lab_snapshot_at, { i: index + 1, n, step: at });
    // a run that has not reached that step yet shows its latest snapshot: say which, and from when
    const behind = this.runs.map((run, i) => [i, snapshotAt(run, this.snapStep())]).filter(([, s]) => s && s.step < at);
    if (behind.length) line += ` · ${fmt(this.t.lab_snapshot_behind, { list: behind.map(([i, s]) => `${i + 1} → ${s.step}`).join(", ") })}`;
    if (this.snapIndex === null) line += ` · ${this.t.lab_snapshot_live}`;
    this.sliderOut.textContent = line;
  }

  /* The training step the snapshot plot shows (null: every run's latest). */
  snapStep() {
    if (this.snapIndex === null) return null;
    const steps = snapshotSteps(this.runs);
    return steps.length ? steps[Math.min(this.snapIndex, steps.length - 1)] : null;
  }
}

class UploadSection {
  constructor(root, cfg, t, lang) {
    this.cfg = cfg;
    this.t = t;
    this.lang = lang;
    this.form = $("#upload-form", root);
    this.file = $("#upload-file", root);
    this.arch = $("#upload-arch", root);
    this.activation = $("#upload-activation", root);
    this.vocab = $("#upload-vocab", root);
    this.submit = $("#upload-submit", root);
    this.message = $("#upload-message", root);
    this.result = $("#upload-result", root);
    this.sending = false;
    this.last = null;  // the last answer: { ok, status, data } or { ok: false, status: 0, lines }
    $("#upload-limit", root).textContent = fmt(t.lab_upload_limit, { limit: megabytes(cfg.bytes) });
    const activation = () => { this.activation.disabled = this.arch.value !== "rnn"; };
    this.arch.addEventListener("change", activation);
    activation();
    // a new file: the last refusal goes, the last upload's summary and link stay until the next is sent
    this.file.addEventListener("change", () => { this.message.hidden = true; this.message.replaceChildren(); });
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.send(); });
  }

  show(data, lines) {
    const t = this.t;
    this.message.replaceChildren();
    this.message.hidden = !lines.length;
    if (lines.length) {
      const ul = el("ul");
      for (const line of lines) ul.append(el("li", { text: line }));
      this.message.append(el("h3", { text: t.lab_upload_error_heading }), ul);
    }
    this.result.replaceChildren();
    if (!data) return;
    const dl = el("dl", { class: "upload-summary" });
    for (const [label, value] of summaryParts(data, t)) dl.append(el("div", {}, el("dt", { text: label }), el("dd", { text: value })));
    const open = el("a", { class: "button primary", id: "upload-open", href: benchHref(data.bench_url, this.lang),
                           target: "_blank", rel: "noopener", text: t.lab_upload_open });
    this.result.append(el("h3", { text: t.lab_upload_done }), dl, el("p", { class: "upload-open" }, open));
  }

  async send() {
    if (this.sending) return;
    const file = this.file.files && this.file.files[0];
    if (!file) { this.show(null, [this.t.lab_upload_no_file]); return; }
    if (tooBig(file.size, this.cfg.bytes)) {
      this.last = { ok: false, status: 413, data: null };
      this.show(null, uploadProblems(413, null, this.t, this.cfg.bytes));
      return;
    }
    const url = uploadUrl(this.cfg.api, { arch: this.arch.value, activation: this.activation.value,
                                          vocab: parseVocab(this.vocab.value), lang: this.lang });
    this.sending = true;
    this.submit.disabled = true;
    this.submit.textContent = this.t.lab_upload_sending;
    this.show(null, []);
    try {
      let r;
      try {
        r = await fetch(url, { method: "POST", body: file,
                               headers: { "Content-Type": "application/octet-stream", Accept: "application/json" } });
      } catch (err) {
        this.last = { ok: false, status: 0, data: null };
        this.show(null, uploadProblems(0, null, this.t, this.cfg.bytes));
        return;
      }
      let body = null;
      try { body = await r.json(); } catch (err) { body = null; }
      this.last = { ok: r.ok, status: r.status, data: body };
      if (r.ok && body) this.show(body, []);
      else this.show(null, uploadProblems(r.status, body, this.t, this.cfg.bytes));
    } finally {
      this.sending = false;
      this.submit.disabled = false;
      this.submit.textContent = this.t.lab_upload_submit;
    }
  }
}

const root = document.getElementById("lab");
if (root) {
  const page = new LabPage(root);
  const upload = new UploadSection(root, page.cfg.upload, page.t, page.lang);
  window.unrolledLab = {
    page,
    upload,
    get runs() { return page.runs; },
    get pending() { return page.pending || page.starting; },
    get final() { return FINAL; },
  };
  // a classroom room: the "open a class" button, or teaching/following the room in ?room=
  import("../rooms/lab-room.js").then((m) => m.attachLabRoom(page));
}
