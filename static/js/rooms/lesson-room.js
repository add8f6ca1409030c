// A lesson page in a classroom room (page-room.js holds what the bench and the lab share with it).
//
// Teacher: the "Open a class" button in the lesson header opens a room; the page publishes
//   {page, path, slug, figure, section, knobs, view, question, revealed} as the teacher moves: the
//   active figure's knobs and view only, never traces. Each question gets an "ask the class" button;
//   the teacher's bar shows the open question's answers as they come; the teacher's own reveal also
//   reveals to the class (POST /reveal).
// Student: follows the room with one EventSource (page-room.js): another lesson -> navigate there;
//   this lesson -> scroll to the figure, apply its knobs and view, open the question. Locking in a
//   guess sends it (POST /answers); the teacher's reveal computes the answer from this page's own trace
//   and shows the class's distribution next to it.
import { answer, reveal } from "./follow.js";
import { PageRoom, distributionRows, openButton, roomCode, roomStyles, roomView } from "./page-room.js";
import { Projector } from "./projector.js";

export { distributionRows, roomView };

function drawDistribution(list, rows, label) {
  list.replaceChildren();
  for (const { value, count, share } of rows) {
    const li = document.createElement("li");
    li.dataset.value = value;
    li.dataset.count = String(count);
    const bar = document.createElement("span");
    bar.className = "room-bar";
    bar.style.width = `${(100 * share).toFixed(1)}%`;
    const text = document.createElement("span");
    text.textContent = `${label(value)} · ${count}`;
    li.append(bar, text);
    list.append(li);
  }
}

class LessonRoom {
  constructor(page, code) {
    this.page = page;
    this.s = page.strings;
    this.question = null;
    this.revealed = null;
    this.room = new PageRoom({ code, root: page.root, strings: page.strings, page: "lesson",
      state: () => this.state(), apply: (state) => this.apply(state), here: (state) => state.slug === page.slug });
  }

  get code() { return this.room.code; }

  get key() { return this.room.key; }

  /** The answer's text as the question shows it (a choice's label, a number in the page's format). */
  label(question, value) {
    if (!question) return value;
    if (question.spec.kind === "number") return question.format(Number(value));
    const input = question.el.querySelector(`[data-guess][value="${CSS.escape(value)}"]`);
    return input ? input.parentElement.textContent.trim() : value;
  }

  distBox(question) {
    let box = question.el.querySelector(".room-dist");
    if (!box) {
      box = document.createElement("section");
      box.className = "room-dist";
      const h = document.createElement("h4");
      const list = document.createElement("ol");
      box.append(h, list);
      question.el.append(box);
    }
    return box;
  }

  showDistribution(id, distribution, heading) {
    const q = this.page.questions.get(id);
    if (!q) return;
    const box = this.distBox(q);
    box.querySelector("h4").textContent = heading;
    drawDistribution(box.querySelector("ol"), distributionRows(distribution), (v) => this.label(q, v));
    const total = Object.values(distribution).reduce((a, b) => a + b, 0);
    box.dataset.total = String(total);
  }

  markOpen() {
    for (const q of this.page.questions.values()) {
      q.el.dataset.roomOpen = String(q.id === this.question);
      const ask = q.el.querySelector("[data-room-ask]");
      if (ask) ask.setAttribute("aria-pressed", String(q.id === this.question));
    }
  }

  // ---- the teacher ----

  async open() {
    await this.room.open();
    this.teach();
  }

  teach() {
    const answers = document.createElement("ol");
    answers.className = "room-answers";
    answers.id = "room-answers";
    const bar = this.room.teach({
      state: (state) => {  // after a reload: the question the class was asked is still open
        if (state.slug === this.page.slug && !this.question) {
          this.question = state.question || null;
          this.revealed = state.revealed || null;
          this.markOpen();
        }
      },
      answers: ({ question, distribution }) => {
        if (question !== this.question) return;
        const q = this.page.questions.get(question);
        drawDistribution(answers, distributionRows(distribution), (v) => this.label(q, v));
        this.showDistribution(question, distribution, this.s.lesson_room_answers_so_far);
      },
    });
    bar.append(answers);
    const schedule = () => this.room.schedule();
    for (const fig of this.page.figures.values()) {
      fig.store.subscribe(() => { if (fig === this.page.active) schedule(); });
      fig.knobListeners.add(() => { if (fig === this.page.active) schedule(); });
    }
    const activate = this.page.activate.bind(this.page);
    this.page.activate = (fig) => { const changed = this.page.active !== fig; activate(fig); if (changed) schedule(); };
    for (const q of this.page.questions.values()) {
      const ask = document.createElement("button");
      ask.type = "button";
      ask.dataset.roomAsk = "";
      ask.textContent = this.s.lesson_room_ask;
      ask.setAttribute("aria-pressed", "false");
      ask.addEventListener("click", () => this.ask(q));
      q.el.querySelector("[data-reveal]").after(ask);
      q.el.querySelector("[data-reveal]").addEventListener("click", () => this.revealToClass(q));
    }
  }

