/* A figure: one panel module drawn from one source through one view store.

   const fig = mountFigure(el, { source, view, panel, strings, theme, ...opts })
     el          the plot's element (Plotly draws into it; a panel that returns { html } fills it)
     source      a TraceSource (or anything with .trace and .subscribe(fn, reads))
     view        a ViewStore
     panel       a panel module (static/js/panels/<id>.js)
     strings     the page's i18n table; theme: core/theme.js's theme
     opts.describeEl  where panel.describe() goes (default: a new <p class="figure-describe" aria-live="polite">
                      right after el); opts.noteEl: where a figure's `note` goes (default: created when needed)
     opts.isVisible   () => bool (default: el is laid out); hidden figures are drawn when shown (fig.schedule())
     opts.filename    export name without extension (default "unrolled-<panel id>")
     opts.config      Plotly config; opts.Plotly (default window.Plotly, which may arrive later: the
                      "plotly:ready" document event draws every waiting figure)
     opts.onRender    called after each draw
     opts.lazyParams  a panel that reads "params" asks for them only while el is near the screen (an
                      IntersectionObserver, half a screen ahead); until then it draws its "loading" state
                      and counts as ready: ready means what the reader can see is drawn
   fig.schedule()  redraw on the next animation frame if the inputs changed; fig.render(force)
   fig.exportImage("png" | "svg"), fig.setSource(source), fig.destroy()
   fig.pending     a frame is scheduled; fig.ready: drawn from a complete trace (and its weights, if
                   the panel reads "params": the figure asks the source for them when first shown)

   The figure redraws only when its inputs change: panel.key(trace, view) (default: the trace's version
   and the whole view). When only panel.cursorKey(trace, view) changes, it moves the shapes and
   annotations (Plotly.relayout) instead of redrawing the data. panel.click(point, trace, view) may
   return a view patch (the grad-flow matrix sets view.loss this way).
*/

const PLOT_CONFIG = Object.freeze({ displayModeBar: false, responsive: true });
const mounted = new Set();

if (typeof document !== "undefined") {
  document.addEventListener("plotly:ready", () => { for (const f of mounted) f.schedule(true); });
}

const raf = (fn) => (typeof requestAnimationFrame === "function" ? requestAnimationFrame(fn) : setTimeout(fn, 16));
const caf = (id) => (typeof cancelAnimationFrame === "function" ? cancelAnimationFrame(id) : clearTimeout(id));

function defaultKey(trace, view) {
  return `${trace.version}|${JSON.stringify(view)}`;
}

