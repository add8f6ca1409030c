// A lesson page in a classroom room (follow.js; app/routes/rooms.py).
//
// Teacher: the "Open a class" button in the lesson header opens a room (POST /api/rooms); the key
//   stays in sessionStorage under unrolled.room.key.<CODE>, the URL gets ?room=CODE, so a reload or
//   the next lesson keeps teaching. The teacher bar (teacher-bar.js) shows code, join URL, QR and the
//   counts, and the answers of the open question as they come. The page publishes a small state as the
//   teacher moves (debounced 100 ms): {page, slug, figure, section, knobs, view, question, revealed};
//   knobs and view only, never traces. Each question gets an "ask the class" button; the teacher's
//   own reveal also reveals to the class (POST /reveal).
// Student: ?room=CODE without the key joins (or reuses the device id /join stored under
//   unrolled.room.device.<CODE>) and follows with ONE EventSource: another lesson -> navigate there;
//   this lesson -> scroll to the figure, apply its knobs and view, open the question. Locking in a
//   guess sends it (POST /answers); the teacher's reveal computes the answer from this page's own trace
//   and shows the class's distribution next to it. "e" or the button: explore / follow again.
import { fmt } from "../core/format.js";
import { isEditable } from "../core/keys.js";
import { answer, followRoom, joinRoom, openRoom, publishState, reveal } from "./follow.js";
import { Projector } from "./projector.js";
import { mountTeacherBar } from "./teacher-bar.js";

const VIEW_KEYS = ["phase", "step", "bstep", "layer", "head", "loss"];
export const KEY_PREFIX = "unrolled.room.key.";
export const DEVICE_PREFIX = "unrolled.room.device.";
const INFO_PREFIX = "unrolled.room.info.";  // {join_url, qr_url}: the bar again after a reload
const DEBOUNCE_MS = 100;

function session() {
  try { return window.sessionStorage; } catch (err) { return null; }
}

/** The part of a view a room carries (pure; tests/js). */
export function roomView(state) {
  const out = {};
  for (const key of VIEW_KEYS) if (state[key] !== undefined && state[key] !== null) out[key] = state[key];
  return out;
}

/** Rows of a distribution, most frequent first, with their share of the total (pure). */
export function distributionRows(distribution) {
  const total = Object.values(distribution).reduce((a, b) => a + b, 0) || 1;
  return Object.entries(distribution).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([value, count]) => ({ value, count, share: count / total }));
}

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

function withRoom(href, code) {
  const url = new URL(href, location.href);
  url.searchParams.set("room", code);
  return url.pathname + url.search + url.hash;
}

