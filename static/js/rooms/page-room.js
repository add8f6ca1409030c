// What every page in a classroom room shares: a lesson (lesson-room.js), the bench (bench-room.js) and
// the lab (lab-room.js) each say only what their state is and how to apply it.
//
// Teacher: "Open a class" opens a room (POST /api/rooms); the key stays in sessionStorage under
//   unrolled.room.key.<CODE> and the URL gets ?room=CODE, so a reload, the next lesson, the bench or the
//   lab keep teaching (the page's own links carry ?room= too). The teacher bar (teacher-bar.js) shows the
//   code, join URL, QR and the counts. The page's state is published as the teacher moves (debounced,
//   and only when it changed): an object with `page` (lesson, bench, lab) and `path` (where a student's
//   device goes for it), then whatever that page needs: knobs and view, never traces or runs' data.
// Student: ?room=CODE without the key joins (or reuses the device id /join stored under
//   unrolled.room.device.<CODE>) and follows with ONE EventSource: a state for another page -> go there
//   (roomHref); for this page -> apply it. "e" or the bar's button: explore on one's own / follow again
//   (the latest state at once).
import { fmt } from "../core/format.js";
import { isEditable } from "../core/keys.js";
import { followRoom, joinRoom, openRoom, publishState } from "./follow.js";
import { mountTeacherBar } from "./teacher-bar.js";

export { openButton } from "./open-button.js";

export const KEY_PREFIX = "unrolled.room.key.";
export const DEVICE_PREFIX = "unrolled.room.device.";
const INFO_PREFIX = "unrolled.room.info.";  // {join_url, qr_url, watch_token}: the bar and stream after a reload
const DEBOUNCE_MS = 100;
// the view a room carries (core/view.js's keys less the page's own: conceal, speed)
const VIEW_KEYS = ["phase", "step", "bstep", "layer", "head", "loss", "unit"];
// where a room may send a student's device: this server's lesson pages, the bench and the lab only
const PATHS = /^\/(lessons\/[A-Za-z0-9_-]+|bench|lab)$/;

