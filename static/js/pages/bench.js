/* The bench page (/bench): every panel of static/js/panels/ on one trace, a transport that moves one
   view store, and the knob form.

   - The knob form is htmx: a change re-renders #bench for the new knobs and pushes the URL. The view
     store, the player and the keys live at page level, so the view (phase, step ...) survives the swap
     and is clamped to the new trace's length instead of going back to step 0; the view travels with
     the form's request, so the pushed URL is a permalink of knobs and view.
   - One source per knob set (core/source.js): side A streams; the compare strip fetches four
     summaries once it is scrolled to; the A/B mode adds a side B (A's knobs with some overridden, in
     the URL as b.<knob>=value) whose figures step with A's on the same store.
   - Each panel section is mounted with core/figure.js; a panel shows when it applies to the model
     (panel.archs) and the phase (data-phase="backward" panels only in the backward phase).
   - window.unrolledBench is the page's state for the browser tests and the console.
*/

import { mountFigure } from "../core/figure.js";
import { errorLines, fmt, num, showChar } from "../core/format.js";
import { bindKeys, releaseOnEnter } from "../core/keys.js";
import { CompareSource, openStreamCount, releaseSource, sourceFor } from "../core/source.js";
import { readTheme } from "../core/theme.js";
import { transportActions, wireTransport } from "../core/transport.js";
import { openButton } from "../rooms/open-button.js";
import { Player, VIEW_KEYS, ViewStore, currentStep, shown } from "../core/view.js";
import * as bpttTerms from "../panels/bptt-terms.js";
import * as clip from "../panels/clip.js";
import { overflowSummary, top } from "../panels/common.js";
import * as compare from "../panels/compare.js";
import * as equation from "../panels/equation.js";
import * as gates from "../panels/gates.js";
import * as gradFlow from "../panels/grad-flow.js";
import * as gradNorm from "../panels/grad-norm.js";
import * as gradOneLoss from "../panels/grad-one-loss.js";
import * as hidden from "../panels/hidden.js";
import * as gradCH from "../panels/grad-c-h.js";
import * as jacobian from "../panels/jacobian.js";
import * as lstmCell from "../panels/lstm-cell.js";
import * as probs from "../panels/probs.js";
import * as regression from "../panels/regression.js";
import * as strip from "../panels/strip.js";

export const PANELS = Object.fromEntries([strip, hidden, gates, probs, regression, equation, lstmCell, gradNorm, gradOneLoss, gradCH, gradFlow,
                                          bpttTerms, jacobian, clip, compare].map((p) => [p.id, p]));
// The Transformer's panels are fetched when a side shows a Transformer: a recurrent bench (the default)
// does not load them (they were 6 KB of its first load).
const LAZY_PANELS = {
  transformer: {
    attention: () => import("../panels/attention.js"),
    positional: () => import("../panels/positional.js"),
    cost: () => import("../panels/cost.js"),
  },
};
const panelLoads = new Map();

/** null when every panel the architecture needs is here; else a promise that adds them to PANELS. */
function loadPanels(arch) {
  const missing = Object.entries(LAZY_PANELS[arch] || {}).filter(([id]) => !PANELS[id]);
  if (!missing.length) return null;
  return Promise.all(missing.map(([id, load]) => {
    if (!panelLoads.has(id)) panelLoads.set(id, load().then((m) => { PANELS[m.id] = m; }));
    return panelLoads.get(id);
  }));
}

const $ = (sel, root) => (root || document).querySelector(sel);
const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

// ---- page-level state: it outlives the htmx swaps of #bench ----
let store = null, player = null, theme = null, bench = null;
const ab = { on: false, overrides: {} };  // side B = A's knobs with these overrides
const changes = new Set();  // told after each change of knobs, view or A/B (rooms/bench-room.js publishes it)

/* The knobs a form holds; an empty field means the API's default and stays out. */
function formKnobs(form) {
  const knobs = {};
  for (const [k, v] of new FormData(form)) if (k !== "lang" && v !== "") knobs[k] = v;
  return knobs;
}