class LessonRoom {
  constructor(page, code) {
    this.page = page;
    this.code = code;
    this.s = page.strings;
    this.store = session();
    this.key = this.store?.getItem(KEY_PREFIX + code) || null;
    this.question = null;
    this.revealed = null;
    this.timer = null;
  }

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
    const room = await openRoom();
    this.code = room.code;
    this.key = room.teacher_key;
    this.store?.setItem(KEY_PREFIX + room.code, room.teacher_key);
    this.store?.setItem(INFO_PREFIX + room.code, JSON.stringify({ join_url: room.join_url, qr_url: room.qr_url }));
    this.room = room;
    history.replaceState(null, "", withRoom(location.href, room.code));
    this.teach();
  }

  teach() {
    let info = null;
    try { info = JSON.parse(this.store?.getItem(INFO_PREFIX + this.code) || "null"); } catch (err) { info = null; }
    const room = this.room || { code: this.code, join_url: info?.join_url ?? `${location.origin}/join?code=${this.code}`,
      qr_url: `/api/rooms/${this.code}/qr.svg` };
    const bar = document.createElement("aside");
    bar.className = "room-lesson-bar";
    bar.id = "room-teacher";
    bar.setAttribute("aria-label", this.s.lesson_room_teacher);
    const view = mountTeacherBar(bar, room, this.s);
    const answers = document.createElement("ol");
    answers.className = "room-answers";
    answers.id = "room-answers";
    bar.append(answers);
    this.page.root.prepend(bar);
    this.page.root.dataset.room = "teacher";
    this.page.root.dataset.roomCode = this.code;
    let restored = false;
    this.follower = followRoom({ code: this.code, key: this.key, handlers: {
      presence: view.update,
      state: (state) => {  // after a reload: the question the class was asked is still open
        if (restored) return;
        restored = true;
        if (state.slug === this.page.slug && !this.question) {
          this.question = state.question || null;
          this.revealed = state.revealed || null;
          this.markOpen();
        }
        this.schedule();  // the first publish waits for the snapshot, so a reload keeps the open question
      },
      answers: ({ question, distribution }) => {
        if (question !== this.question) return;
        const q = this.page.questions.get(question);
        drawDistribution(answers, distributionRows(distribution), (v) => this.label(q, v));
        this.showDistribution(question, distribution, this.s.lesson_room_answers_so_far);
      },
    } });
    for (const fig of this.page.figures.values()) {
      fig.store.subscribe(() => { if (fig === this.page.active) this.schedule(); });
      fig.knobListeners.add(() => { if (fig === this.page.active) this.schedule(); });
    }
    const activate = this.page.activate.bind(this.page);
    this.page.activate = (fig) => { const changed = this.page.active !== fig; activate(fig); if (changed) this.schedule(); };
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
    this.schedule();
  }

  async revealToClass(q) {
    if (this.question !== q.id) return;
    try {
      await reveal(this.code, this.key, q.id);
      this.revealed = q.id;
      this.schedule();
    } catch (err) {
      this.error(err.message);
    }
  }

  state() {
    const fig = this.page.active;
    const out = { page: "lesson", slug: this.page.slug };
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

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.publish(), DEBOUNCE_MS);
  }

  async publish() {
    const state = this.state();
    try {
      const { id } = await publishState(this.code, this.key, state);
      this.page.root.dataset.roomPublished = String(id);
      this.error("");
    } catch (err) {
      this.error(err.message);
    }
  }

  error(text) {
    let el = document.getElementById("room-error");
    if (!el) {
      el = document.createElement("p");
      el.id = "room-error";
      el.className = "room-error";
      el.setAttribute("role", "alert");
      (document.getElementById("room-teacher") || document.getElementById("room-student") || this.page.root).append(el);
    }
    el.textContent = text;
  }

  // ---- a student ----

  async join() {
    let device = this.store?.getItem(DEVICE_PREFIX + this.code);
    if (!device) {
      try {
        device = (await joinRoom(this.code, "")).device;
      } catch (err) {
        this.studentBar();
        this.error(err.message);
        return;
      }
      this.store?.setItem(DEVICE_PREFIX + this.code, device);
    }
    this.device = device;
    this.studentBar();
    this.follower = followRoom({ code: this.code, device, handlers: {
      state: (state) => this.apply(state),
      reveal: (data) => this.onReveal(data),
      status: (status) => this.setStatus(status),
    } });
    for (const q of this.page.questions.values()) {
      q.el.querySelector("[data-commit]").addEventListener("click", () => this.send(q));
    }
    document.addEventListener("keydown", (e) => {
      if (e.code !== "KeyE" || e.ctrlKey || e.metaKey || e.altKey || isEditable(e.target)) return;
      e.preventDefault();
      this.toggle();
    });
  }

  studentBar() {
    const bar = document.createElement("aside");
    bar.className = "room-lesson-bar room-student";
    bar.id = "room-student";
    const status = document.createElement("p");
    status.className = "room-status";
    status.setAttribute("role", "status");
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.dataset.roomToggle = "";
    toggle.textContent = this.s.join_explore;
    toggle.title = this.s.lesson_room_key_hint;
    toggle.addEventListener("click", () => this.toggle());
    bar.append(status, toggle);
    this.page.root.prepend(bar);
    this.page.root.dataset.room = "student";
    this.page.root.dataset.roomCode = this.code;
  }

  toggle() { this.follower?.explore(!this.follower.exploring).catch((err) => this.error(err.message)); }

  setStatus(status) {
    this.page.root.dataset.roomStatus = status;
    const bar = document.getElementById("room-student");
    const text = { following: this.s.join_following, exploring: this.s.join_exploring,
      reconnecting: this.s.join_reconnecting, ended: this.s.join_ended }[status] ?? "";
    bar.querySelector(".room-status").textContent = `${fmt(this.s.join_in_room, { code: this.code })} ${text}`;
    bar.querySelector("[data-room-toggle]").textContent = status === "exploring" ? this.s.join_follow : this.s.join_explore;
  }

  apply(state) {
    if (state.page !== "lesson" || !state.slug) return;
    if (state.slug !== this.page.slug) {
      location.assign(withRoom(`/lessons/${encodeURIComponent(state.slug)}${location.search}`, this.code));
      return;
    }
    this.latest = state;
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
      fig.whenReady().then(() => { if (this.latest === state) fig.store.set(view); }, () => {});
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
      await answer(this.code, this.device, q.id, q.guess);
      q.el.dataset.roomSent = "true";
    } catch (err) {
      this.error(err.message);
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
  if (!document.querySelector('link[href="/static/css/projector.css"]')) {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = "/static/css/projector.css";
    document.head.append(css);
  }
  const params = new URLSearchParams(location.search);
  const code = (params.get("room") || "").toUpperCase();
  const header = page.root.querySelector(".lesson-crumbs");
  const projector = window.unrolledProjector = new Projector(page).bind();
  const activate = page.activate.bind(page);
  page.activate = (fig) => { activate(fig); if (projector.on) projector.mark(); };
  if (code) {
    const room = new LessonRoom(page, code);
    window.unrolledRoom = room;  // for the browser tests and the console
    if (room.key) { room.teach(); projector.room = room; } else room.join();
    for (const a of page.root.querySelectorAll(".lesson-pager a")) a.href = withRoom(a.href, code);
    if (params.get("projector") === "1") projector.toggle(true);
    return room;
  }
  if (params.get("projector") === "1") projector.toggle(true);
  if (!header) return null;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "room-open";
  button.dataset.roomOpen = "";
  button.textContent = page.strings.lesson_room_open;
  button.addEventListener("click", async () => {
    button.disabled = true;
    const room = new LessonRoom(page, null);
    window.unrolledRoom = room;
    try {
      await room.open();
      projector.room = room;
      button.remove();
      for (const a of page.root.querySelectorAll(".lesson-pager a")) a.href = withRoom(a.href, room.code);
    } catch (err) {
      button.disabled = false;
      room.error(err.message);
    }
  });
  header.append(button);
  return null;
}
