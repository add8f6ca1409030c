/* The bench's Plotly panels: one method per panel, each turning the received trace and the view
   state into a figure with Plotly.react. Mixed into the Bench class of bench.js. Colours come from
   the CSS variables in concepts.css, words from the page's i18n data. */
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

  const methods = {
    tokenAxis(extra, div) {
      const width = (div && document.getElementById(div) && document.getElementById(div).clientWidth) || 1200;
      const T = this.T, every = Math.max(1, Math.ceil((T * 34) / Math.max(200, width - 120)));
      const vals = [], text = [];
      for (let t = 0; t < T; t += every) { vals.push(t); text.push(`${t}<br>${showChar(this.data.meta.vocab[this.data.meta.tokens[t]])}`); }
      return Object.assign({ tickvals: vals, ticktext: text, range: [-0.5, T - 0.5], title: { text: "" },
                             zeroline: false, showgrid: false, fixedrange: true }, extra || {});
    },
    tokenYAxis(extra, div) {  // one-line labels, spaced by the plot's height
      const el = div && document.getElementById(div);
      const height = (el && el.clientHeight) || 400;
      const T = this.T, every = Math.max(1, Math.ceil((T * 22) / Math.max(100, height - 120)));
      const vals = [], text = [];
      for (let t = 0; t < T; t += every) { vals.push(t); text.push(`${t} ${showChar(this.data.meta.vocab[this.data.meta.tokens[t]])}`); }
      return Object.assign({ tickvals: vals, ticktext: text, autorange: "reversed", zeroline: false, showgrid: false,
                             fixedrange: true }, extra || {});
    },
    cutShapes(yref) {
      const cuts = this.cuts();
      return cuts.map((s) => ({ type: "line", xref: "x", yref: yref || "paper", x0: s - 0.5, x1: s - 0.5, y0: 0, y1: 1,
                                line: { color: colour("--c-cut"), width: 3, dash: "dash" } }));
    },
    cuts() {
      if (this.data.summary) return this.data.summary.cuts || [];
      return this.data.back.filter((b) => b && b.cut).map((b) => b.t);
    },
    currentShape(yref) {
      const t = this.current();
      if (t < 0) return [];
      return [{ type: "rect", xref: "x", yref: yref || "paper", x0: t - 0.5, x1: t + 0.5, y0: 0, y1: 1,
                line: { color: "#000", width: 3 }, fillcolor: rgba(colour("--c-current"), 0.25), layer: "below" }];
    },
    /* The shapes that follow the current step on the heatmaps: moving them needs no redraw of the data. */
    cursorShapes(id) {
      const cur = this.current();
      if (id === "hidden") return [...this.currentShape(), ...this.overflowShapes("forward")];
      if (id === "positional") return this.currentShape();
      if (id === "attention") {
        return cur < 0 ? [] : [{ type: "rect", xref: "paper", yref: "y", x0: 0, x1: 1, y0: cur - 0.5, y1: cur + 0.5,
                                 line: { color: "#000", width: 3 } }];
      }
      if (id === "gates") {
        const k = (GATES[this.arch] || []).length + (this.arch === "lstm" ? 1 : 0);
        const out = [];
        for (let i = 0; i < k; i++) out.push(...this.currentShape(`y${i === 0 ? "" : i + 1} domain`));
        return out;
      }
      return [];
    },

    moveCursor(id) {
      Plotly.relayout(`plot-${id}`, { shapes: this.cursorShapes(id) });
    },

    overflowShapes(kind) {
      return this.overflowSteps(kind).map((t) => ({ type: "rect", xref: "x", yref: "paper", x0: t - 0.5, x1: t + 0.5, y0: 0, y1: 1,
        line: { color: colour("--c-overflow"), width: 2, dash: "dot" }, fillcolor: rgba(colour("--c-overflow"), 0.12) }));
    },
    overflowMarks(kind) {
      return this.overflowSteps(kind).map((t) => ({ x: t, y: 1, xref: "x", yref: "paper", yanchor: "bottom", text: "⚠",
        showarrow: false, font: { size: 20, color: colour("--c-overflow") } }));
    },

    /* The unrolled network: one cell per step; forward arrows carry h, backward arrows the gradient. */
    /* The unrolled network: one cell per step; forward arrows carry h, backward arrows the gradient.
       Worked out once as cells and arrows, then drawn as shapes and annotations (short texts, the
       usual lesson) or as marker traces (long texts, where hundreds of annotations would be slow). */
    plotStrip() {
      const T = this.T, meta = this.data.meta, back = this.view.phase === "backward";
      const nf = back ? T : this.nFwd(), nb = back ? this.nBwd() : 0, cur = this.current();
      const over = new Set(this.overflowSteps(back ? "all" : "forward")), cuts = new Set(this.cuts());
      const recurrent = RECURRENT.includes(this.arch);
      const cells = [];
      for (let t = 0; t < T; t++) {
        const on = t < nf;
        cells.push({ t, on, label: showChar(meta.vocab[meta.tokens[t]]), warn: over.has(t) && on,
          line: t === cur ? "#000" : on ? colour("--c-hidden") : "#94a3b8", lineWidth: t === cur ? 5 : 2,
          fill: over.has(t) && on ? rgba(colour("--c-overflow"), 0.35)
            : t === cur ? colour("--c-current") : on ? rgba(colour("--c-hidden"), 0.18) : "#f8fafc" });
      }
      const arrows = [], scissors = [];  // arrow: from, to, f in [0, 1] (size), hover
      // the gradient that reaches step t from later losses u > t: sum of ||dL_u/dh_t||
      const later = (t) => { const b = this.data.back[t]; return b ? b.grad_flow_from.slice(t + 1).reduce((a, x) => a + (x || 0), 0) : null; };
      if (!recurrent && back) {  // no chain between positions: the gradient colours each cell it reaches
        const size = cells.map((c) => later(c.t) || 0), top = Math.max(...size.filter(isFinite), 1e-30);
        for (let t = T - nb; t < T; t++) {
          if (t !== cur && size[t] > 0) cells[t].fill = mix("#fff7ed", colour("--c-gradient"), Math.min(1, size[t] / top));
        }
      } else if (recurrent && !back) {
        for (let t = 1; t < nf; t++) arrows.push({ from: t - 1, to: t, f: null });
      } else if (recurrent) {
        const size = [];
        for (let t = 0; t < T - 1; t++) size[t] = later(t);
        const logs = size.filter((x) => x > 0 && isFinite(x)).map(Math.log10);
        const lo = Math.min(...logs), hi = Math.max(...logs);
        for (let t = T - 2; t >= T - nb && t >= 0; t--) {
          if (cuts.has(t + 1)) { scissors.push(t + 0.5); continue; }
          const v = size[t];
          if (!(v > 0)) continue;
          arrows.push({ from: t + 1, to: t, f: isFinite(v) && hi > lo ? (Math.log10(v) - lo) / (hi - lo) : 1, hover: `‖·‖ = ${num(v)}` });
        }
      }
      const arrowColour = (a) => (a.f === null ? colour("--c-hidden") : mix("#fde7d9", colour("--c-gradient"), 0.25 + 0.75 * a.f));
      const cutLines = [...cuts].map((s) => ({ type: "line", x0: s - 0.5, x1: s - 0.5, y0: 0.02, y1: 0.98, xref: "x", yref: "y",
                                               line: { color: colour("--c-cut"), width: 3, dash: "dash" } }));
      const layout = baseLayout({
        height: 200, margin: { l: 20, r: 20, t: 10, b: 10 },
        xaxis: { range: [-0.6, T - 0.4], visible: false, fixedrange: true },
        yaxis: { range: [-0.2, 1.12], visible: false, fixedrange: true },
      });
      const hover = { x: cells.map((c) => c.t), y: cells.map(() => 0.5), mode: "markers", marker: { opacity: 0 },
                      hovertemplate: "t=%{x}<extra></extra>" };
      if (T <= 24) {
        const w = 0.27, ann = [];
        layout.shapes = cells.map((c) => ({ type: "rect", x0: c.t - w, x1: c.t + w, y0: 0.15, y1: 0.85, xref: "x", yref: "y",
                                            line: { color: c.line, width: c.lineWidth }, fillcolor: c.fill })).concat(cutLines);
        for (const c of cells) {
          ann.push({ x: c.t, y: 0.5, text: c.label, showarrow: false,
                     font: { size: 24, color: c.on ? colour("--c-input") : "#94a3b8", family: "monospace" } });
          ann.push({ x: c.t, y: -0.08, text: String(c.t), showarrow: false, font: { size: 13, color: "#334155" } });
          if (c.warn) ann.push({ x: c.t, y: 1.0, text: "⚠", showarrow: false, font: { size: 20, color: colour("--c-overflow") } });
        }
        for (const a of arrows) {
          const dir = a.to > a.from ? 1 : -1, width = a.f === null ? 2.5 : 1.5 + 10.5 * a.f;
          ann.push({ x: a.to - dir * w, y: 0.5, ax: a.from + dir * w, ay: 0.5, xref: "x", yref: "y", axref: "x", ayref: "y",
                     text: "", showarrow: true, arrowhead: 2, arrowwidth: width, arrowsize: a.f === null ? 1 : Math.max(0.45, 2.2 / width),
                     arrowcolor: arrowColour(a), hovertext: a.hover });
        }
        for (const x of scissors) ann.push({ x, y: 0.5, text: "✂", showarrow: false, font: { size: 26, color: colour("--c-cut") } });
        layout.annotations = ann;
        Plotly.react("plot-strip", [hover], layout, PLOT_CONFIG);
        return;
      }
      // long texts: every cell, arrow and mark is one point of a few traces
      const el = document.getElementById("plot-strip");
      const step = (((el && el.clientWidth) || 1200) - 40) / T;  // pixels per step
      const px = Math.max(3, Math.min(40, 0.58 * step)), gap = step - px;  // a cell, and the room between cells
      layout.shapes = cutLines;
      const traces = [
        { x: cells.map((c) => c.t), y: cells.map(() => 0.5), mode: T <= 120 ? "markers+text" : "markers",
          text: cells.map((c) => c.label), textfont: { size: px > 18 ? 16 : 11, family: "monospace" }, hoverinfo: "skip",
          marker: { symbol: "square", size: px, color: cells.map((c) => c.fill),
                    line: { color: cells.map((c) => c.line), width: cells.map((c) => Math.min(c.lineWidth, 3)) } } },
        { x: arrows.map((a) => (a.from + a.to) / 2), y: arrows.map(() => 0.5), mode: "markers", hoverinfo: "text",
          text: arrows.map((a) => a.hover || ""),
          marker: { symbol: arrows.map((a) => (a.to > a.from ? "triangle-right" : "triangle-left")),
                    size: arrows.map((a) => Math.max(4, gap * (a.f === null ? 0.7 : 0.45 + 0.9 * a.f))),
                    color: arrows.map(arrowColour) } },
        { x: scissors, y: scissors.map(() => 0.5), mode: "text", text: scissors.map(() => "✂"),
          textfont: { size: 16, color: colour("--c-cut") }, hoverinfo: "skip" },
        { x: cells.filter((c) => c.warn).map((c) => c.t), y: cells.filter((c) => c.warn).map(() => 0.95), mode: "text",
          text: cells.filter((c) => c.warn).map(() => "⚠"), textfont: { size: 14, color: colour("--c-overflow") }, hoverinfo: "skip" },
        hover,
      ];
      const every = Math.max(1, Math.ceil(T / 30));
      const ticks = cells.filter((c) => c.t % every === 0);
      traces.push({ x: ticks.map((c) => c.t), y: ticks.map(() => 0.05), mode: "text", text: ticks.map((c) => String(c.t)),
                    textfont: { size: 13, color: "#334155" }, hoverinfo: "skip" });
      Plotly.react("plot-strip", traces, layout, PLOT_CONFIG);
    },

    layerOf(arr) { return arr ? arr[Math.min(this.view.layer, arr.length - 1)] : null; },

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
    },

    plotHidden() {
      const n = this.view.phase === "backward" ? this.T : this.nFwd();
      const { z, H, maxAbs } = this.unitsBySteps((s) => this.layerOf(s.h), n);
      const trace = { type: "heatmap", z, colorscale: diverging("--c-hidden"), zmin: -maxAbs, zmax: maxAbs, zmid: 0,
                      hoverongaps: false, xgap: 1, colorbar: { thickness: 14, len: 0.9 },
                      hovertemplate: `t=%{x} · ${this.t.axis_unit} %{y}<br>h=%{z:.3f}<extra></extra>` };
      const layout = baseLayout({
        height: 360, xaxis: this.tokenAxis({}, "plot-hidden"),
        yaxis: { title: { text: this.t.axis_unit }, range: [H - 0.5, -0.5], fixedrange: true, zeroline: false },
        shapes: this.cursorShapes("hidden"), annotations: this.overflowMarks("forward"),
        margin: { l: 70, r: 10, t: 24, b: 70 },
      });
      Plotly.react("plot-hidden", [trace], layout, PLOT_CONFIG);
    },

    plotGates() {
      const names = [...(GATES[this.arch] || [])];
      if (this.arch === "lstm") names.push("c");
      const n = this.view.phase === "backward" ? this.T : this.nFwd();
      const k = names.length, gap = 0.04, hRow = (1 - gap * (k - 1)) / k;
      const traces = [], layout = baseLayout({
        height: 120 * k + 90, margin: { l: 50, r: 10, t: 10, b: 70 }, shapes: this.cursorShapes("gates"),
        annotations: this.overflowMarks("forward"),
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
      });
      layout.xaxis = this.tokenAxis({ anchor: `y${k === 1 ? "" : k}` }, "plot-gates");
      Plotly.react("plot-gates", traces, layout, PLOT_CONFIG);
    },

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
    },

    backRevealed() {  // steps the backward pass has reached: T-nb .. T-1
      const T = this.T, nb = this.nBwd();
      const out = [];
      for (let t = T - nb; t < T; t++) if (this.data.back[t]) out.push(t);
      return out;
    },

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
      const ann = this.overflowMarks("backward");
      if (!anyBound && (this.arch === "lstm" || this.arch === "gru")) {  // said once, in the legend
        traces.push({ x: [null], y: [null], mode: "lines", name: this.t.pascanu_na,
                      line: { color: colour("--c-bound"), width: 3, dash: "dash" }, hoverinfo: "skip" });
      }
      if (!reached.size) ann.push({ xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false, text: wrap(this.t.backward_wait, 34), font: { size: 18 } });
      const tvf = this.data.summary && this.data.summary.truncated_vs_full, note = document.getElementById("note-grad-norm");
      if (note) {
        note.hidden = !(tvf && tvf.cosine !== null);
        if (!note.hidden) {
          const deg = (Math.acos(Math.max(-1, Math.min(1, tvf.cosine))) * 180) / Math.PI;
          note.textContent = fmt(this.t.truncated_vs_full, { cos: num(tvf.cosine), deg: deg.toFixed(1), ratio: num(tvf.norm_ratio) });
        }
      }
      for (const s of this.cuts()) ann.push({ x: s - 0.5, y: 1, xref: "x", yref: "paper", yanchor: "bottom", showarrow: false,
                                              text: `✂ ${s}`, font: { size: 16, color: colour("--c-cut") } });
      const layout = baseLayout({
        height: 380, showlegend: true, legend: { orientation: "h", y: -0.3, font: { size: 15 } },
        xaxis: this.tokenAxis({}, "plot-grad-norm"),
        yaxis: logAxis(this.data.back.flatMap((b) => (b ? [...b.grad_h, ...(b.grad_c || []), b.bound] : [])),
                       { title: { text: this.t.axis_norm } }),
        shapes: [...this.currentShape(), ...this.cutShapes(), ...this.overflowShapes("backward")], annotations: ann,
        margin: { l: 80, r: 20, t: 30, b: 100 },
      });
      Plotly.react("plot-grad-norm", traces, layout, PLOT_CONFIG);
    },

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
    },

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
        shapes: [...this.currentShape(), ...this.cutShapes(), ...this.overflowShapes("backward")],
        annotations: [{ x: T - 0.5, y: 0, yref: "y", xanchor: "right", yanchor: "bottom", text: "‖J‖ = 1", showarrow: false,
                        font: { size: 16, color: colour("--c-bound") } }],
      });
      Plotly.react("plot-jacobian", traces, layout, PLOT_CONFIG);
    },

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
    },

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
      const trace = { type: "heatmap", z, zmin: 0, zmax: 1, colorscale: sequential("--c-attention"), hoverongaps: false,
                      xgap: 1, ygap: 1, colorbar: { thickness: 14 },
                      hovertemplate: `${this.t.axis_query} %{y} → ${this.t.axis_key} %{x}<br>%{z:.3f}<extra></extra>` };
      const layout = baseLayout({
        height: 460, xaxis: this.tokenAxis({ title: { text: this.t.axis_key } }, "plot-attention"),
        yaxis: this.tokenYAxis({ title: { text: this.t.axis_query } }, "plot-attention"),
        shapes: this.cursorShapes("attention"), margin: { l: 80, r: 10, t: 16, b: 90 },
      });
      Plotly.react("plot-attention", [trace], layout, PLOT_CONFIG);
    },

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
        shapes: this.cursorShapes("positional"), margin: { l: 70, r: 10, t: 16, b: 90 },
      });
      Plotly.react("plot-positional", [trace], layout, PLOT_CONFIG);
    },

    plotCompareLoading() {
      if (!window.Plotly) return;
      Plotly.react("plot-compare", [], baseLayout({
        height: 380, xaxis: { visible: false }, yaxis: { visible: false },
        annotations: [{ xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false, text: this.t.compare_loading,
                        font: { size: 18 } }],
      }), PLOT_CONFIG);
    },

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
      const rnn = state.curves.rnn, eta = state.eta && state.eta.rnn;
      if (rnn && eta > 0) {  // each step back multiplies by at most eta = gamma * sigma_max(W_hh)
        traces.push({ x: rnn.x, y: rnn.x.map((d, i) => positive(rnn.local[i] * eta ** d)), mode: "lines", name: this.t.theory_line,
                      line: { color: colour("--c-bound"), width: 3, dash: "dash" }, hoverinfo: "skip" });
      }
      const layout = baseLayout({
        height: 380, showlegend: true, legend: { orientation: "h", y: 1.14, font: { size: 17 } },
        xaxis: { title: { text: this.t.axis_distance }, fixedrange: true, zeroline: false },
        yaxis: logAxis(traces.filter((d) => d.mode !== "lines").flatMap((d) => d.y), { title: { text: this.t.axis_norm } }),
        margin: { l: 80, r: 20, t: 50, b: 60 },
      });
      Plotly.react("plot-compare", traces, layout, PLOT_CONFIG);
    },

  };

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
    const T = G.length, sum = Array(T).fill(0), diag = Array(T).fill(0), count = Array(T).fill(0);
    for (let t = 0; t < T; t++) {
      const row = G[t];
      if (!row || !(row[t] > 0)) continue;  // no loss at t (the last step)
      for (let s = 0; s <= t; s++) {
        const v = row[s];
        if (v === null || !isFinite(v)) continue;
        sum[t - s] += v; diag[t - s] += row[t]; count[t - s] += 1;
      }
    }
    // y[d]: the mean gradient at distance d; local[d]: the mean ||dL_t/dh_t|| over the same losses
    const x = [], y = [], local = [];
    for (let d = 0; d < T; d++) {
      if (count[d]) { x.push(d); y.push(positive(sum[d] / count[d])); local.push(diag[d] / count[d]); }
    }
    return { x, y, local };
  }


  window.UnrolledPanels = {
    methods,
    util: { $, $$, RECURRENT, ARCHS, fmt, showChar, num, gradientVsDistance },
  };
})();
