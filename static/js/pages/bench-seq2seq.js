/* The bench's encoder-decoder mode (/bench?mode=seq2seq): one Seq2SeqSource (sources/seq2seq.js) for the
   form's knobs, one view store whose step counts the decoder outputs revealed, and the panels alignment,
   context, seq2seq-probs and accuracy-length mounted with core/figure.js.

   - The recurrent bench's transport (partials/transport.html, without its phase buttons): ← → step,
     space plays (core/view.js's Player at the speed slider's rate), Home/End jump (core/keys.js).
   - A/B: a side B with A's source string and its own checkpoint and teacher forcing (by default A's twin
     with attention switched: seq2seq-reverse-attention against seq2seq-reverse-plain), whose figures
     step with A's on the same store; in the URL as ab=1 and b.<knob>=value.
   - Exports: the trace as JSON (GET /api/seq2seq/trace) and per step as CSV (GET /api/seq2seq/trace.csv),
     downloads of side A's knobs.
   - The URL holds the knobs, the step, the speed and side B, so a copied address reopens this view.
   - A classroom room (rooms/seq2seq-room.js): students follow the teacher's knobs, side B and step.
   window.unrolledBench is the page's state for the browser tests and the console. */

import { mountFigure } from "../core/figure.js";
import { errorLines, fmt } from "../core/format.js";
import { bindKeys, releaseOnEnter } from "../core/keys.js";
import { readTheme } from "../core/theme.js";
import { openButton } from "../rooms/open-button.js";
import { transportActions, wireTransport } from "../core/transport.js";
import { Player, ViewStore } from "../core/view.js";
import * as accuracy from "../panels/accuracy-length.js";
import * as alignment from "../panels/alignment.js";
import * as context from "../panels/context.js";
import * as probs from "../panels/seq2seq-probs.js";
import { Seq2SeqSource, partnerCheckpoint, seq2seqQuery } from "../sources/seq2seq.js";

export const PANELS = Object.fromEntries([alignment, context, probs, accuracy].map((p) => [p.id, p]));
const B_KNOBS = ["checkpoint", "teacher_forcing"];  // B reads A's source string: the two decoders line up

const $ = (sel, root) => (root || document).querySelector(sel);
const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

function formKnobs(form) {
  const data = new FormData(form);
  return { checkpoint: data.get("checkpoint"), source: data.get("source") || "",
           teacher_forcing: data.get("teacher_forcing") === "true" };
}

function errorText(error, t) {
  const lines = errorLines(error?.detail, t);
  return lines.length ? lines.map((l) => fmt(t.error_field, { field: l.label, msg: l.text })).join(" · ")
    : error?.status ? `HTTP ${error.status}` : t.error_network;
}

class Seq2SeqBench {
  constructor(root) {
    this.root = root;
    const cfg = JSON.parse($("#bench-s2s-config", root).textContent);
    this.t = cfg.i18n;
    this.lang = cfg.lang;
    this.theme = readTheme();
    this.form = $("#s2s-knobs", root);
    this.formB = $("#knobs-b", root);
    this.knobs = formKnobs(this.form);
    this.names = [...$('select[name="checkpoint"]', this.form).options].map((o) => o.value);
    const q = new URLSearchParams(location.search);
    this.store = new ViewStore({ step: q.has("step") ? Number(q.get("step")) || 0 : 1 });
    this.player = new Player(this.store, { speed: q.get("speed") || 4 });
    this.ab = { on: q.get("ab") === "1", overrides: {} };
    for (const k of B_KNOBS) if (q.has(`b.${k}`)) this.ab.overrides[k] = q.get(`b.${k}`);
    this.figs = { a: {}, b: {} };
    this.sourceB = null;
    this.changes = new Set();  // told after each change of step or side B (rooms/seq2seq-room.js publishes)
    this.source = new Seq2SeqSource(this.knobs, { lang: this.lang });
    this.mountSide("a", this.source);
    this.source.subscribe(() => this.onTrace());
    this.store.subscribe(() => this.onView());
    this.player.subscribe(() => this.syncButtons());
    this.wire();
    if (this.ab.on) this.openB();
    this.source.start();
    this.onView();
  }