function fromUrl() {
  const q = new URLSearchParams(location.search);
  const overrides = {};
  for (const [k, v] of q) if (k.startsWith("b.")) overrides[k.slice(2)] = v;
  return { loss: q.get("loss"), unit: q.get("unit"), ab: q.get("ab") === "1", overrides };
}

class Bench {
  constructor(root) {
    this.root = root;
    this.cfg = JSON.parse($("#bench-config", root).textContent);
    this.t = this.cfg.i18n;
    this.lang = this.cfg.lang;
    this.arch = this.cfg.knobs.arch;
    this.form = $("#knobs", root);
    this.knobs = formKnobs(this.form);
    this.figs = new Map();  // panel id -> { a, b }
    this.unsubs = [];
    this.error = null;
    this.compare = null;
    this.compareFig = null;
    this.sourceB = null;
    this.source = sourceFor(this.knobs, { stream: true, lang: this.lang });
    this.wire();
    this.mountSide("a", this.source, this.arch);
    if (ab.on) this.openB();
    this.unsubs.push(
      this.source.subscribe(() => this.onTrace()),
      store.subscribe((s, keys) => this.onView(keys)),
      player.subscribe(() => this.syncButtons()),
    );
    this.onView(VIEW_KEYS);
    this.onTrace();
  }

  // ---- sources and figures ----
  get trace() { return this.source.trace; }
  get T() { return this.trace.T || 0; }
  get archB() { return this.sourceB ? this.sourceB.knobs.arch || this.arch : null; }

  sections() { return $$(".panel[data-panel]", this.root); }

  mountSide(side, source, arch) {
    const loading = loadPanels(arch);
    if (loading) {
      this.loadingPanels = (this.loadingPanels || 0) + 1;
      loading.then(() => {
        this.loadingPanels -= 1;
        const current = side === "a" ? this.source : this.sourceB;
        if (bench !== this || current !== source) return;  // swapped or closed meanwhile
        this.mountSide(side, source, arch);
        this.applyVisibility();
        this.updateReady();
      });
      return;
    }
    for (const section of this.sections()) {
      const id = section.dataset.panel, panel = PANELS[id];
      if (!panel || id === "compare" || !panel.archs.includes(arch)) continue;
      const suffix = side === "a" ? "" : "-b";
      const el = $(`#plot-${id}${suffix}`, section);
      if (!el) continue;
      const fig = mountFigure(el, {
        source, view: store, panel, strings: this.t, theme,
        describeEl: $(`#describe-${id}${suffix}`, section), noteEl: $(`#note-${id}${suffix}`, section),
        isVisible: () => !section.hidden && !this.error && !el.closest("[hidden]"),
        filename: `unrolled-${arch}-${id}${suffix}`,
        lazyParams: true,  // the weights (~100 KB) only once the equation panel comes near the screen
        onRender: () => this.updateReady(),
      });
      const entry = this.figs.get(id) || {};
      entry[side] = fig;
      this.figs.set(id, entry);
    }
  }

  unmountSide(side) {
    for (const entry of this.figs.values()) {
      if (entry[side]) { entry[side].destroy(); delete entry[side]; }
    }
  }

  allFigs() {
    const out = [];
    for (const e of this.figs.values()) { if (e.a) out.push(e.a); if (e.b) out.push(e.b); }
    if (this.compareFig) out.push(this.compareFig);
    return out;
  }

  get pending() { return this.allFigs().some((f) => f.pending); }

  get ready() {
    if (this.error || !this.trace.done || this.loadingPanels) return false;
    if (this.sourceB && !this.sourceB.trace.done && this.sourceB.status !== "error") return false;
    for (const section of this.sections()) {
      if (section.hidden || section.dataset.panel === "compare") continue;
      const entry = this.figs.get(section.dataset.panel) || {};
      for (const f of [entry.a, ab.on ? entry.b : null]) if (f && (!f.ready || f.pending)) return false;
    }
    return true;
  }

  updateReady() {
    const r = String(this.ready);
    if (this.root.dataset.ready !== r) this.root.dataset.ready = r;
  }

