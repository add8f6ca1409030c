/* The bench's glue: subscribe to the trace stream, keep the view state (phase, step) in the URL,
   hand the received steps to Plotly, wire the transport buttons and keys, and the exports.
   Colours come from the CSS variables in concepts.css; words come from the page's i18n data. */
(function () {
  "use strict";

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const RECURRENT = ["rnn", "lstm", "gru"];
  const ARCHS = ["rnn", "lstm", "gru", "transformer"];
  const GATES = { lstm: ["i", "f", "g", "o"], gru: ["r", "z", "n"] };
  const GATE_COLOUR = { i: "--c-gate-i", f: "--c-gate-f", g: "--c-candidate", o: "--c-gate-o",
                        r: "--c-gate-r", z: "--c-gate-z", n: "--c-candidate" };
  const SIGNED = { g: true, n: true, c: true };  // tanh-valued: diverging colour scale
  const PLOT_CONFIG = { displayModeBar: false, responsive: true };

  function colour(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#000";
  }
  function fmt(template, vars) {
    return String(template).replace(/\{(\w+)\}/g, (_, k) => (k in vars ? vars[k] : ""));
  }
  function showChar(ch) {
    if (ch === " ") return "␣";
    if (ch === "\n") return "↵";
    if (ch === "\t") return "⇥";
    return ch;
  }
  function num(x, digits) {
    if (x === null || x === undefined || !isFinite(x)) return "—";
    const a = Math.abs(x);
    return a !== 0 && (a < 1e-3 || a >= 1e4) ? x.toExponential(2) : x.toFixed(digits === undefined ? 3 : digits);
  }
  function positive(x) { return x !== null && x !== undefined && isFinite(x) && x > 0 ? x : null; }
  function rgba(hex, alpha) {
    const h = hex.replace("#", "");
    const v = parseInt(h.length === 3 ? h.split("").map((c) => c + c).join("") : h, 16);
    return `rgba(${(v >> 16) & 255},${(v >> 8) & 255},${v & 255},${alpha})`;
  }
  function mix(hexA, hexB, f) {  // a + (b - a) * f, as rgb()
    const p = (hex) => { const v = parseInt(hex.replace("#", ""), 16); return [(v >> 16) & 255, (v >> 8) & 255, v & 255]; };
    const a = p(hexA), b = p(hexB);
    return `rgb(${a.map((x, i) => Math.round(x + (b[i] - x) * f)).join(",")})`;
  }
  function sequential(name) { return [[0, "#ffffff"], [1, colour(name)]]; }
  function diverging(name) { return [[0, colour("--c-negative")], [0.5, "#ffffff"], [1, colour(name)]]; }

  function baseLayout(extra) {
    return Object.assign({
      font: { size: 17, color: "#0b0f19", family: getComputedStyle(document.body).fontFamily },
      margin: { l: 70, r: 20, t: 16, b: 56 },
      paper_bgcolor: "#ffffff", plot_bgcolor: "#ffffff",
      showlegend: false,
    }, extra || {});
  }

  class Bench {
    constructor(root) {
      this.root = root;
      this.cfg = JSON.parse($("#bench-config", root).textContent);
      this.t = this.cfg.i18n;
      this.arch = this.cfg.knobs.arch;
      const v = this.cfg.view;  // from the URL, read by the server
      this.view = { phase: v.phase, fwd: v.step, bwd: v.bstep, layer: v.layer, head: v.head, speed: v.speed };
      this.data = { meta: null, steps: [], back: [], summary: null, done: false, error: null };
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
      $("#export-json", this.root).href = `/api/trace.json?${api}`;
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
      on("forward", (s) => { this.data.steps[s.t] = s; this.schedule(); });
      on("backward", (b) => { this.data.back[b.t] = b; this.schedule(); });
      on("summary", (s) => { this.data.summary = s; this.schedule(); });
      on("done", () => { this.data.done = true; es.close(); this.schedule(); this.maybeCompare(); });
      es.onerror = () => {
        if (this.es !== es || this.data.done) return;
        if (es.readyState === EventSource.CLOSED) this.explainFailure(url);
        // otherwise the browser reconnects by itself and resumes after Last-Event-ID
      };
    }
    async explainFailure(url) {
      // EventSource hides the status of a refused stream: ask once more with fetch to read the message.
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
        for (const d of detail) {
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
      if (!template) return d.msg;
      const limit = ctx.le ?? ctx.ge ?? ctx.gt ?? ctx.lt ?? ctx.min_length ?? ctx.max_length ?? ctx.expected ?? "";
      return fmt(template, { limit, input: d.input ?? "", expected: ctx.expected ?? "" });
    }

    // ---- view state ----
    get T() { return this.data.T || 0; }
    nFwd() { return Math.min(this.view.fwd, this.data.steps.filter(Boolean).length); }
    nBwd() { return Math.min(this.view.bwd, this.data.back.filter(Boolean).length); }
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
      for (const s of $$(".view-select", r)) {
        s.addEventListener("change", () => {
          this.view[s.dataset.view] = parseInt(s.value, 10);
          for (const o of $$(`.view-select[data-view="${s.dataset.view}"]`, r)) o.value = s.value;
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
        if (navigator.clipboard) navigator.clipboard.writeText(location.href).then(done, () => {});
      });
      $("#compare-run", r).addEventListener("click", () => this.runCompare(true));
    }

    destroy() {
      this.pause();
      if (this.es) { this.es.close(); this.es = null; }
      for (const es of (this.compare && this.compare.sources) || []) es.close();
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
      };
      for (const [id, draw] of Object.entries(panels)) if (visible(id)) draw();
      if (this.compare && this.compare.ready) this.plotCompare();
      this.ready = this.data.done;  // every panel drawn from the complete trace
      this.root.dataset.ready = String(this.ready);
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

    overflowSteps() {
      const out = new Set();
      this.data.steps.forEach((s) => { if (s && s.overflow) out.add(s.t); });
      this.data.back.forEach((b) => { if (b && b.overflow) out.add(b.t); });
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

    tokenAxis(extra, div) {
      const width = (div && document.getElementById(div) && document.getElementById(div).clientWidth) || 1200;
      const T = this.T, every = Math.max(1, Math.ceil((T * 34) / Math.max(200, width - 120)));
      const vals = [], text = [];
      for (let t = 0; t < T; t += every) { vals.push(t); text.push(`${t}<br>${showChar(this.data.meta.vocab[this.data.meta.tokens[t]])}`); }
      return Object.assign({ tickvals: vals, ticktext: text, range: [-0.5, T - 0.5], title: { text: "" },
                             zeroline: false, showgrid: false, fixedrange: true }, extra || {});
    }
    tokenYAxis(extra, div) {  // one-line labels, spaced by the plot's height
      const el = div && document.getElementById(div);
      const height = (el && el.clientHeight) || 400;
      const T = this.T, every = Math.max(1, Math.ceil((T * 22) / Math.max(100, height - 120)));
      const vals = [], text = [];
      for (let t = 0; t < T; t += every) { vals.push(t); text.push(`${t} ${showChar(this.data.meta.vocab[this.data.meta.tokens[t]])}`); }
      return Object.assign({ tickvals: vals, ticktext: text, autorange: "reversed", zeroline: false, showgrid: false,
                             fixedrange: true }, extra || {});
    }
    cutShapes(yref) {
      const cuts = this.cuts();
      return cuts.map((s) => ({ type: "line", xref: "x", yref: yref || "paper", x0: s - 0.5, x1: s - 0.5, y0: 0, y1: 1,
                                line: { color: colour("--c-cut"), width: 3, dash: "dash" } }));
    }
    cuts() {
      if (this.data.summary) return this.data.summary.cuts || [];
      return this.data.back.filter((b) => b && b.cut).map((b) => b.t);
    }
    currentShape(yref) {
      const t = this.current();
      if (t < 0) return [];
      return [{ type: "rect", xref: "x", yref: yref || "paper", x0: t - 0.5, x1: t + 0.5, y0: 0, y1: 1,
                line: { color: "#000", width: 3 }, fillcolor: rgba(colour("--c-current"), 0.25), layer: "below" }];
    }
    overflowShapes() {
      return this.overflowSteps().map((t) => ({ type: "rect", xref: "x", yref: "paper", x0: t - 0.5, x1: t + 0.5, y0: 0, y1: 1,
        line: { color: colour("--c-overflow"), width: 2, dash: "dot" }, fillcolor: rgba(colour("--c-overflow"), 0.12) }));
    }
    overflowMarks() {
      return this.overflowSteps().map((t) => ({ x: t, y: 1, xref: "x", yref: "paper", yanchor: "bottom", text: "⚠",
        showarrow: false, font: { size: 20, color: colour("--c-overflow") } }));
    }

    /* The unrolled network: one cell per step; forward arrows carry h, backward arrows the gradient. */
    plotStrip() {
      const T = this.T, meta = this.data.meta, back = this.view.phase === "backward";
      const nf = back ? T : this.nFwd(), nb = back ? this.nBwd() : 0, cur = this.current();
      const shapes = [], ann = [];
      const w = 0.27, showText = T <= 120;
      const over = new Set(this.overflowSteps());
      for (let t = 0; t < T; t++) {
        const on = t < nf;
        shapes.push({ type: "rect", x0: t - w, x1: t + w, y0: 0.15, y1: 0.85, xref: "x", yref: "y",
          line: { color: t === cur ? "#000" : on ? colour("--c-hidden") : "#94a3b8", width: t === cur ? 5 : 2 },
          fillcolor: over.has(t) && on ? rgba(colour("--c-overflow"), 0.35)
            : t === cur ? colour("--c-current") : on ? rgba(colour("--c-hidden"), 0.18) : "#f8fafc" });
        if (showText) {
          ann.push({ x: t, y: 0.5, text: showChar(meta.vocab[meta.tokens[t]]), showarrow: false,
                     font: { size: T > 40 ? 14 : 24, color: on ? colour("--c-input") : "#94a3b8", family: "monospace" } });
          if (T <= 60 || t % 5 === 0) ann.push({ x: t, y: -0.08, text: String(t), showarrow: false, font: { size: 13, color: "#334155" } });
        }
        if (over.has(t) && on) ann.push({ x: t, y: 1.0, text: "⚠", showarrow: false, font: { size: 20, color: colour("--c-overflow") } });
      }
      const cuts = new Set(this.cuts());
      const recurrent = RECURRENT.includes(this.arch);
      if (!recurrent && back) {
        // no chain between positions: the gradient from later losses colours each cell it reaches
        const size = this.data.back.map((b, t) => (b ? b.grad_flow_from.slice(t + 1).reduce((a, x) => a + (x || 0), 0) : 0));
        const top = Math.max(...size.filter((x) => isFinite(x)), 1e-30);
        for (let t = T - nb; t < T; t++) {
          if (t === cur || !(size[t] > 0)) continue;
          shapes[t].fillcolor = mix("#fff7ed", colour("--c-gradient"), Math.min(1, size[t] / top));
        }
      } else if (!recurrent) {
        // positions are not chained: no arrows
      } else if (!back) {
        for (let t = 1; t < nf; t++) {
          ann.push({ x: t - w, y: 0.5, ax: t - 1 + w, ay: 0.5, xref: "x", yref: "y", axref: "x", ayref: "y", text: "",
                     showarrow: true, arrowhead: 2, arrowsize: 1, arrowwidth: 2.5, arrowcolor: colour("--c-hidden") });
        }
      } else {
        // the gradient that reaches h_t through h_{t+1}: sum over later losses u > t of ||dL_u/dh_t||
        const size = [];
        for (let t = 0; t < T - 1; t++) {
          const b = this.data.back[t];
          size[t] = b ? b.grad_flow_from.slice(t + 1).reduce((a, x) => a + (x || 0), 0) : null;
        }
        const logs = size.filter((x) => x > 0).map(Math.log10);
        const lo = Math.min(...logs), hi = Math.max(...logs);
        for (let t = T - 2; t >= T - nb && t >= 0; t--) {
          if (cuts.has(t + 1)) {
            ann.push({ x: t + 0.5, y: 0.5, text: "✂", showarrow: false, font: { size: 26, color: colour("--c-cut") } });
            continue;
          }
          const v = size[t];
          if (!(v > 0)) continue;
          const f = hi > lo ? (Math.log10(v) - lo) / (hi - lo) : 1;
          const width = 1.5 + 10.5 * f;
          ann.push({ x: t + w, y: 0.5, ax: t + 1 - w, ay: 0.5, xref: "x", yref: "y", axref: "x", ayref: "y", text: "",
                     showarrow: true, arrowhead: 2, arrowsize: Math.max(0.45, 2.2 / width), arrowwidth: width,
                     arrowcolor: mix("#fde7d9", colour("--c-gradient"), 0.25 + 0.75 * f),
                     hovertext: `‖·‖ = ${num(v)}` });
        }
      }
      for (const s of cuts) {
        shapes.push({ type: "line", x0: s - 0.5, x1: s - 0.5, y0: 0.02, y1: 0.98, xref: "x", yref: "y",
                      line: { color: colour("--c-cut"), width: 3, dash: "dash" } });
      }
      const layout = baseLayout({
        height: 200, margin: { l: 20, r: 20, t: 10, b: 10 },
        xaxis: { range: [-0.6, T - 0.4], visible: false, fixedrange: true },
        yaxis: { range: [-0.2, 1.12], visible: false, fixedrange: true },
        shapes, annotations: ann,
      });
      // an invisible trace keeps the axes (and hover per cell)
      const trace = { x: [...Array(T).keys()], y: Array(T).fill(0.5), mode: "markers", marker: { opacity: 0 },
                      hovertemplate: "t=%{x}<extra></extra>" };
      Plotly.react("plot-strip", [trace], layout, PLOT_CONFIG);
    }

    layerOf(arr) { return arr ? arr[Math.min(this.view.layer, arr.length - 1)] : null; }

    /* A units x steps heatmap of one per-step vector, columns filled up to the current step. */
    unitsBySteps(get, n) {
      const T = this.T;
      let H = 0;
      for (const s of this.data.steps) { const v = s && get(s); if (v) { H = v.length; break; } }
      const z = Array.from({ length: H }, () => Array(T).fill(null));
      let maxAbs = 0;
      for (let t = 0; t < T; t++) {
        const s = this.data.steps[t], v = s && get(s);
        if (!v) continue;
        for (let j = 0; j < H; j++) {
          const x = v[j];
          if (x !== null && isFinite(x)) maxAbs = Math.max(maxAbs, Math.abs(x));
          if (t < n) z[j][t] = x;
        }
      }
      return { z, H, maxAbs: maxAbs || 1 };
    }

    plotHidden() {
      const n = this.view.phase === "backward" ? this.T : this.nFwd();
      const { z, H, maxAbs } = this.unitsBySteps((s) => this.layerOf(s.h), n);
      const trace = { type: "heatmap", z, colorscale: diverging("--c-hidden"), zmin: -maxAbs, zmax: maxAbs, zmid: 0,
                      hoverongaps: false, xgap: 1, colorbar: { thickness: 14, len: 0.9 },
                      hovertemplate: `t=%{x} · ${this.t.axis_unit} %{y}<br>h=%{z:.3f}<extra></extra>` };
      const layout = baseLayout({
        height: 360, xaxis: this.tokenAxis({}, "plot-hidden"),
        yaxis: { title: { text: this.t.axis_unit }, range: [H - 0.5, -0.5], fixedrange: true, zeroline: false },
        shapes: [...this.currentShape(), ...this.overflowShapes()], annotations: this.overflowMarks(),
        margin: { l: 70, r: 10, t: 24, b: 70 },
      });
      Plotly.react("plot-hidden", [trace], layout, PLOT_CONFIG);
    }

    plotGates() {
      const names = [...(GATES[this.arch] || [])];
      if (this.arch === "lstm") names.push("c");
      const n = this.view.phase === "backward" ? this.T : this.nFwd();
      const k = names.length, gap = 0.04, hRow = (1 - gap * (k - 1)) / k;
      const traces = [], layout = baseLayout({
        height: 120 * k + 90, margin: { l: 50, r: 10, t: 10, b: 70 }, shapes: [], annotations: this.overflowMarks(),
      });
      names.forEach((g, i) => {
        const get = g === "c" ? (s) => this.layerOf(s.c) : (s) => this.layerOf(s.gates && s.gates[g]);
        const { z, H, maxAbs } = this.unitsBySteps(get, n);
        const cname = g === "c" ? "--c-cell" : GATE_COLOUR[g];
        const signed = SIGNED[g];
        const ax = i === 0 ? "" : String(i + 1);
        traces.push({ type: "heatmap", z, xaxis: "x", yaxis: `y${ax}`, showscale: false, hoverongaps: false, xgap: 1,
                      colorscale: signed ? diverging(cname) : sequential(cname),
                      zmin: signed ? -maxAbs : 0, zmax: signed ? maxAbs : 1,
                      hovertemplate: `${g}: t=%{x} · ${this.t.axis_unit} %{y}<br>%{z:.3f}<extra></extra>` });
        const top = 1 - i * (hRow + gap);
        layout[`yaxis${ax}`] = { domain: [top - hRow, top], range: [H - 0.5, -0.5], fixedrange: true, showticklabels: false,
                                 zeroline: false, showgrid: false };
        layout.annotations.push({ xref: "paper", yref: "paper", x: -0.015, y: top - hRow / 2, xanchor: "right", showarrow: false,
                                  text: `<b>${g}</b>`, font: { size: 26, color: colour(cname) } });
        for (const s of this.currentShape(`y${ax} domain`)) layout.shapes.push(s);
      });
      layout.xaxis = this.tokenAxis({ anchor: `y${k === 1 ? "" : k}` }, "plot-gates");
      Plotly.react("plot-gates", traces, layout, PLOT_CONFIG);
    }

    plotProbs() {
      const meta = this.data.meta, t = this.current();
      const s = t >= 0 ? this.data.steps[t] : null;
      const chars = meta.vocab.map(showChar);
      const probs = s ? s.probs : meta.vocab.map(() => 0);
      const target = s && s.target !== null ? meta.vocab.indexOf(s.target) : -1;
      const trace = { type: "bar", x: chars, y: probs, marker: {
        color: chars.map((_, i) => (i === target ? rgba(colour("--c-prob"), 0.95) : rgba(colour("--c-prob"), 0.55))),
        line: { color: chars.map((_, i) => (i === target ? colour("--c-target") : "rgba(0,0,0,0)")), width: chars.map((_, i) => (i === target ? 4 : 0)) },
      }, hovertemplate: "“%{x}” %{y:.3f}<extra></extra>" };
      const ann = [];
      if (target >= 0) {
        ann.push({ x: chars[target], y: probs[target] || 0, yanchor: "bottom", text: `<b>${this.t.target}</b>`, showarrow: true,
                   arrowhead: 2, ay: -34, ax: 0, font: { size: 18, color: colour("--c-target") }, arrowcolor: colour("--c-target") });
      }
      if (s && s.overflow) ann.push({ xref: "paper", yref: "paper", x: 0.5, y: 0.9, showarrow: false, text: `⚠ ${this.t.overflow_mark}`,
                                      font: { size: 22, color: colour("--c-overflow") } });
      const layout = baseLayout({
        height: 340, xaxis: { type: "category", tickfont: { size: 18, family: "monospace" }, fixedrange: true },
        yaxis: { title: { text: this.t.axis_prob }, range: [0, Math.max(0.25, 1.25 * Math.max(...probs.map((p) => p || 0)))],
                 fixedrange: true }, annotations: ann,
      });
      Plotly.react("plot-probs", [trace], layout, PLOT_CONFIG);
    }

    backRevealed() {  // steps the backward pass has reached: T-nb .. T-1
      const T = this.T, nb = this.nBwd();
      const out = [];
      for (let t = T - nb; t < T; t++) if (this.data.back[t]) out.push(t);
      return out;
    }

    plotGradNorm() {
      const T = this.T, reached = new Set(this.backRevealed());
      const x = [...Array(T).keys()];
      const at = (f) => x.map((t) => (reached.has(t) && this.data.back[t] ? positive(f(this.data.back[t])) : null));
      const L = (this.data.back.find(Boolean) || { grad_h: [0] }).grad_h.length;
      const label = this.arch === "transformer" ? this.t.grad_x : this.t.grad_h;
      const traces = [];
      for (let l = 0; l < L; l++) {
        const top = l === L - 1;
        traces.push({ x, y: at((b) => b.grad_h[l]), mode: top ? "lines+markers" : "lines", connectgaps: false,
                      name: L > 1 ? `${label} · ${fmt(this.t.layer_n, { n: l })}` : label,
                      line: { color: colour("--c-gradient"), width: top ? 4 : 2, dash: top ? "solid" : "dot" },
                      marker: { size: 9 }, hovertemplate: "t=%{x} %{y:.3e}<extra></extra>" });
      }
      if (this.arch === "lstm") {
        traces.push({ x, y: at((b) => b.grad_c && b.grad_c[b.grad_c.length - 1]), mode: "lines+markers", name: this.t.grad_c,
                      line: { color: colour("--c-cell"), width: 3 }, marker: { size: 7, symbol: "square" },
                      hovertemplate: "t=%{x} %{y:.3e}<extra></extra>" });
      }
      const anyBound = this.data.back.some((b) => b && b.bound !== null && b.bound !== undefined);
      if (anyBound) {
        traces.push({ x, y: at((b) => b.bound), mode: "lines", name: this.t.pascanu,
                      line: { color: colour("--c-bound"), width: 3, dash: "dash" }, hovertemplate: "bound %{y:.3e}<extra></extra>" });
      }
      const ann = this.overflowMarks();
      if (!anyBound && (this.arch === "lstm" || this.arch === "gru")) {  // said once, in the legend
        traces.push({ x: [null], y: [null], mode: "lines", name: this.t.pascanu_na,
                      line: { color: colour("--c-bound"), width: 3, dash: "dash" }, hoverinfo: "skip" });
      }
      if (!reached.size) ann.push({ xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false, text: wrap(this.t.backward_wait, 34), font: { size: 18 } });
      for (const s of this.cuts()) ann.push({ x: s - 0.5, y: 1, xref: "x", yref: "paper", yanchor: "bottom", showarrow: false,
                                              text: `✂ ${s}`, font: { size: 16, color: colour("--c-cut") } });
      const layout = baseLayout({
        height: 380, showlegend: true, legend: { orientation: "h", y: -0.3, font: { size: 15 } },
        xaxis: this.tokenAxis({}, "plot-grad-norm"),
        yaxis: logAxis(this.data.back.flatMap((b) => (b ? [...b.grad_h, ...(b.grad_c || []), b.bound] : [])),
                       { title: { text: this.t.axis_norm } }),
        shapes: [...this.currentShape(), ...this.cutShapes(), ...this.overflowShapes()], annotations: ann,
        margin: { l: 80, r: 20, t: 30, b: 100 },
      });
      Plotly.react("plot-grad-norm", traces, layout, PLOT_CONFIG);
    }

    plotGradFlow() {
      const T = this.T, reached = new Set(this.backRevealed());
      const z = Array.from({ length: T }, () => Array(T).fill(null));
      let lo = Infinity, hi = -Infinity;
      for (let s = 0; s < T; s++) {
        const b = this.data.back[s];
        if (!b) continue;
        b.grad_flow_from.forEach((v, u) => {
          if (!(v > 0) || !isFinite(v)) return;
          const lv = Math.log10(v);
          lo = Math.min(lo, lv); hi = Math.max(hi, lv);
          if (reached.has(s)) z[u][s] = lv;
        });
      }
      if (!isFinite(lo)) { lo = -8; hi = 0; }
      const ticks = logTicks(lo, hi);
      const trace = { type: "heatmap", z, zmin: lo, zmax: hi, colorscale: sequential("--c-gradient"), hoverongaps: false,
                      colorbar: { tickvals: ticks, ticktext: ticks.map(tickLabel), thickness: 14 },
                      hovertemplate: "L<sub>%{y}</sub> → h<sub>%{x}</sub><br>10^%{z:.2f}<extra></extra>" };
      const layout = baseLayout({
        height: 420, xaxis: this.tokenAxis({ title: { text: this.t.axis_source_step } }, "plot-grad-flow"),
        yaxis: { title: { text: this.t.axis_loss_step }, autorange: "reversed", fixedrange: true },
        shapes: [...this.cutShapes()], margin: { l: 80, r: 10, t: 16, b: 90 },
      });
      Plotly.react("plot-grad-flow", [trace], layout, PLOT_CONFIG);
    }

    plotJacobian() {
      const T = this.T, reached = new Set(this.backRevealed()), x = [...Array(T).keys()];
      const y = x.map((t) => (reached.has(t) && this.data.back[t] ? positive(this.data.back[t].jacobian_norm) : null));
      const traces = [
        { type: "bar", x, y, name: "‖J‖", marker: { color: colour("--c-jacobian") }, hovertemplate: "t=%{x} %{y:.3f}<extra></extra>" },
        { x: [-0.5, T - 0.5], y: [1, 1], mode: "lines", name: "1", line: { color: colour("--c-bound"), width: 3, dash: "dash" },
          hoverinfo: "skip" },
      ];
      const layout = baseLayout({
        height: 340, xaxis: this.tokenAxis({}, "plot-jacobian"),
        yaxis: logAxis([1, ...this.data.back.map((b) => b && b.jacobian_norm)], { title: { text: this.t.axis_norm } }),
        shapes: [...this.currentShape(), ...this.cutShapes(), ...this.overflowShapes()],
        annotations: [{ x: T - 0.5, y: 0, yref: "y", xanchor: "right", yanchor: "bottom", text: "‖J‖ = 1", showarrow: false,
                        font: { size: 16, color: colour("--c-bound") } }],
      });
      Plotly.react("plot-jacobian", traces, layout, PLOT_CONFIG);
    }

    plotClip() {
      const sm = this.data.summary, complete = this.nBwd() >= this.T && sm;
      const traces = [], ann = [], shapes = [];
      if (complete) {
        const names = [this.t.total, ...Object.keys(sm.param_grad_norm)];
        const before = [sm.grad_norm_before_clip, ...Object.values(sm.param_grad_norm).map((v) => v[0])].map(positive);
        const after = [sm.grad_norm_after_clip, ...Object.values(sm.param_grad_norm).map((v) => v[1])].map(positive);
        traces.push({ type: "bar", x: names, y: before, name: this.t.before_clip, marker: { color: colour("--c-gradient") },
                      hovertemplate: "%{x}: %{y:.3e}<extra></extra>" });
        traces.push({ type: "bar", x: names, y: after, name: this.t.after_clip, marker: { color: colour("--c-clipped"),
                      line: { color: "#334155", width: 1 } }, hovertemplate: "%{x}: %{y:.3e}<extra></extra>" });
        if (![...before, ...after].some((v) => v !== null)) {
          ann.push({ xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false, text: `⚠ ${this.t.overflow_mark} (inf/NaN)`,
                     font: { size: 22, color: colour("--c-overflow") } });
        }
        if (sm.clip_mode && sm.clip_threshold) {
          shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, y0: sm.clip_threshold, y1: sm.clip_threshold,
                        line: { color: colour("--c-bound"), width: 3, dash: "dash" } });
          ann.push({ xref: "paper", x: 1, y: Math.log10(sm.clip_threshold), xanchor: "right", yanchor: "bottom", showarrow: false,
                     text: `${this.t.threshold} ${sm.clip_threshold} (${sm.clip_mode})`, font: { size: 15, color: colour("--c-bound") } });
        }
      } else {
        ann.push({ xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false, text: wrap(this.t.clip_wait, 34), font: { size: 17 } });
      }
      const layout = baseLayout({
        height: 380, barmode: "group", showlegend: !!complete, legend: { orientation: "h", y: 1.12 },
        xaxis: { type: "category", tickangle: -30, tickfont: { size: 13 }, fixedrange: true, visible: !!complete },
        yaxis: logAxis(traces.flatMap((d) => d.y).concat(sm && sm.clip_mode ? [sm.clip_threshold] : []),
                       { title: { text: this.t.axis_norm }, visible: !!complete }),
        shapes, annotations: ann, margin: { l: 80, r: 10, t: 40, b: 110 },
      });
      Plotly.react("plot-clip", traces, layout, PLOT_CONFIG);
    }

    plotAttention() {
      const T = this.T, n = this.view.phase === "backward" ? T : this.nFwd();
      const z = Array.from({ length: T }, () => Array(T).fill(null));
      for (let t = 0; t < n; t++) {
        const s = this.data.steps[t];
        const layer = s && s.attention && s.attention[Math.min(this.view.layer, s.attention.length - 1)];
        const row = layer && layer[Math.min(this.view.head, layer.length - 1)];
        if (!row) continue;
        for (let j = 0; j <= t && j < row.length; j++) z[t][j] = row[j];
      }
      const cur = this.current();
      const trace = { type: "heatmap", z, zmin: 0, zmax: 1, colorscale: sequential("--c-attention"), hoverongaps: false,
                      xgap: 1, ygap: 1, colorbar: { thickness: 14 },
                      hovertemplate: `${this.t.axis_query} %{y} → ${this.t.axis_key} %{x}<br>%{z:.3f}<extra></extra>` };
      const shapes = cur >= 0 ? [{ type: "rect", xref: "paper", yref: "y", x0: 0, x1: 1, y0: cur - 0.5, y1: cur + 0.5,
                                   line: { color: "#000", width: 3 } }] : [];
      const layout = baseLayout({
        height: 460, xaxis: this.tokenAxis({ title: { text: this.t.axis_key } }, "plot-attention"),
        yaxis: this.tokenYAxis({ title: { text: this.t.axis_query } }, "plot-attention"),
        shapes, margin: { l: 80, r: 10, t: 16, b: 90 },
      });
      Plotly.react("plot-attention", [trace], layout, PLOT_CONFIG);
    }

    plotPositional() {
      const T = this.T, rows = [];
      for (let t = 0; t < T; t++) { const s = this.data.steps[t]; rows.push(s && s.positional ? s.positional : null); }
      const D = (rows.find(Boolean) || []).length;
      const z = Array.from({ length: D }, (_, d) => rows.map((r) => (r ? r[d] : null)));
      let maxAbs = 0;
      for (const r of rows) if (r) for (const v of r) if (v !== null && isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
      const trace = { type: "heatmap", z, colorscale: diverging("--c-position"), zmid: 0, zmin: -(maxAbs || 1), zmax: maxAbs || 1,
                      hoverongaps: false, colorbar: { thickness: 14 },
                      hovertemplate: `${this.t.axis_position} %{x} · ${this.t.axis_dim} %{y}<br>%{z:.3f}<extra></extra>` };
      const layout = baseLayout({
        height: 380, xaxis: this.tokenAxis({ title: { text: this.t.axis_position } }, "plot-positional"),
        yaxis: { title: { text: this.t.axis_dim }, autorange: "reversed", fixedrange: true },
        shapes: this.currentShape(), margin: { l: 70, r: 10, t: 16, b: 90 },
      });
      Plotly.react("plot-positional", [trace], layout, PLOT_CONFIG);
    }

    // ---- the compare strip: the same text through every architecture ----
    maybeCompare() {
      const panel = $("#panel-compare", this.root);
      if (!panel || this.compare) return;
      if (!("IntersectionObserver" in window)) { this.runCompare(false); return; }
      const io = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) { io.disconnect(); this.runCompare(false); }
      });
      io.observe(panel);
      this.observer = io;
    }
    runCompare(force) {
      if (this.compare && !force) return;
      if (this.compare) for (const es of this.compare.sources) es.close();
      const state = { curves: {}, failed: {}, sources: [], ready: false };
      this.compare = state;
      const base = this.apiQuery();
      if (window.Plotly) Plotly.react("plot-compare", [], baseLayout({ height: 380, annotations: [{ xref: "paper", yref: "paper", x: 0.5, y: 0.5,
        showarrow: false, text: this.t.compare_loading, font: { size: 18 } }], xaxis: { visible: false }, yaxis: { visible: false } }), PLOT_CONFIG);
      fetch("/api/architectures").then((r) => r.json()).then((spec) => {
        const available = new Set(spec.architectures.filter((a) => a.available).map((a) => a.arch));
        for (const arch of ARCHS) if (!available.has(arch)) state.failed[arch] = true;
        this.streamCompare(state, base, ARCHS.filter((a) => available.has(a)));
      }, () => this.streamCompare(state, base, ARCHS));
    }
    streamCompare(state, base, archs) {
      if (this.compare !== state) return;
      let left = archs.length;
      const finish = () => { left -= 1; if (left === 0) { state.ready = true; this.plotCompare(); } };
      if (!left) { state.ready = true; this.plotCompare(); }
      for (const arch of archs) {
        const q = new URLSearchParams(base);
        q.set("arch", arch);
        const es = new EventSource(`${this.cfg.api.stream}?${q}`);
        state.sources.push(es);
        let settled = false;
        es.addEventListener("summary", (e) => {
          settled = true;
          state.curves[arch] = gradientVsDistance(JSON.parse(e.data).grad_flow);
          es.close(); finish();
        });
        es.onerror = () => {
          if (settled || es.readyState !== EventSource.CLOSED) return;
          settled = true; state.failed[arch] = true; finish();
        };
      }
    }
    plotCompare() {
      if (!window.Plotly) return;
      const state = this.compare, traces = [];
      const dash = { rnn: "solid", lstm: "dash", gru: "dot", transformer: "dashdot" };
      const symbol = { rnn: "circle", lstm: "square", gru: "diamond", transformer: "triangle-up" };
      for (const arch of ARCHS) {
        const name = this.t[`choice_arch_${arch}`] || arch;
        if (state.failed[arch] || !state.curves[arch]) {
          traces.push({ x: [null], y: [null], mode: "lines", name: `${name} (${this.t.compare_unavailable})`,
                        line: { color: colour(`--c-arch-${arch}`), dash: dash[arch] } });
          continue;
        }
        const c = state.curves[arch];
        traces.push({ x: c.x, y: c.y, mode: "lines+markers", name, line: { color: colour(`--c-arch-${arch}`), width: arch === this.arch ? 5 : 3, dash: dash[arch] },
                      marker: { size: 8, symbol: symbol[arch] }, hovertemplate: `${name} d=%{x}: %{y:.3e}<extra></extra>` });
      }
      const layout = baseLayout({
        height: 380, showlegend: true, legend: { orientation: "h", y: 1.14, font: { size: 17 } },
        xaxis: { title: { text: this.t.axis_distance }, fixedrange: true, zeroline: false },
        yaxis: logAxis(traces.flatMap((d) => d.y), { title: { text: this.t.axis_norm } }),
        margin: { l: 80, r: 20, t: 50, b: 60 },
      });
      Plotly.react("plot-compare", traces, layout, PLOT_CONFIG);
    }
  }

  /* About five colour-bar ticks over log10 values lo..hi: whole decades when the range is wide. */
  function logTicks(lo, hi) {
    if (hi - lo >= 4) {
      const step = Math.ceil((hi - lo) / 5), out = [];
      for (let k = Math.ceil(lo); k <= hi; k += step) out.push(k);
      return out;
    }
    return Array.from({ length: 5 }, (_, i) => lo + ((hi - lo) * i) / 4);
  }

  /* A log axis whose ticks are readable from the back of a room: about five labelled values. */
  function logAxis(values, extra) {
    const logs = values.filter((v) => v > 0 && isFinite(v)).map(Math.log10);
    const axis = Object.assign({ type: "log", fixedrange: true }, extra || {});
    if (!logs.length) return axis;
    let lo = Math.min(...logs), hi = Math.max(...logs);
    if (hi - lo < 0.3) { lo -= 0.15; hi += 0.15; }
    const ticks = logTicks(lo, hi);
    axis.tickvals = ticks.map((k) => 10 ** k);
    axis.ticktext = ticks.map(tickLabel);
    axis.range = [lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo)];
    return axis;
  }

  function tickLabel(log10v) {
    const v = 10 ** log10v;
    if (Number.isInteger(log10v)) return `10<sup>${log10v}</sup>`;
    return v >= 0.01 && v < 1e4 ? v.toPrecision(2) : v.toExponential(1);
  }

  /* Break a sentence into lines of about `width` characters (Plotly annotations do not wrap). */
  function wrap(text, width) {
    const lines = [];
    let line = "";
    for (const word of String(text).split(" ")) {
      if (line && (line + " " + word).length > width) { lines.push(line); line = word; } else line = line ? `${line} ${word}` : word;
    }
    if (line) lines.push(line);
    return lines.join("<br>");
  }

  /* Mean ||dL_t/dh_s|| over every pair at distance d = t - s (rows without a loss, all zero, left out). */
  function gradientVsDistance(G) {
    const T = G.length, sum = Array(T).fill(0), count = Array(T).fill(0);
    for (let t = 0; t < T; t++) {
      const row = G[t];
      if (!row || !(row[t] > 0)) continue;  // no loss at t (the last step)
      for (let s = 0; s <= t; s++) {
        const v = row[s];
        if (v === null || !isFinite(v)) continue;
        sum[t - s] += v; count[t - s] += 1;
      }
    }
    const x = [], y = [];
    for (let d = 0; d < T; d++) if (count[d]) { x.push(d); y.push(positive(sum[d] / count[d])); }
    return { x, y };
  }

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
  document.addEventListener("keydown", (e) => {
    if (!bench || e.ctrlKey || e.metaKey || e.altKey || editable(e.target)) return;
    const keys = {
      ArrowRight: () => { bench.pause(); bench.stepBy(1); },
      ArrowLeft: () => { bench.pause(); bench.stepBy(-1); },
      " ": () => bench.togglePlay(),
      b: () => bench.togglePhase(),
      B: () => bench.togglePhase(),
      Home: () => bench.reset(),
      End: () => bench.toEnd(),
    };
    const fn = keys[e.key];
    if (!fn) return;
    e.preventDefault();
    if (!e.repeat || e.key.startsWith("Arrow")) fn();
  });
  // a focused button would also "click" on the space key's release: the key means play/pause here
  document.addEventListener("keyup", (e) => { if (e.key === " " && !editable(e.target)) e.preventDefault(); });

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