  // ---- figures ----
  mountSide(side, source) {
    const suffix = side === "a" ? "" : "-b";
    for (const [id, panel] of Object.entries(PANELS)) {
      const section = $(`#panel-${id}`, this.root), el = $(`#plot-${id}${suffix}`, section);
      if (!el) continue;  // accuracy against length is the task's, one figure for both sides
      section.hidden = false;
      this.figs[side][id] = mountFigure(el, {
        source, view: this.store, panel, strings: this.t, theme: this.theme,
        describeEl: $(`#describe-${id}${suffix}`, section), noteEl: $(`#note-${id}${suffix}`, section),
        isVisible: () => !el.closest("[hidden]"), filename: `unrolled-seq2seq-${id}${suffix}`,
        onRender: () => this.updateReady(),
      });
    }
  }

  unmountSide(side) {
    for (const fig of Object.values(this.figs[side])) fig.destroy();
    this.figs[side] = {};
  }

  allFigs() { return [...Object.values(this.figs.a), ...Object.values(this.figs.b)]; }

  get pending() { return this.allFigs().some((f) => f.pending); }

  get ready() {
    if (this.source.status === "error" || !this.source.trace.done) return false;
    if (this.sourceB && !this.sourceB.trace.done && this.sourceB.status !== "error") return false;
    return this.allFigs().every((f) => f.ready && !f.pending);
  }

  updateReady() {
    const r = String(this.ready);
    if (this.root.dataset.ready !== r) this.root.dataset.ready = r;
  }

  // ---- what arrives ----
  onTrace() {
    const msg = $("#message", this.root);
    if (this.source.status === "error") {
      this.player.pause();
      msg.hidden = false;
      msg.textContent = errorText(this.source.error, this.t);
      $("#status", this.root).textContent = "";
      $("#panels", this.root).hidden = true;
      this.root.dataset.state = "error";
      this.updateReady();
      return;
    }
    const Ts = [this.source.trace, this.sourceB?.trace].filter((tr) => tr && tr.meta).map((tr) => tr.T);
    if (Ts.length && this.store.T !== Math.max(...Ts)) this.store.setLength(Math.max(...Ts));
    this.renderErrorB();
    this.renderStatus();
    this.syncButtons();
    this.updateReady();
  }

  renderStatus() {
    const tr = this.source.trace;
    if (!tr.meta) return;
    const n = this.store.state.step;
    let text = fmt(this.t.s2s_bench_status, { n, T: tr.T, target: tr.meta.target, predicted: tr.meta.predicted });
    const trB = this.sourceB?.trace;
    if (trB && trB.meta) text += ` · ${this.t.ab_side_b}: ${fmt(this.t.s2s_bench_status_b, { predicted: trB.meta.predicted })}`;
    $("#status", this.root).textContent = text;
    this.root.dataset.step = String(n);
    this.root.dataset.state = tr.done ? "done" : "loading";
  }

  renderErrorB() {
    if (!this.sourceB) return;
    const failed = this.sourceB.status === "error";
    for (const id of Object.keys(PANELS)) {
      const note = $(`#note-${id}-b`, this.root);
      if (!note) continue;
      note.hidden = !failed;
      note.textContent = failed ? `${this.t.ab_side_b}: ${errorText(this.sourceB.error, this.t)}` : "";
    }
  }

  onView() {
    this.renderStatus();
    this.syncButtons();
    this.updateLinks();
  }

  syncButtons() {
    const at = this.store.state.step, T = this.store.T || 0;
    $("#btn-back", this.root).disabled = at <= 0;
    $("#btn-forward", this.root).disabled = T === 0 || at >= T;
    $("#btn-end", this.root).disabled = T === 0 || at >= T;
    const play = $("#btn-play", this.root);
    const label = this.player.playing ? play.dataset.pause : play.dataset.play;
    if (play.textContent !== label) play.textContent = label;
    play.setAttribute("aria-pressed", String(this.player.playing));
    this.root.dataset.playing = String(this.player.playing);
  }