  // ---- what arrives ----
  onTrace() {
    if (this.source.status === "error") { this.showError(this.source.error); return; }
    const traces = [this.trace, this.sourceB && this.sourceB.trace].filter((x) => x && x.meta);
    if (traces.length) {
      const T = Math.max(...traces.map((x) => x.T));
      if (store.T !== T) store.setLength(T);
      this.syncSelects();
      this.applyInputKind();
    }
    this.renderStatus();
    this.renderOverflow();
    this.syncButtons();
    this.updateReady();
    if (this.trace.done) this.maybeCompare();
  }

  /* What a step reads comes from the trace's meta: characters, or numbers (a lab run of the adding
     task). Numbers: the panels that read characters step aside (panel.inputs), and the form asks for
     an example of the run's task in place of a text. */
  get inputKind() { return (this.trace.meta && this.trace.meta.input_kind) || "chars"; }

  applyInputKind() {
    const kind = this.inputKind;
    if (kind === this.shownKind) return;
    this.shownKind = kind;
    for (const label of $$(".knob[data-knob]", this.form)) {
      const name = label.dataset.knob;
      if (name === "text") label.hidden = kind === "numbers";
      if (name === "example") {
        label.hidden = kind !== "numbers";
        $("input", label).disabled = kind !== "numbers";
      }
    }
    this.applyVisibility();
    this.onView(["phase"]);
  }

  /* The layer and head pickers list what the trace has (a checkpoint brings its own sizes). */
  syncSelects() {
    const step = this.trace.steps.find(Boolean);
    if (!step) return;
    const counts = { layer: (step.attention || step.h || [null]).length, head: step.attention ? step.attention[0].length : 1 };
    const patch = {};
    for (const sel of $$(".view-select", this.root)) {
      const name = sel.dataset.view, n = counts[name];
      if (!n) continue;
      if (sel.options.length !== n) sel.replaceChildren(...Array.from({ length: n }, (_, i) => new Option(String(i), String(i))));
      if (store.state[name] > n - 1) patch[name] = n - 1;
    }
    if (Object.keys(patch).length) store.set(patch);
    this.syncViewSelects();
  }

  syncViewSelects() {
    for (const sel of $$(".view-select", this.root)) {
      const v = String(store.state[sel.dataset.view]);
      if (sel.value !== v && [...sel.options].some((o) => o.value === v)) sel.value = v;
    }
  }

  showError(error) {
    this.error = error || { status: 0, detail: null };
    const detail = this.error.detail;
    const box = $("#message", this.root);
    box.replaceChildren();
    const h = document.createElement("h3");
    h.textContent = detail ? this.t.error_heading : this.t.error_network;
    box.append(h);
    const lines = errorLines(detail, this.t);
    if (lines.length) {
      const ul = document.createElement("ul");
      for (const line of lines) {
        const li = document.createElement("li");
        li.textContent = fmt(this.t.error_field, { field: line.label, msg: line.text });
        ul.append(li);
        const input = $(`[name="${CSS.escape(line.field)}"]`, this.form);
        if (input) input.setAttribute("aria-invalid", "true");
      }
      box.append(ul);
    } else if (typeof detail === "string") {
      const p = document.createElement("p");
      p.textContent = detail;
      box.append(p);
    }
    box.hidden = false;
    $("#panels", this.root).hidden = true;  // no empty frames: the message and the form are the page
    this.setStatus(h.textContent);
    this.updateReady();
  }

  setStatus(text) {
    const s = $("#status", this.root);
    if (s && s.textContent !== text) s.textContent = text;
  }

