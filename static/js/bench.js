/* The bench's glue: subscribe to the trace stream, keep the view state (phase, step) in the URL,
   wire the transport buttons, keys and exports, and hand the received steps to the panels
   (panels.js, mixed into Bench below). */
(function () {
  "use strict";

  const { $, $$, RECURRENT, ARCHS, fmt, showChar, num, gradientVsDistance } = window.UnrolledPanels.util;

  const CURSOR_PANELS = ["hidden", "gates", "attention", "positional"];  // their cursor moves without a redraw

  class Bench {
    constructor(root) {
      this.root = root;
      this.cfg = JSON.parse($("#bench-config", root).textContent);
      this.t = this.cfg.i18n;
      this.arch = this.cfg.knobs.arch;
      const v = this.cfg.view;  // from the URL, read by the server
      this.view = { phase: v.phase, fwd: v.step, bwd: v.bstep, layer: v.layer, head: v.head, speed: v.speed };
      this.data = { meta: null, steps: [], back: [], nSteps: 0, nBack: 0, summary: null, done: false, error: null };
      this.drawn = {};  // panel id -> { key, cursor } it was last drawn for
      this.timer = null;
      this.pending = false;
      this.compare = null;
      this.wire();
      this.updateLinks();
      this.applyVisibility();
      this.stripCaption();
      this.load();
    }

    // ---- knobs and URLs ----
    apiQuery() {  // the knobs exactly as the form holds them; empty means the API's default
      const q = new URLSearchParams();
      for (const [k, val] of new FormData($("#knobs", this.root))) {
        if (k !== "lang" && val !== "") q.append(k, val);
      }
      return q;
    }
    pageQuery() {
      const q = this.apiQuery();
      q.set("lang", this.cfg.lang);
      q.set("phase", this.view.phase);
      q.set("step", String(this.view.fwd));
      q.set("bstep", String(this.view.bwd));
      q.set("layer", String(this.view.layer));
      q.set("head", String(this.view.head));
      q.set("speed", String(this.view.speed));
      return q;
    }
    updateLinks() {
      const q = this.pageQuery();
      const url = `${location.pathname}?${q}`;
      if (url !== location.pathname + location.search) history.replaceState(history.state, "", url);
      const other = $("#lang-switch");
      if (other) { q.set("lang", other.dataset.lang); other.href = `${location.pathname}?${q}`; }
      const api = this.apiQuery();
      $("#export-json", this.root).href = `${this.cfg.api.json}?${api}`;
      $("#export-csv", this.root).href = `${this.cfg.api.csv}?${api}`;
    }

    // ---- the stream ----
    load() {
      this.setStatus(this.t.loading);
      const url = `${this.cfg.api.stream}?${this.apiQuery()}`;
      const es = new EventSource(url);
      this.es = es;
      const on = (name, fn) => es.addEventListener(name, (e) => { if (this.es === es) fn(JSON.parse(e.data)); });
      on("meta", (m) => { this.data.meta = m; this.data.T = m.T; this.schedule(); });
      on("forward", (s) => {
        if (!this.data.nSteps) this.syncSelects(s);
        if (!this.data.steps[s.t]) this.data.nSteps += 1;
        this.data.steps[s.t] = s;
        this.schedule();
      });
      on("backward", (b) => { if (!this.data.back[b.t]) this.data.nBack += 1; this.data.back[b.t] = b; this.schedule(); });
      on("summary", (s) => { this.data.summary = s; this.schedule(); });
      on("done", () => { this.data.done = true; es.close(); this.schedule(); this.maybeCompare(); });
      es.onerror = () => {
        if (this.es !== es || this.data.done) return;
        if (es.readyState === EventSource.CLOSED) this.explainFailure(url);
        // otherwise the browser reconnects by itself and resumes after Last-Event-ID
      };
    }
    /* The layer and head choosers list what the trace has (a checkpoint brings its own sizes). */
    syncSelects(step) {
      const counts = { layer: (step.attention || step.h || [null]).length, head: step.attention ? step.attention[0].length : 1 };
      for (const sel of $$(".view-select", this.root)) {
        const n = counts[sel.dataset.view];
        if (!n || sel.options.length === n) continue;
        sel.replaceChildren(...Array.from({ length: n }, (_, i) => new Option(String(i), String(i))));
        this.view[sel.dataset.view] = Math.min(this.view[sel.dataset.view], n - 1);
        sel.value = String(this.view[sel.dataset.view]);
      }
    }
    async explainFailure(url) {
      // EventSource hides the status of a refused stream: ask once more with fetch to read the message.
      if (this.explaining) return;
      this.explaining = true;
      let detail = null;
      try {
        const r = await fetch(url, { headers: { Accept: "application/json" } });
        if (r.status === 422) detail = (await r.json()).detail;
        else if (r.ok) { r.body && r.body.cancel(); }
      } catch (err) { detail = null; }
      this.showError(detail);
    }
    showError(detail) {
      const box = $("#message", this.root);
      box.replaceChildren();
      const h = document.createElement("h3");
      h.textContent = detail ? this.t.error_heading : this.t.error_network;
      box.append(h);
      if (Array.isArray(detail)) {
        const ul = document.createElement("ul");
        const seen = new Set();  // one line per problem, even if the API lists it twice
        for (const d of detail) {
          const key = JSON.stringify([d.loc, d.msg]);
          if (seen.has(key)) continue;
          seen.add(key);
          const li = document.createElement("li");
          const field = Array.isArray(d.loc) ? d.loc[d.loc.length - 1] : "";
          const label = this.t[`knob_${field}`] || field;
          li.textContent = fmt(this.t.error_field, { field: label, msg: this.errorText(d) });
          ul.append(li);
          const input = $(`[name="${field}"]`, this.root);
          if (input) input.setAttribute("aria-invalid", "true");
        }
        box.append(ul);
      } else if (typeof detail === "string") {
        const p = document.createElement("p"); p.textContent = detail; box.append(p);
      }
      box.hidden = false;
      $("#panels", this.root).hidden = true;  // no empty frames: the message and the form are the page
      this.data.error = detail || "network";
      this.setStatus(h.textContent);
    }

    errorText(d) {  // pydantic's standard errors in the page's language; the API's own messages as sent
      const ctx = d.ctx || {};
      const template = this.t[`error_${d.type}`];
      if (!template) {  // the API's own words, without the field name the list item already shows
        const field = Array.isArray(d.loc) ? d.loc[d.loc.length - 1] : "";
        return String(d.msg).replace(/^Value error, /, "").replace(new RegExp(`^${field}: `), "");
      }
      const limit = ctx.le ?? ctx.ge ?? ctx.gt ?? ctx.lt ?? ctx.min_length ?? ctx.max_length ?? ctx.expected ?? "";
      return fmt(template, { limit, input: d.input ?? "", expected: ctx.expected ?? "" });
    }

    // ---- view state ----
    get T() { return this.data.T || 0; }
    nFwd() { return Math.min(this.view.fwd, this.data.nSteps); }
    nBwd() { return Math.min(this.view.bwd, this.data.nBack); }
    current() {  // the step the view is on, or -1 before the first
      if (this.view.phase === "forward") return this.nFwd() - 1;
      const nb = this.nBwd();
      return nb ? this.T - nb : -1;
    }
    stepBy(d) {
      const key = this.view.phase === "forward" ? "fwd" : "bwd";
      const next = Math.max(0, Math.min(this.T, this.view[key] + d));
      if (next === this.view[key]) return false;
      this.view[key] = next;
      if (this.view.phase === "backward") this.view.fwd = this.T;
      this.changed();
      return true;
    }
    reset() { this.pause(); this.view.phase = "forward"; this.view.fwd = 0; this.view.bwd = 0; this.phaseChanged(); }
    toEnd() {
      this.pause();
      if (this.view.phase === "forward") this.view.fwd = this.T; else this.view.bwd = this.T;
      this.changed();
    }
    setPhase(phase) {
      if (phase === this.view.phase) return;
      this.view.phase = phase;
      if (phase === "backward") this.view.fwd = this.T;  // the backward pass needs the whole forward pass
      this.phaseChanged();
    }
    stripCaption() {
      const tf = this.arch === "transformer" ? "_transformer" : "";
      $("#caption-strip", this.root).textContent = this.t[`caption_strip_${this.view.phase}${tf}`];
    }
    togglePhase() { this.setPhase(this.view.phase === "forward" ? "backward" : "forward"); }
    play() {
      if (this.timer) return;
      const key = this.view.phase === "forward" ? "fwd" : "bwd";
      if (this.view[key] >= this.T) this.view[key] = 0;
      const tick = () => { if (!this.stepBy(1)) this.pause(); };
      this.timer = setInterval(tick, 1000 / this.view.speed);
      tick();
      this.syncButtons();
    }
    pause() { if (this.timer) { clearInterval(this.timer); this.timer = null; } this.syncButtons(); }
    togglePlay() { if (this.timer) this.pause(); else this.play(); }
    phaseChanged() {
      this.root.dataset.phase = this.view.phase;
      this.stripCaption();
      for (const b of $$(".phase-btn", this.root)) b.setAttribute("aria-pressed", String(b.dataset.phase === this.view.phase));
      this.applyVisibility();
      this.changed();
    }
    changed() { this.updateLinks(); this.schedule(); }
    schedule() {
      if (this.pending) return;
      this.pending = true;
      requestAnimationFrame(() => { this.pending = false; this.render(); });
    }

    applyVisibility() {
      const recurrent = RECURRENT.includes(this.arch);
      const show = {
        all: true,
        forward: this.arch !== "transformer" || false,
        gates: this.arch === "lstm" || this.arch === "gru",
        backward: this.view.phase === "backward",
        transformer: this.arch === "transformer",
      };
      for (const p of $$(".panel", this.root)) {
        let visible = show[p.dataset.group];
        if (p.id === "panel-probs") visible = true;
        if (p.id === "panel-jacobian" && !recurrent) visible = false;
        if (p.hidden && visible) delete this.drawn[p.id.replace("panel-", "")];
        p.hidden = !visible;
      }
    }

    // ---- wiring ----
    wire() {
      const r = this.root;
      const click = (id, fn) => $(id, r).addEventListener("click", (e) => { e.preventDefault(); fn(); });
      click("#btn-reset", () => this.reset());
      click("#btn-back", () => { this.pause(); this.stepBy(-1); });
      click("#btn-forward", () => { this.pause(); this.stepBy(1); });
      click("#btn-play", () => this.togglePlay());
      click("#btn-end", () => this.toEnd());
      for (const b of $$(".phase-btn", r)) b.addEventListener("click", () => this.setPhase(b.dataset.phase));
      const speed = $("#speed", r);
      speed.addEventListener("input", () => {
        this.view.speed = parseInt(speed.value, 10);
        $("#speed-value", r).textContent = speed.value;
        if (this.timer) { this.pause(); this.play(); }
        this.updateLinks();
      });
      speed.addEventListener("change", () => speed.blur());
      for (const s of $$(".view-select", r)) {
        s.addEventListener("change", () => {
          this.view[s.dataset.view] = parseInt(s.value, 10);
          for (const o of $$(`.view-select[data-view="${s.dataset.view}"]`, r)) o.value = s.value;
          s.blur();  // hand the arrow keys back to the transport
          this.changed();
        });
      }
      for (const b of $$("button.export", r)) {
        b.addEventListener("click", () => {
          const div = document.getElementById(b.dataset.plot);
          if (!div || !div.data || !window.Plotly) return;
          Plotly.downloadImage(div, {
            format: b.dataset.export, filename: `unrolled-${this.arch}-${b.dataset.plot.replace("plot-", "")}`,
            width: Math.max(div.clientWidth, 800), height: Math.max(div.clientHeight, 400),
          });
        });
      }
      click("#permalink", () => {
        const done = () => this.setStatus(this.t.permalink_copied);
        const show = () => window.prompt(this.t.permalink, location.href);  // plain http on a LAN has no clipboard API
        if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(location.href).then(done, show);
        else show();
      });
      $("#compare-run", r).addEventListener("click", () => this.runCompare(true));
    }

    destroy() {
      this.pause();
      if (this.es) { this.es.close(); this.es = null; }
      if (this.compare) this.compare.abort.abort();
      if (window.Plotly) for (const d of $$(".plot", this.root)) if (d.data) Plotly.purge(d);
    }

    setStatus(text) { const s = $("#status", this.root); if (s) s.textContent = text; }

    syncButtons() {
      const key = this.view.phase === "forward" ? "fwd" : "bwd";
      const at = this.view[key], T = this.T;
      $("#btn-back", this.root).disabled = at <= 0;
      $("#btn-forward", this.root).disabled = T === 0 || at >= T;
      $("#btn-end", this.root).disabled = T === 0 || at >= T;
      const play = $("#btn-play", this.root);
      play.textContent = this.timer ? play.dataset.pause : play.dataset.play;
      play.setAttribute("aria-pressed", String(!!this.timer));
    }

    // ---- rendering ----
    render() {
      if (!this.data.meta) return;
      this.syncButtons();
      this.renderStatus();
      this.renderOverflow();
      if (!window.Plotly) return;  // still loading (see base.html): "plotly:ready" renders again
      const visible = (id) => { const p = document.getElementById(`panel-${id}`); return p && !p.hidden; };
      const panels = {
        strip: () => this.plotStrip(), hidden: () => this.plotHidden(), gates: () => this.plotGates(),
        probs: () => this.plotProbs(), "grad-norm": () => this.plotGradNorm(), "grad-flow": () => this.plotGradFlow(),
        jacobian: () => this.plotJacobian(), clip: () => this.plotClip(),
        attention: () => this.plotAttention(), positional: () => this.plotPositional(),
        compare: () => this.compare && this.compare.ready && this.plotCompare(),
      };
      for (const [id, draw] of Object.entries(panels)) {
        if (!visible(id)) continue;
        // a step redraws only the panels whose data it changes; on the others at most the cursor moves
        const key = this.panelKey(id), cursor = CURSOR_PANELS.includes(id) ? String(this.current()) : "";
        const last = this.drawn[id];
        if (!last || last.key !== key) draw();
        else if (last.cursor !== cursor) this.moveCursor(id);
        else continue;
        this.drawn[id] = { key, cursor };
      }
      this.ready = this.data.done;  // every panel drawn from the complete trace
      this.root.dataset.ready = String(this.ready);
    }

    /* What a panel shows depends on: the data received so far and some of the view state. */
    panelKey(id) {
      const d = this.data, v = this.view, T = this.T;
      const got = `${d.nSteps}.${d.nBack}.${d.summary ? 1 : 0}`;
      const cur = this.current(), nb = this.nBwd(), n = v.phase === "backward" ? T : this.nFwd();
      switch (id) {
        case "strip": return `${got}|${v.phase}|${n}|${nb}`;
        case "hidden": case "gates": return `${got}|${n}|${v.layer}`;
        case "probs": return `${got}|${cur}`;
        case "grad-norm": case "grad-flow": case "jacobian": return `${got}|${nb}|${cur}`;
        case "clip": return `${got}|${nb >= T}`;
        case "attention": return `${got}|${n}|${v.layer}|${v.head}`;
        case "positional": return got;
        case "compare": return this.compare ? `${this.compare.ready}|${this.compare.id}` : "none";
        default: return `${got}|${v.phase}|${n}|${nb}|${cur}`;
      }
    }

    renderStatus() {
      if (this.data.error) return;
      const t = this.current(), T = this.T, s = this.data.steps[t];
      if (this.view.phase === "forward") {
        if (t < 0) { this.setStatus(this.t.status_none); return; }
        const parts = [fmt(this.t.status_forward, { n: t + 1, T })];
        if (s) {
          parts.push(`${this.t.status_input} “${showChar(s.token)}”`);
          if (s.target !== null) parts.push(`${this.t.status_next} “${showChar(s.target)}”`);
          if (s.loss !== null) parts.push(`${this.t.status_loss} ${num(s.loss)}`);
        }
        this.setStatus(parts.join(" · "));
      } else {
        const nb = this.nBwd();
        if (!nb) { this.setStatus(this.t.backward_wait); return; }
        const b = this.data.back[t];
        const parts = [fmt(this.t.status_backward, { n: nb, T, t })];
        const of = this.arch === "transformer" ? "x" : "h";
        if (b) parts.push(`‖∂L/∂${of}${t}‖ = ${num(b.grad_h[b.grad_h.length - 1])}`);
        if (this.data.summary) parts.push(`${this.t.status_total_loss} ${num(this.data.summary.loss)}`);
        this.setStatus(parts.join(" · "));
      }
    }

    /* Steps with inf/NaN (sent as null): "forward" values, "backward" values, or either. */
    overflowSteps(kind) {
      const out = new Set();
      if (kind !== "backward") this.data.steps.forEach((s) => { if (s && s.overflow) out.add(s.t); });
      if (kind !== "forward") this.data.back.forEach((b) => { if (b && b.overflow) out.add(b.t); });
      return [...out].sort((a, b) => a - b);
    }
    renderOverflow() {
      const steps = this.overflowSteps();
      const box = $("#overflow-banner", this.root);
      box.hidden = steps.length === 0;
      if (steps.length) {
        const shown = steps.length > 12 ? `${steps.slice(0, 12).join(", ")} …` : steps.join(", ");
        box.textContent = `⚠ ${fmt(this.t.overflow_banner, { steps: shown })}`;
      }
    }

    // ---- the compare strip: the same text through every architecture ----
    maybeCompare() {
      const panel = $("#panel-compare", this.root);
      if (!panel || this.compare) return;
      const note = $("#note-compare", this.root);
      note.textContent = this.t.compare_waiting;
      note.hidden = false;
      if (!("IntersectionObserver" in window)) { this.runCompare(false); return; }
      const io = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) { io.disconnect(); this.runCompare(false); }
      });
      io.observe(panel);
      this.observer = io;
    }
    runCompare(force) {
      if (this.compare && !force) return;
      if (this.compare) this.compare.abort.abort();
      $("#note-compare", this.root).hidden = true;
      const state = { curves: {}, eta: {}, failed: {}, ready: false, abort: new AbortController(),
                      id: (this.compare ? this.compare.id : 0) + 1 };
      this.compare = state;
      const base = this.apiQuery();
      this.plotCompareLoading();
      fetch("/api/architectures").then((r) => r.json()).then((spec) => {
        const available = new Set(spec.architectures.filter((a) => a.available).map((a) => a.arch));
        for (const arch of ARCHS) if (!available.has(arch)) state.failed[arch] = true;
        this.fetchCompare(state, base, ARCHS.filter((a) => available.has(a)));
      }, () => this.fetchCompare(state, base, ARCHS));
    }
    fetchCompare(state, base, archs) {
      if (this.compare !== state) return;
      let left = archs.length;
      const finish = () => { left -= 1; if (left === 0) { state.ready = true; this.schedule(); } };
      if (!left) { state.ready = true; this.schedule(); }
      for (const arch of archs) {
        const q = new URLSearchParams(base);
        q.set("arch", arch);
        // the summary alone (a few percent of a whole trace): what a classroom's wifi should carry
        fetch(`${this.cfg.api.summary}?${q}`, { signal: state.abort.signal }).then((r) => (r.ok ? r.json() : Promise.reject(r.status))).then(
          (summary) => {
            if (this.compare !== state) return;
            state.curves[arch] = gradientVsDistance(summary.grad_flow);
            const bound = summary.pascanu && summary.pascanu.decay_bound;
            state.eta[arch] = bound ? bound[bound.length - 1] : null;
            finish();
          },
          () => { if (this.compare !== state) return; state.failed[arch] = true; finish(); },
        );
      }
    }
  }
  Object.assign(Bench.prototype, window.UnrolledPanels.methods);

  // ---- page wiring: one Bench per #bench; the knob form swaps #bench and a new one starts ----
  let bench = null;
  function start() {
    const root = document.getElementById("bench");
    if (!root || (bench && bench.root === root)) return;
    if (bench) bench.destroy();
    bench = new Bench(root);
    window.unrolledBench = bench;  // for the browser tests and the console
  }

  function editable(el) {
    return el && (el.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(el.tagName));
  }
  // by physical key (e.code), so "b" works with a Korean keyboard layout too, where the key types "ㅠ"
  const KEYS = {
    ArrowRight: () => { bench.pause(); bench.stepBy(1); },
    ArrowLeft: () => { bench.pause(); bench.stepBy(-1); },
    Space: () => bench.togglePlay(),
    KeyB: () => bench.togglePhase(),
    Home: () => bench.reset(),
    End: () => bench.toEnd(),
  };
  document.addEventListener("keydown", (e) => {
    if (!bench || e.ctrlKey || e.metaKey || e.altKey || editable(e.target)) return;
    const fn = KEYS[e.code] || KEYS[{ " ": "Space", b: "KeyB", B: "KeyB" }[e.key] || e.key];
    if (!fn) return;
    e.preventDefault();
    if (!e.repeat || e.code.startsWith("Arrow")) fn();
  });
  // a focused button would also "click" on the space key's release: the key means play/pause here
  document.addEventListener("keyup", (e) => { if (e.code === "Space" && !editable(e.target)) e.preventDefault(); });

  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("plotly:ready", () => { if (bench) bench.schedule(); });
  document.addEventListener("htmx:beforeSwap", (e) => {
    if (e.detail.target && e.detail.target.id === "bench" && bench) { bench.destroy(); bench = null; }
  });
  document.addEventListener("htmx:afterSettle", start);
  document.addEventListener("htmx:responseError", (e) => {
    if (!bench) return;
    let detail = null;
    try { detail = JSON.parse(e.detail.xhr.responseText).detail; } catch (err) { detail = null; }
    bench.showError(detail);
  });
  document.addEventListener("htmx:sendError", () => { if (bench) bench.showError(null); });
})();
