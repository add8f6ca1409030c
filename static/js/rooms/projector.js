// Projector mode on a lesson page (?projector=1, or the key f): one figure full screen, large type,
// high contrast, its controls hidden (static/css/projector.css), keyboard only:
//   ← → step · b phase · space play (the page's own keys, core/keys.js, on the shown figure)
//   p  predict / reveal: the figure's question; in a room the teacher's first p asks the class,
//      the next locks the teacher's guess and reveals to everyone
//   n  next figure (and back to the first after the last) · f or Escape: leave
// The figure shown is the page's active one, so a room publishes it as the teacher moves. Its plots
// fill the screen and their type is large: after each draw (Plotly's plotly_afterplot) the plot is
// relaid out to its share of the screen's height with the sizes projector.css declares
// (--projector-plot-font, --projector-tick-font, --projector-min-plot); leaving redraws the panels'
// own layouts.
import { isEditable } from "../core/keys.js";

const AXIS = /^[xy]axis\d*$/;

/** The relayout that makes a plot legible on a projector: its height and its fonts (pure; tests/js). */
export function projectorLayout(layout, sizes, height) {
  const patch = { height, "font.size": sizes.font, "legend.font.size": sizes.tick };
  const axes = new Set(["xaxis", "yaxis", ...Object.keys(layout || {}).filter((k) => AXIS.test(k))]);
  for (const axis of axes) {
    patch[`${axis}.tickfont.size`] = sizes.tick;
    patch[`${axis}.title.font.size`] = sizes.font;
  }
  ((layout && layout.annotations) || []).forEach((a, i) => {
    patch[`annotations[${i}].font.size`] = Math.max((a.font && a.font.size) || 0, sizes.tick);
  });
  if (layout && layout.title) patch["title.font.size"] = Math.round(sizes.font * 1.15);
  return patch;
}

/** Whether a plot already has the projector's height and type (within a few pixels: no relayout loop). */
export function fitted(layout, sizes, height) {
  return Boolean(layout) && Math.abs((layout.height || 0) - height) < 4 && layout.font?.size === sizes.font
    && layout.xaxis?.tickfont?.size === sizes.tick;
}

function plotSizes() {
  const style = getComputedStyle(document.body);
  const px = (name, fallback) => parseFloat(style.getPropertyValue(name)) || fallback;
  return { font: px("--projector-plot-font", 22), tick: px("--projector-tick-font", 20),
           min: px("--projector-min-plot", 240) };
}

const shownPlots = (el) => [...el.querySelectorAll(".panel-plot")].filter((p) => p.getClientRects().length > 0);

export class Projector {
  constructor(page, room = null) {
    this.page = page;
    this.room = room;
    this.on = false;
    this.hint = null;
    this.shown = null;  // the projected figure
    this.bound = new WeakSet();  // plots with our plotly_afterplot listener
    this.frame = null;
    this.watch = typeof MutationObserver === "function" ? new MutationObserver(() => this.fitSoon()) : null;
  }

  figures() { return [...this.page.figures.values()].filter((f) => f.steppable !== false); }

  questionOf(fig) { return [...this.page.questions.values()].find((q) => q.figure === fig) || null; }

  toggle(on = !this.on) {
    this.on = on;
    document.body.classList.toggle("projector", on);
    this.page.root.dataset.projector = String(on);
    if (on && !this.page.active) { const first = this.figures()[0]; if (first) this.page.activate(first); }
    if (!this.hint) {
      this.hint = document.createElement("p");
      this.hint.className = "projector-hint";
      this.hint.textContent = this.page.strings.lesson_room_projector_hint;
      this.page.root.append(this.hint);
    }
    this.mark();
  }

  /** The shown figure (and its question while one is asked or revealed) carry the classes the CSS keeps. */
  mark() {
    const active = this.on ? this.page.active : null;
    for (const fig of this.page.figures.values()) fig.el.classList.toggle("is-projected", fig === active);
    const q = active && this.questionOf(active);
    for (const other of this.page.questions.values()) {
      const shown = Boolean(q && other === q && (other.el.dataset.roomOpen === "true" || other.committed || other.revealed));
      other.el.classList.toggle("is-projected-q", shown);
    }
    const redraw = (fig) => { for (const side of fig.sides) for (const f of side.figs) f.schedule(true); };
    if (this.shown && this.shown !== active) redraw(this.shown);  // the panels' own sizes again
    this.watch?.disconnect();
    this.shown = active;
    if (active) {
      active.show();
      redraw(active);  // the new width
      window.dispatchEvent(new Event("resize"));  // plotly's responsive plots take their box again
      this.watch?.observe(active.el, { childList: true, subtree: true });  // a plot drawn later
      this.fitSoon();
    }
  }

  fitSoon() {
    if (this.frame !== null) return;
    this.frame = requestAnimationFrame(() => { this.frame = null; this.fit(); });
  }

  /** The projected figure's plots share the screen's height (rows of plots side by side count once). */
  fit() {
    const fig = this.on && this.shown;
    const P = globalThis.Plotly;
    if (!fig || !P) return;
    const plots = shownPlots(fig.el).filter((el) => el.layout && typeof el.on === "function");
    if (!plots.length) return;
    const sizes = plotSizes();
    const rows = new Map();  // top -> the row's height
    for (const el of plots) {
      const top = Math.round(el.offsetTop);
      rows.set(top, Math.max(rows.get(top) || 0, el.offsetHeight));
    }
    // what the figure holds besides its plots (its bar, the description, its padding), measured from its
    // content: a fixed, full-screen figure's own scrollHeight never falls below the screen
    const content = Math.max(...[...fig.el.children].filter((el) => el.getClientRects().length > 0)
      .map((el) => el.offsetTop + el.offsetHeight)) + parseFloat(getComputedStyle(fig.el).paddingBottom || "0");
    const around = content - [...rows.values()].reduce((a, b) => a + b, 0);
    const height = Math.max(sizes.min, Math.floor((window.innerHeight - around) / rows.size));
    for (const el of plots) {
      if (!this.bound.has(el)) {
        this.bound.add(el);
        el.on("plotly_afterplot", () => { if (this.on && el.closest(".is-projected")) this.fitSoon(); });
      }
      if (fitted(el.layout, sizes, height)) continue;
      el.style.minHeight = `${height}px`;
      P.relayout(el, projectorLayout(el.layout, sizes, height));
    }
  }

  next() {
    const figs = this.figures();
    if (!figs.length) return;
    const i = figs.indexOf(this.page.active);
    this.page.activate(figs[(i + 1) % figs.length]);
    this.mark();
  }

  async predict() {
    const q = this.page.active && this.questionOf(this.page.active);
    if (!q) return;
    if (this.room?.key && this.room.question !== q.id) {
      this.room.ask(q);
    } else if (!q.committed) {
      q.lock(true);
    } else {
      await q.reveal();
      if (this.room?.key) await this.room.revealToClass(q);
    }
    this.mark();
  }

  bind() {
    document.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isEditable(e.target)) return;
      if (e.code === "KeyF" || (e.code === "Escape" && this.on)) {
        e.preventDefault();
        this.toggle(e.code === "Escape" ? false : !this.on);
        return;
      }
      if (!this.on) return;
      if (e.code === "KeyN") { e.preventDefault(); this.next(); }
      if (e.code === "KeyP") { e.preventDefault(); this.predict(); }
    });
    return this;
  }
}