  renderStatus() {
    if (this.error) return;
    const tr = this.trace, v = store.state;
    if (!tr.meta) { this.setStatus(this.t.loading); return; }
    const t = currentStep(v, tr), T = tr.T;
    if (v.phase === "forward") {
      if (t < 0) { this.setStatus(this.t.status_none); return; }
      const s = tr.steps[t], parts = [fmt(this.t.status_forward, { n: t + 1, T })];
      if (s.input) {  // numbers: the value (and whether it is marked), the readout, the loss at the end
        parts.push(`${this.t.status_input} ${num(s.input[0])}${s.input[1] > 0.5 ? ` (${this.t.status_marked})` : ""}`);
        parts.push(`${this.t.status_prediction} ${num(s.prediction[0])}`);
        if (s.loss !== null) parts.push(`${this.t.status_loss} ${num(s.loss)}`);
        this.setStatus(parts.join(" · "));
        return;
      }
      parts.push(`${this.t.status_input} “${showChar(s.token)}”`);
      if (s.target !== null) parts.push(`${this.t.status_next} “${showChar(s.target)}”`);
      if (s.loss !== null) parts.push(`${this.t.status_loss} ${num(s.loss)}`);
      this.setStatus(parts.join(" · "));
      return;
    }
    const { nb } = shown(v, tr);
    if (!nb) { this.setStatus(this.t.backward_wait); return; }
    const b = tr.back[t], parts = [fmt(this.t.status_backward, { n: nb, T, t })];
    const of = tr.meta.arch === "transformer" ? "x" : "h";
    if (b) parts.push(`‖∂L/∂${of}${t}‖ = ${num(top(b.grad_h))}`);
    if (tr.summary) parts.push(`${this.t.status_total_loss} ${num(tr.summary.loss)}`);
    this.setStatus(parts.join(" · "));
  }

  /* One line for inf/NaN: where it starts, forward and backward, never a list of every step. */
  renderOverflow() {
    const box = $("#overflow-banner", this.root);
    const tr = this.trace;
    const { forward, backward } = tr.meta ? overflowSummary(tr) : { forward: null, backward: null };
    const where = [];
    if (forward !== null) where.push(fmt(this.t.overflow_from_forward, { t: forward }));
    if (backward !== null) where.push(fmt(this.t.overflow_from_backward, { t: backward }));
    box.hidden = !where.length;
    if (where.length) box.textContent = `⚠ ${fmt(this.t.overflow_banner, { where: where.join(" · ") })}`;
  }

  // ---- the view ----
  onView(keys) {
    const v = store.state;
    if (keys.includes("phase")) {
      this.root.dataset.phase = v.phase;
      for (const b of $$(".phase-btn", this.root)) b.setAttribute("aria-pressed", String(b.dataset.phase === v.phase));
      const tf = this.arch === "transformer" ? "_transformer" : "";
      const numbers = v.phase === "forward" && this.inputKind === "numbers" ? "_numbers" : "";
      $("#caption-strip", this.root).textContent = this.t[`caption_strip_${v.phase}${tf}${numbers}`];
    }
    this.applyVisibility();
    this.syncViewSelects();
    this.updateLinks();
    this.renderStatus();
    this.syncButtons();
  }

  applyVisibility() {
    const phase = store.state.phase, archB = ab.on ? this.archB : null;
    for (const section of this.sections()) {
      const panel = PANELS[section.dataset.panel];
      if (!panel) { section.hidden = true; continue; }  // a lazy panel not fetched yet (LAZY_PANELS)
      const forArch = panel.archs.includes(this.arch) || (archB !== null && panel.archs.includes(archB));
      const forPhase = section.dataset.phase !== "backward" || phase === "backward";
      const forInput = (panel.inputs || ["chars", "numbers"]).includes(this.inputKind);
      const hide = !(forArch && forPhase && forInput);
      if (section.hidden !== hide) {
        section.hidden = hide;
        if (!hide) for (const f of Object.values(this.figs.get(section.dataset.panel) || {})) f.schedule(true);
      }
      for (const label of $$(".side-label", section)) if (label.closest('[data-side="a"]')) label.hidden = !ab.on;
      const sideB = $('.figure-side[data-side="b"]', section);
      if (sideB) sideB.hidden = !ab.on;
    }
    this.root.dataset.ab = ab.on ? "on" : "off";
  }

  syncButtons() {
    const v = store.state, T = store.T || 0, at = v[store.key()];
    $("#btn-back", this.root).disabled = at <= 0;
    $("#btn-forward", this.root).disabled = T === 0 || at >= T;
    $("#btn-end", this.root).disabled = T === 0 || at >= T;
    const play = $("#btn-play", this.root);
    const label = player.playing ? play.dataset.pause : play.dataset.play;
    if (play.textContent !== label) play.textContent = label;
    play.setAttribute("aria-pressed", String(player.playing));
  }