  ask(q) {
    this.question = this.question === q.id ? null : q.id;
    this.revealed = null;
    if (q.figure) this.page.activate(q.figure);
    document.getElementById("room-answers").replaceChildren();
    this.markOpen();
    this.room.schedule();
  }

  async revealToClass(q) {
    if (this.question !== q.id) return;
    try {
      await reveal(this.code, this.key, q.id);
      this.revealed = q.id;
      this.room.schedule();
    } catch (err) {
      this.room.error(err.message);
    }
  }

  state() {
    const fig = this.page.active;
    const out = { slug: this.page.slug };
    if (fig) {
      out.figure = fig.id;
      out.section = fig.el.closest("[data-section]")?.dataset.section;
      out.knobs = { ...fig.knobs };
      out.view = roomView(fig.store.state);
    }
    if (this.question) out.question = this.question;
    if (this.revealed) out.revealed = this.revealed;
    return out;
  }

  // ---- a student ----

  async join() {
    const joined = await this.room.join({ reveal: (data) => this.onReveal(data) });
    if (!joined) return;
    for (const q of this.page.questions.values()) {
      q.el.querySelector("[data-commit]").addEventListener("click", () => this.send(q));
    }
  }

  apply(state) {
    const fig = state.figure && this.page.figures.get(state.figure);
    if (fig) {
      if (this.page.active !== fig) {
        this.page.activate(fig);
        fig.el.scrollIntoView({ block: "start" });
      }
      if (state.knobs && JSON.stringify(state.knobs) !== JSON.stringify(fig.knobs)) this.setKnobs(fig, state.knobs);
      const view = state.view || {};
      fig.store.set(view);
      // before the trace for these knobs is in, steps cannot be clamped and the first load may move
      // them: set the view again once it is ready (only if it is still the latest one)
      fig.whenReady().then(() => { if (this.room.latest === state && this.room.following) fig.store.set(view); }, () => {});
    }
    this.question = state.question || null;
    this.markOpen();
    const q = this.question && this.page.questions.get(this.question);
    if (q && !fig) q.el.scrollIntoView({ block: "start" });
  }

  setKnobs(fig, knobs) {
    for (const input of fig.el.querySelectorAll("[data-knob]")) {
      const name = input.dataset.knob, value = knobs[name];
      if (input.type === "checkbox") input.checked = Boolean(value);
      else if (value !== undefined && value !== null) input.value = String(value);
      const out = fig.el.querySelector(`[data-out="${name}"]`);
      if (out && value !== undefined && value !== null) out.textContent = String(value);
      const none = fig.el.querySelector(`[data-null-for="${name}"]`);
      if (none) { none.checked = value === null || value === undefined; input.disabled = none.checked; }
    }
    const shown = fig.el.querySelector("[data-text]");
    if (shown && typeof knobs.text === "string") shown.textContent = knobs.text;
    fig.knobs = { ...knobs };
    fig.reload();
  }

  async send(q) {
    if (!q.committed || q.guess === null || q.guess === undefined) return;
    try {
      await answer(this.code, this.room.device, q.id, q.guess);
      q.el.dataset.roomSent = "true";
    } catch (err) {
      this.room.error(err.message);
    }
  }

  async onReveal({ question, distribution }) {
    const q = this.page.questions.get(question);
    if (!q) return;
    if (!q.committed && q.guess !== null && q.guess !== undefined) q.lock(true);
    if (q.committed) await q.reveal();
    this.showDistribution(question, distribution, this.s.lesson_room_class);
  }
}

/** Called by the lesson page once it has started: the header button, and the room in ?room=. */
export function attachRoom(page) {
  roomStyles();
  const params = new URLSearchParams(location.search);
  const code = roomCode(location.search);
  const header = page.root.querySelector(".lesson-crumbs");
  const projector = window.unrolledProjector = new Projector(page).bind();
  const activate = page.activate.bind(page);
  page.activate = (fig) => { activate(fig); if (projector.on) projector.mark(); };
  if (code) {
    const room = new LessonRoom(page, code);
    window.unrolledRoom = room;  // for the browser tests and the console
    if (room.key) { room.teach(); projector.room = room; } else room.join();
    if (params.get("projector") === "1") projector.toggle(true);
    return room;
  }
  if (params.get("projector") === "1") projector.toggle(true);
  if (!header) return null;
  openButton(header, page.strings, async () => {
    const room = new LessonRoom(page, null);
    window.unrolledRoom = room;
    await room.open();
    projector.room = room;
  });
  return null;
}