  // ---- URLs: the page's query is the permalink; the exports download side A's trace ----
  pageQuery() {
    const q = new URLSearchParams({ mode: "seq2seq", lang: this.lang });
    for (const [k, v] of seq2seqQuery(this.knobs)) q.set(k, v);
    q.set("step", String(this.store.state.step));
    q.set("speed", String(this.player.speed));
    if (this.ab.on) {
      q.set("ab", "1");
      for (const [k, v] of Object.entries(this.ab.overrides)) q.set(`b.${k}`, v);
    }
    const room = new URLSearchParams(location.search).get("room");
    if (room) q.set("room", room);  // a classroom room stays in the URL (a reload keeps teaching or following)
    return q;
  }

  updateLinks() {
    const q = this.pageQuery(), url = `${location.pathname}?${q}`;
    if (url !== location.pathname + location.search) history.replaceState(history.state, "", url);
    const other = $("#lang-switch");
    if (other) { q.set("lang", other.dataset.lang); other.href = `${location.pathname}?${q}`; }
    const api = seq2seqQuery(this.knobs, this.lang);
    const name = `unrolled-${this.knobs.checkpoint.replace(/[:@]/g, "-")}-${this.knobs.source}`;
    Object.assign($("#export-json", this.root), { href: `/api/seq2seq/trace?${api}`, download: `${name}.json` });
    Object.assign($("#export-csv", this.root), { href: `/api/seq2seq/trace.csv?${api}`, download: `${name}.csv` });
    for (const fn of this.changes) fn();
  }

  // ---- side B ----
  knobsB() {
    const o = this.ab.overrides, knobs = { ...this.knobs };
    if ("checkpoint" in o) knobs.checkpoint = o.checkpoint;
    if ("teacher_forcing" in o) knobs.teacher_forcing = o.teacher_forcing === "true";
    return knobs;
  }

  openB() {
    this.ab.on = true;
    if (!("checkpoint" in this.ab.overrides)) this.ab.overrides.checkpoint = partnerCheckpoint(this.knobs.checkpoint, this.names);
    this.buildFormB();
    this.formB.hidden = false;
    $("#ab-toggle", this.root).setAttribute("aria-pressed", "true");
    this.attachB();
  }

  closeB() {
    this.detachB();
    this.ab = { on: false, overrides: {} };
    this.formB.hidden = true;
    $("#ab-toggle", this.root).setAttribute("aria-pressed", "false");
    this.onTrace();
    this.updateLinks();
  }

  attachB() {
    this.sourceB = new Seq2SeqSource(this.knobsB(), { lang: this.lang });
    this.unsubB = this.sourceB.subscribe(() => this.onTrace());
    this.showSides(true);
    this.mountSide("b", this.sourceB);
    this.sourceB.start();
    this.onTrace();
    this.updateLinks();
  }

  detachB() {
    this.unmountSide("b");
    if (this.unsubB) { this.unsubB(); this.unsubB = null; }
    if (this.sourceB) { this.sourceB.close(); this.sourceB = null; }
    this.showSides(false);
  }

  showSides(on) {
    for (const side of $$('.figure-side[data-side="b"]', this.root)) side.hidden = !on;
    for (const label of $$('.figure-side[data-side="a"] .side-label', this.root)) {
      label.hidden = !on || !label.closest(".figure-sides").querySelector('[data-side="b"]');
    }
    this.root.dataset.ab = on ? "on" : "off";
    // side A's plots were laid out for the whole row (or half of it): fit them to their new width
    const Plotly = window.Plotly;
    if (Plotly && Plotly.Plots) {
      for (const id of Object.keys(this.figs.a)) {
        const el = $(`#plot-${id}`, this.root);
        if (el && el.data && el.offsetParent !== null) Plotly.Plots.resize(el);
      }
    }
  }