export function session() {
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

/** href with ?room=code (path, query and hash kept), relative to base (pure). */
export function withRoom(href, code, base) {
  const url = new URL(href, base);
  url.searchParams.set("room", code);
  return url.pathname + url.search + url.hash;
}

/** Where a room's state sends a student's device: its `path` (or a lesson's slug), on this server,
 *  with ?room= and the student's own language; null when the state names no page a room may open (pure). */
export function roomHref(state, code, lang, base) {
  if (!state || typeof state !== "object") return null;
  let path = typeof state.path === "string" ? state.path : null;
  if (!path && state.page === "lesson" && typeof state.slug === "string" && state.slug) {
    path = `/lessons/${encodeURIComponent(state.slug)}`;
  }
  if (!path || !path.startsWith("/") || path.startsWith("//")) return null;
  const url = new URL(path, base);
  if (url.origin !== new URL(base).origin || !PATHS.test(url.pathname)) return null;
  url.searchParams.set("room", code);
  if (lang) url.searchParams.set("lang", lang);
  else url.searchParams.delete("lang");
  return url.pathname + url.search;
}

/** The room's code in ?room= (upper-cased), or "" (pure). */
export function roomCode(search) {
  return (new URLSearchParams(search).get("room") || "").toUpperCase();
}

/** The room's styles (the bars, the class's answers, projector mode), once per page. */
export function roomStyles() {
  if (document.querySelector('link[href="/static/css/projector.css"]')) return;
  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = "/static/css/projector.css";
  document.head.append(css);
}

/**
 * One page's side of a room.
 *   root        the element whose data-room, data-room-code, data-room-status, data-room-published
 *               say where the page stands (the tests wait on them)
 *   strings     the page's i18n table
 *   page        "lesson" | "bench" | "lab"
 *   state()     the teacher's state now (page and path are added)
 *   apply(s)    a student's page applies a state for this page (ignored while exploring)
 *   here(s)     whether a state for this page is the one shown (a lesson: the same slug); default true
 *   place(bar)  where the teacher's bar goes (default: the start of root)
 */
export class PageRoom {
  constructor({ code = null, root, strings, page, state, apply, here = () => true, place = null }) {
    this.code = code;
    this.root = root;
    this.s = strings;
    this.page = page;
    this.stateOf = state;
    this.applyState = apply;
    this.here = here;
    this.place = place || ((bar) => root.prepend(bar));
    this.store = session();
    this.key = code ? this.store?.getItem(KEY_PREFIX + code) || null : null;
    this.timer = null;
    this.sent = null;  // the last state the room accepted, as JSON
    this.latest = null;  // a student's latest state from the room
    this.follower = null;
  }

  get teacher() { return Boolean(this.key); }

  /** Teach or follow the room in ?room=, or (open: the teacher pressed the button) open one now.
   *  teach: how this page starts teaching (default this.teach()). */
  async start({ open = false, teach = () => this.teach() } = {}) {
    if (this.code) {
      if (this.teacher) teach();
      else this.join();
    } else if (open) {
      await this.open();
      teach();
    }
    return this;
  }

  get following() { return Boolean(this.follower) && !this.key && !this.follower.exploring; }

  // ---- the teacher ----

  async open() {
    let room;
    try {
      room = await openRoom();
    } catch (err) {
      this.error(err.message);
      throw err;
    }
    this.code = room.code;
    this.key = room.teacher_key;
    this.store?.setItem(KEY_PREFIX + room.code, room.teacher_key);
    this.store?.setItem(INFO_PREFIX + room.code, JSON.stringify({ join_url: room.join_url, qr_url: room.qr_url,
      watch_token: room.watch_token }));
    this.room = room;
    history.replaceState(history.state, "", withRoom(location.href, room.code, location.href));
    return room;
  }

  /** The bar, the teacher's own stream (presence; handlers.answers, handlers.state for the snapshot). */
  teach(handlers = {}) {
    let info = null;
    try { info = JSON.parse(this.store?.getItem(INFO_PREFIX + this.code) || "null"); } catch (err) { info = null; }
    const room = this.room || { code: this.code, join_url: info?.join_url ?? `${location.origin}/join?code=${this.code}`,
      qr_url: `/api/rooms/${this.code}/qr.svg`, watch_token: info?.watch_token };
    const bar = document.createElement("aside");
    bar.className = "room-lesson-bar";
    bar.id = "room-teacher";
    bar.setAttribute("aria-label", this.s.lesson_room_teacher);
    const view = mountTeacherBar(bar, room, this.s);
    this.bar = bar;
    this.place(bar);
    this.root.dataset.room = "teacher";
    this.root.dataset.roomCode = this.code;
    let first = true;
    this.follower = followRoom({ code: this.code, watch: room.watch_token, handlers: {
      presence: view.update,
      answers: handlers.answers,
      state: (state) => {
        if (!first) return;
        first = false;
        handlers.state?.(state);  // after a reload: what the class was shown (an open question ...)
        this.schedule();  // the first publish waits for the snapshot
      },
    } });
    this.carryRoom();
    return bar;
  }

  schedule() {
    if (!this.key) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.publish(), DEBOUNCE_MS);
  }

  state() {
    return { page: this.page, path: location.pathname, ...this.stateOf() };
  }

  async publish() {
    const state = this.state();
    const text = JSON.stringify(state);
    if (text === this.sent) return;
    try {
      const { id } = await publishState(this.code, this.key, state);
      this.sent = text;
      this.root.dataset.roomPublished = String(id);
      this.error("");
    } catch (err) {
      this.error(err.message);
    }
  }

  // ---- a student ----

  async join(handlers = {}) {
    let device = this.store?.getItem(DEVICE_PREFIX + this.code);
    if (!device) {
      try {
        device = (await joinRoom(this.code, "")).device;
      } catch (err) {
        this.studentBar();
        this.error(err.message);
        return false;
      }
      this.store?.setItem(DEVICE_PREFIX + this.code, device);
    }
    this.device = device;
    this.studentBar();
    this.follower = followRoom({ code: this.code, device, handlers: {
      state: (state) => this.follow(state),
      reveal: handlers.reveal,
      status: (status) => this.setStatus(status),
    } });
    document.addEventListener("keydown", (e) => {
      if (e.code !== "KeyE" || e.ctrlKey || e.metaKey || e.altKey || isEditable(e.target)) return;
      e.preventDefault();
      this.toggle();
    });
    return true;
  }

  follow(state) {
    if (!state || typeof state !== "object" || !state.page) return;  // nothing published yet
    if (state.page !== this.page || !this.here(state)) {
      const href = roomHref(state, this.code, document.documentElement.lang, location.href);
      if (href) location.assign(href);
      return;
    }
    this.latest = state;
    this.applyState(state);
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
    this.bar = bar;
    document.body.append(bar);
    this.root.dataset.room = "student";
    this.root.dataset.roomCode = this.code;
    // the page keeps room below its last line for the bar (projector.css reads --room-bar-height)
    const measure = () => document.documentElement.style.setProperty("--room-bar-height", `${Math.ceil(bar.offsetHeight)}px`);
    if (typeof ResizeObserver === "function") new ResizeObserver(measure).observe(bar);
    measure();
  }

  /** Explore (on) or follow again (off, the latest state at once); without an argument, the other one. */
  async explore(on = !this.follower?.exploring) {
    if (!this.follower || this.key) return;
    try {
      await this.follower.explore(on);
    } catch (err) {
      this.error(err.message);
    }
  }

  toggle() { this.explore(); }

  setStatus(status) {
    this.root.dataset.roomStatus = status;
    const bar = document.getElementById("room-student");
    if (!bar) return;
    bar.dataset.status = status;
    const text = { following: this.s.join_following, exploring: this.s.join_exploring,
      reconnecting: this.s.join_reconnecting, ended: this.s.join_ended }[status] ?? "";
    bar.querySelector(".room-status").textContent = `${fmt(this.s.join_in_room, { code: this.code })} ${text}`;
    bar.querySelector("[data-room-toggle]").textContent = status === "exploring" ? this.s.join_follow : this.s.join_explore;
  }

  // ---- both ----

  /** The teacher's navigation links to lessons, the bench and the lab (and links marked
   *  data-room-carry) keep the room (the class follows there); a student's device goes wherever the
   *  teacher's state says. */
  carryRoom() {
    for (const a of document.querySelectorAll("nav a[href], a[data-room-carry]")) {
      const url = new URL(a.getAttribute("href"), location.href);
      if (url.origin !== location.origin || !PATHS.test(url.pathname) || a.hasAttribute("download")) continue;
      a.href = withRoom(a.href, this.code, location.href);
    }
  }

  error(text) {
    let el = document.getElementById("room-error");
    if (!el) {
      if (!text) return;
      el = document.createElement("p");
      el.id = "room-error";
      el.className = "room-error";
      el.setAttribute("role", "alert");
      (document.getElementById("room-teacher") || document.getElementById("room-student") || this.root).append(el);
    }
    el.textContent = text;
  }
}