  // ---- URLs ----
  /* The view (and the A/B side) as query parameters: what the permalink and the form's request carry. */
  viewParams() {
    const v = store.state, out = {
      phase: v.phase, step: String(v.step), bstep: String(v.bstep), layer: String(v.layer), head: String(v.head),
      speed: String(player.speed),
    };
    if (v.loss !== null) out.loss = String(v.loss);
    if (v.unit) out.unit = String(v.unit);
    if (ab.on) {
      out.ab = "1";
      for (const [k, val] of Object.entries(ab.overrides)) out[`b.${k}`] = val;
    }
    return out;
  }

  pageQuery() {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(this.knobs)) q.append(k, v);
    q.set("lang", this.lang);
    for (const [k, v] of Object.entries(this.viewParams())) q.set(k, v);
    const room = new URLSearchParams(location.search).get("room");
    if (room) q.set("room", room);  // a classroom room stays in the URL (a reload keeps teaching or following)
    return q;
  }

  updateLinks() {
    const q = this.pageQuery();
    const url = `${location.pathname}?${q}`;
    if (url !== location.pathname + location.search) history.replaceState(history.state, "", url);
    const other = $("#lang-switch");
    if (other) { q.set("lang", other.dataset.lang); other.href = `${location.pathname}?${q}`; }
    $("#export-json", this.root).href = this.source.url("json");
    $("#export-csv", this.root).href = this.source.url("csv");
    for (const fn of changes) fn();
  }

  // ---- wiring ----
  wire() {
    const r = this.root;
    const click = (sel, fn) => $(sel, r).addEventListener("click", (e) => { e.preventDefault(); fn(); });
    wireTransport(r, transportActions(store, player), player, () => this.updateLinks());
    for (const b of $$(".phase-btn", r)) b.addEventListener("click", () => store.setPhase(b.dataset.phase));
    for (const s of $$(".view-select", r)) {
      s.addEventListener("change", () => {
        store.set({ [s.dataset.view]: parseInt(s.value, 10) });
        s.blur();  // hand the arrow keys back to the transport
      });
    }
    for (const b of $$("button.export", r)) {
      b.addEventListener("click", () => {
        const entry = this.figs.get(b.dataset.panel) || {};
        const fig = b.dataset.panel === "compare" ? this.compareFig : entry.a;
        if (fig) fig.exportImage(b.dataset.export);
      });
    }
    click("#permalink", () => {
      const done = () => this.setStatus(this.t.permalink_copied);
      const show = () => window.prompt(this.t.permalink, location.href);  // plain http on a LAN has no clipboard API
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(location.href).then(done, show);
      else show();
    });
    click("#compare-run", () => this.runCompare());
    click("#ab-toggle", () => { if (ab.on) this.closeB(); else this.openB(); });
    this.unsubs.push(releaseOnEnter(this.form));
    // a chosen option hands the keys back (htmx would otherwise give the new form's select the focus)
    this.form.addEventListener("change", (e) => { if (e.target.tagName === "SELECT") e.target.blur(); });
  }

  // ---- the compare strip: the same text through every architecture ----
  maybeCompare() {
    const panel = $("#panel-compare", this.root);
    if (!panel || this.compare || this.observer || this.inputKind !== "chars") return;  // the same text: characters
    const note = $("#note-compare", this.root);
    note.textContent = this.t.compare_waiting;
    note.hidden = false;
    if (!("IntersectionObserver" in window)) { this.runCompare(); return; }
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) { this.observer.disconnect(); this.runCompare(); }
    });
    this.observer.observe(panel);
  }

  runCompare() {
    if (this.observer) this.observer.disconnect();
    if (this.compareFig) this.compareFig.destroy();
    if (this.compare) this.compare.close();
    $("#note-compare", this.root).hidden = true;
    this.compare = new CompareSource(this.knobs);
    const section = $("#panel-compare", this.root);
    this.compareFig = mountFigure($("#plot-compare", section), {
      source: this.compare, view: store, panel: compare, strings: this.t, theme,
      describeEl: $("#describe-compare", section), isVisible: () => !section.hidden && !this.error,
      filename: `unrolled-${this.arch}-compare`,
    });
    this.compare.start();
  }

  // ---- side B ----
  knobsB() {
    return { ...this.knobs, ...ab.overrides };
  }

  openB() {
    ab.on = true;
    const formB = $("#knobs-b", this.root);
    this.buildFormB(formB);
    formB.hidden = false;
    $("#ab-toggle", this.root).setAttribute("aria-pressed", "true");
    this.attachB();
  }

  attachB() {
    const knobs = this.knobsB();
    this.sourceB = sourceFor(knobs, { stream: true, lang: this.lang });
    this.unsubB = this.sourceB.subscribe(() => { this.onTrace(); this.renderErrorB(); });
    this.mountSide("b", this.sourceB, knobs.arch || this.arch);
    this.applyVisibility();
    this.onTrace();
    this.updateLinks();
  }

  detachB() {
    this.unmountSide("b");
    if (this.unsubB) { this.unsubB(); this.unsubB = null; }
    if (this.sourceB) { releaseSource(this.sourceB); this.sourceB = null; }
  }

  closeB() {
    this.detachB();
    ab.on = false;
    $("#knobs-b", this.root).hidden = true;
    $("#ab-toggle", this.root).setAttribute("aria-pressed", "false");
    this.applyVisibility();
    this.onTrace();
    this.updateLinks();
  }

  /* B's form: a copy of A's fields (ids prefixed knob-b-), holding A's values except B's overrides. */
  buildFormB(formB) {
    for (const old of $$(".knob", formB)) old.remove();
    const archB = this.knobsB().arch || this.arch;
    for (const label of $$(".knob", this.form)) {
      const name = label.dataset.knob;
      if (name === "text") continue;  // A and B read the same text: their steps line up
      const copy = label.cloneNode(true);
      const field = $("input, select", copy);
      if (!field) continue;
      field.id = `knob-b-${name}`;
      copy.removeAttribute("hidden");
      for (const hint of $$(".knob-hint", copy)) hint.remove();
      const archs = (label.dataset.archs || "").split(" ").filter(Boolean);
      const applies = !archs.length || archs.includes(archB);
      copy.hidden = !applies;
      field.disabled = !applies;
      if (name in ab.overrides) {
        if (field.type === "checkbox") field.checked = ab.overrides[name] === "true";
        else field.value = ab.overrides[name];
      } else if (field.tagName === "SELECT") {
        field.value = $(`[name="${name}"]`, this.form).value;
      }
      field.removeAttribute("aria-invalid");
      formB.append(copy);
    }
    formB.onchange = (e) => {
      if (e.target.tagName === "SELECT") e.target.blur();
      // B's overrides: what differs from A (an emptied or unchecked field means the API's default)
      const values = formKnobs(formB), overrides = {};
      for (const [k, v] of Object.entries(values)) if (this.knobs[k] !== v) overrides[k] = v;
      for (const k of Object.keys(this.knobs)) {
        const field = formB.elements.namedItem(k);
        if (!(k in values) && field && !field.disabled) overrides[k] = "";
      }
      ab.overrides = overrides;
      const archChanged = (values.arch || this.arch) !== archB;
      this.detachB();
      if (archChanged) this.buildFormB(formB);
      this.attachB();
    };
    formB.onsubmit = (e) => e.preventDefault();
    if (!this.unsubEnterB) this.unsubEnterB = releaseOnEnter(formB);
  }

  renderErrorB() {
    if (!this.sourceB || this.sourceB.status !== "error") return;
    const lines = errorLines(this.sourceB.error.detail, this.t);
    const text = lines.length ? lines.map((l) => fmt(this.t.error_field, { field: l.label, msg: l.text })).join(" · ") : this.t.error_network;
    for (const section of this.sections()) {
      const note = $(`#note-${section.dataset.panel}-b`, section);
      if (note) { note.hidden = false; note.textContent = `${this.t.ab_side_b}: ${text}`; }
    }
  }

  destroy() {
    for (const u of this.unsubs) u();
    if (this.unsubEnterB) this.unsubEnterB();
    for (const f of this.allFigs()) f.destroy();
    this.figs.clear();
    if (this.observer) this.observer.disconnect();
    if (this.compare) this.compare.close();
    if (this.unsubB) this.unsubB();
    if (this.sourceB) releaseSource(this.sourceB);
    releaseSource(this.source);
  }
}