  /* B's form: copies of A's checkpoint and teacher-forcing fields (ids knob-b-<name>) with B's values. */
  buildFormB() {
    for (const old of $$(".knob", this.formB)) old.remove();
    const knobs = this.knobsB();
    for (const name of B_KNOBS) {
      const copy = $(`.knob[data-knob="${name}"]`, this.form).cloneNode(true);
      const field = $("input, select", copy);
      field.id = `knob-b-${name}`;
      if (field.type === "checkbox") field.checked = knobs[name];
      else field.value = knobs[name];
      this.formB.append(copy);
    }
    this.formB.onchange = (e) => {
      if (e.target.tagName === "SELECT") e.target.blur();
      const values = formKnobs(this.formB);
      this.ab.overrides = { checkpoint: values.checkpoint, teacher_forcing: String(values.teacher_forcing) };
      this.player.pause();
      this.detachB();
      this.attachB();
    };
    this.formB.onsubmit = (e) => e.preventDefault();
  }

  // ---- wiring ----
  wire() {
    const r = this.root, store = this.store, player = this.player;
    const click = (sel, fn) => $(sel, r).addEventListener("click", (e) => { e.preventDefault(); fn(); });
    const actions = transportActions(store, player);
    bindKeys(actions);
    $(".keys-hint", r).textContent = this.t.s2s_keys_hint;  // no b: a decoder has no backward phase here
    wireTransport(r, actions, player, () => this.updateLinks());
    click("#ab-toggle", () => { if (this.ab.on) this.closeB(); else this.openB(); });
    click("#permalink", () => {
      const done = () => { $("#status", r).textContent = this.t.permalink_copied; };
      const show = () => window.prompt(this.t.permalink, location.href);  // plain http on a LAN has no clipboard API
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(location.href).then(done, show);
      else show();
    });
    for (const b of $$("button.export", r)) {
      b.addEventListener("click", () => {
        const fig = this.figs.a[b.dataset.panel];
        if (fig) fig.exportImage(b.dataset.export);
      });
    }
    releaseOnEnter(this.form);
    this.form.addEventListener("change", (e) => { if (e.target.tagName === "SELECT") e.target.blur(); });
    // the form's GET keeps side B and the speed; the step starts again at the first output
    this.form.addEventListener("submit", () => {
      for (const [k, v] of this.pageQuery()) {
        if (this.form.elements.namedItem(k) || k === "step") continue;
        const input = document.createElement("input");
        Object.assign(input, { type: "hidden", name: k, value: v });
        this.form.append(input);
      }
    });
  }
}

function start() {
  const root = $("#bench-s2s");
  if (!root) return;
  const bench = new Seq2SeqBench(root);
  window.unrolledBench = {
    get bench() { return bench; },
    get trace() { return bench.source.trace; },
    get traceB() { return bench.sourceB ? bench.sourceB.trace : null; },
    get view() { return bench.store.state; },
    get T() { return bench.store.T || 0; },
    get ready() { return bench.ready; },
    get pending() { return bench.pending; },
    get playing() { return bench.player.playing; },
    get ab() { return { on: bench.ab.on, overrides: { ...bench.ab.overrides } }; },
    get figures() { return Object.fromEntries(Object.keys(PANELS).map((id) => [id, ["a", "b"].filter((s) => bench.figs[s][id])])); },
    get mode() { return "seq2seq"; },
  };
  // a classroom room: teaching or following the room in ?room= at once; otherwise only the "open a
  // class" button, and the room's code is fetched when it is pressed (rooms/open-button.js)
  const seq2seqRoom = () => import("../rooms/seq2seq-room.js");
  const slot = document.createElement("div");
  slot.className = "room-slot";
  root.before(slot);
  if (new URLSearchParams(location.search).has("room")) {
    seq2seqRoom().then((m) => m.attachSeq2SeqRoom(bench, { slot }));
  } else {
    openButton(slot, bench.t, async () => {
      const m = await seq2seqRoom();
      await m.attachSeq2SeqRoom(bench, { slot, open: true });
    });
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