export function mountFigure(el, opts) {
  const { panel, strings, theme } = opts;
  let source = opts.source;
  const view = opts.view;
  const doc = el.ownerDocument;
  let describeEl = opts.describeEl || null;
  if (!describeEl) {
    describeEl = doc.createElement("p");
    describeEl.className = "figure-describe";
    describeEl.setAttribute("aria-live", "polite");
    el.after(describeEl);
  }
  let noteEl = opts.noteEl || null;
  const isVisible = opts.isVisible || (() => el.getClientRects().length > 0);
  // the weights are large: a panel that reads them asks its source for them once it is first shown
  const wantsParams = (panel.reads || []).some((r) => r === "params" || String(r).startsWith("params."));
  const reads = (panel.reads || []).filter((r) => r !== "params" && !String(r).startsWith("params."));
  let frame = null, lastKey = null, lastCursor = null, force = false, ready = false, clicks = false;
  let near = true, observer = null;
  if (wantsParams && opts.lazyParams && typeof IntersectionObserver === "function") {
    near = false;
    observer = new IntersectionObserver((entries) => {
      const now = entries[entries.length - 1].isIntersecting;
      if (now === near) return;
      near = now;
      if (near && !source.trace.params) { ready = false; fig.schedule(true); }
    }, { rootMargin: "50% 0px" });
    observer.observe(el);
  }

  const fig = {
    el, panel, describeEl,
    get pending() { return frame !== null; },
    get ready() { return ready; },
    get source() { return source; },
    schedule(redraw) {
      if (redraw) force = true;
      if (frame !== null) return;
      frame = raf(() => { frame = null; fig.render(); });
    },
    render(redraw) {
      const trace = source.trace, v = view.state;
      const wanted = redraw || force;
      force = false;
      if (!trace.meta || source.status === "error") { ready = false; return; }
      if (!isVisible()) { lastKey = null; ready = false; return; }
      if (wantsParams && near && !trace.params && typeof source.needParams === "function") source.needParams();
      // conceal (a question on this figure not revealed yet) changes what the axes may span: redraw
      const key = `${panel.key ? panel.key(trace, v) : defaultKey(trace, v)}|${v.conceal}`;
      const cursor = panel.cursorKey ? panel.cursorKey(trace, v) : "";
      const drawnReady = () => Boolean(trace.done) && (!wantsParams || Boolean(trace.params) || !near);
      if (!wanted && key === lastKey && cursor === lastCursor) {
        // nothing to redraw, but the trace may have finished since (a panel keyed on meta alone, such as
        // cost, drew while the stream was still coming): what is drawn is now complete
        if (!ready && drawnReady()) { ready = true; if (opts.onRender) opts.onRender(fig); }
        return;
      }
      const box = { width: el.clientWidth || 1000, height: el.clientHeight || 400 };
      const out = panel.figure(trace, v, strings, theme, box);
      if (out.html !== undefined) {
        el.innerHTML = out.html;
      } else {
        const P = opts.Plotly || globalThis.Plotly;
        if (!P) { ready = false; return; }  // plotly.js is still loading: "plotly:ready" draws again
        if (!wanted && key === lastKey && el.data) {
          P.relayout(el, { shapes: out.layout.shapes || [], annotations: out.layout.annotations || [] });
        } else {
          P.react(el, out.data, out.layout, opts.config || PLOT_CONFIG);
        }
        // Plotly's responsive resize sizes the plot to its box: the box keeps the panel's own height
        if (out.layout && out.layout.height && el.style) el.style.minHeight = `${out.layout.height}px`;
        if (panel.click && !clicks && typeof el.on === "function") {
          clicks = true;
          el.on("plotly_click", (e) => {
            const point = e && e.points && e.points[0];
            const patch = point && panel.click(point, source.trace, view.state);
            if (patch) view.set(patch);
          });
        }
      }
      writeNote(out.note);
      const line = panel.describe ? panel.describe(trace, v, strings) : "";
      if (describeEl.textContent !== line) describeEl.textContent = line;
      lastKey = key;
      lastCursor = cursor;
      ready = drawnReady();
      if (opts.onRender) opts.onRender(fig);
    },
    exportImage(format) {
      const P = opts.Plotly || globalThis.Plotly;
      if (!P || !el.data) return null;
      return P.downloadImage(el, {
        format, filename: opts.filename || `unrolled-${panel.id}`,
        width: Math.max(el.clientWidth, 800), height: Math.max(el.clientHeight, 400),
      });
    },
    setSource(next) {
      unsubSource();
      source = next;
      unsubSource = source.subscribe(() => fig.schedule(), reads);
      lastKey = null;
      fig.schedule(true);
    },
    destroy() {
      mounted.delete(fig);
      if (observer) observer.disconnect();
      unsubSource();
      unsubView();
      if (frame !== null) { caf(frame); frame = null; }
      const P = opts.Plotly || globalThis.Plotly;
      if (P && el.data) P.purge(el);
    },
  };

  function writeNote(text) {
    if (!text && !noteEl) return;
    if (!noteEl) {
      noteEl = doc.createElement("p");
      noteEl.className = "figure-note";
      el.before(noteEl);
    }
    noteEl.hidden = !text;
    if (text && noteEl.textContent !== text) noteEl.textContent = text;
  }

  // pickers inside a panel's html (data-view="unit", ...) set the view; the keys go back to the transport
  el.addEventListener("change", (e) => {
    const name = e.target && e.target.dataset && e.target.dataset.view;
    if (!name) return;
    view.set({ [name]: e.target.value });  // the store parses (and keeps a unit picker's "mean")
    e.target.blur();
  });
  let unsubSource = source.subscribe(() => fig.schedule(), reads);
  const unsubView = view.subscribe(() => fig.schedule());
  mounted.add(fig);
  fig.schedule();
  return fig;
}