// ---- page wiring: one Bench per #bench; the knob form swaps #bench and a new one starts ----

function start() {
  const root = document.getElementById("bench");
  if (!root || (bench && bench.root === root)) return;
  if (bench) bench.destroy();
  if (!store) {
    const cfg = JSON.parse($("#bench-config", root).textContent);
    const url = fromUrl();
    store = new ViewStore({ ...cfg.view, loss: url.loss, unit: url.unit });
    player = new Player(store, { speed: cfg.view.speed });
    ab.on = url.ab;
    ab.overrides = url.overrides;
    theme = readTheme();
    bindKeys({ ...transportActions(store, player), phase: () => store.togglePhase() });
  }
  bench = new Bench(root);
}

/* For the browser tests and the console. */
window.unrolledBench = {
  get bench() { return bench; },
  get ready() { return Boolean(bench && bench.ready); },
  get pending() { return Boolean(bench && bench.pending); },
  get trace() { return bench ? bench.trace : null; },
  get traceB() { return bench && bench.sourceB ? bench.sourceB.trace : null; },
  get view() { return store ? store.state : null; },
  get T() { return bench ? bench.T : 0; },
  get arch() { return bench ? bench.arch : null; },
  get compare() { return bench && bench.compare ? bench.compare.trace : null; },
  get playing() { return Boolean(player && player.playing); },
  get openStreams() { return openStreamCount(); },
  get figures() { return bench ? Object.fromEntries([...bench.figs].map(([id, e]) => [id, Object.keys(e)])) : {}; },
  // for a classroom room (rooms/bench-room.js): the view store, the A/B side, changes, and the knobs to load
  get store() { return store; },
  get ab() { return { on: ab.on, overrides: { ...ab.overrides } }; },
  onChange(fn) { changes.add(fn); },
  /* Another knob set (and A/B side) for #bench, as the knob form would ask for it; the view is kept. */
  load(knobs, side) {
    ab.on = Boolean(side && side.on);
    ab.overrides = { ...((side && side.overrides) || {}) };
    const q = new URLSearchParams(knobs);
    q.set("lang", bench ? bench.lang : document.documentElement.lang);
    if (player) player.pause();
    window.htmx.ajax("GET", `/bench?${q}`, { target: "#bench", swap: "outerHTML" });
  },
};

