// Projector mode on a lesson page (?projector=1, or the key f): one figure full screen, large type,
// high contrast, its controls hidden (static/css/projector.css), keyboard only:
//   ← → step · b phase · space play (the page's own keys, core/keys.js, on the shown figure)
//   p  predict / reveal: the figure's question; in a room the teacher's first p asks the class,
//      the next locks the teacher's guess and reveals to everyone
//   n  next figure (and back to the first after the last) · f or Escape: leave
// The figure shown is the page's active one, so a room publishes it as the teacher moves.
import { isEditable } from "../core/keys.js";

export class Projector {
  constructor(page, room = null) {
    this.page = page;
    this.room = room;
    this.on = false;
    this.hint = null;
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
    if (active) {
      active.show();
      for (const side of active.sides) for (const fig of side.figs) fig.schedule(true);  // the new width
      window.dispatchEvent(new Event("resize"));  // plotly's responsive plots take their box again
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