// the form's request carries the view, so the new bench and the pushed URL keep it
document.addEventListener("htmx:configRequest", (e) => {
  if (!bench || e.detail.elt !== bench.form) return;
  for (const [k, v] of Object.entries(bench.viewParams())) e.detail.parameters[k] = v;
});
document.addEventListener("htmx:beforeSwap", (e) => {
  if (e.detail.target && e.detail.target.id === "bench" && bench && e.detail.xhr.status < 400) {
    player.pause();
    bench.destroy();
    bench = null;
  }
});
document.addEventListener("htmx:afterSettle", start);
document.addEventListener("htmx:responseError", (e) => {
  if (!bench) return;
  let detail = null;
  try { detail = JSON.parse(e.detail.xhr.responseText).detail; } catch (err) { detail = null; }
  bench.showError({ status: e.detail.xhr.status, detail });
});
document.addEventListener("htmx:sendError", () => { if (bench) bench.showError({ status: 0, detail: null }); });

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
// a classroom room: teaching or following the room in ?room= at once; otherwise only the "open a class"
// button, and the room's code is fetched when it is pressed (rooms/open-button.js)
const benchRoom = () => import("../rooms/bench-room.js");
if (new URLSearchParams(location.search).has("room")) {
  benchRoom().then((m) => m.attachBenchRoom(window.unrolledBench));
} else if (document.getElementById("bench") && window.unrolledBench.bench) {
  const slot = document.createElement("div");
  slot.className = "room-slot";
  document.getElementById("bench").before(slot);
  openButton(slot, window.unrolledBench.bench.t, async () => {
    const m = await benchRoom();
    await m.attachBenchRoom(window.unrolledBench, { slot, open: true });
  });
}
