// The /join page: a student types the room's code (and a nickname, if they like), then follows the
// teacher. Text from the server's strings (data-* on #join), shown with textContent only.
import { answer, followRoom, joinRoom } from "./follow.js";
import { DEVICE_PREFIX, roomHref } from "./page-room.js";

const root = document.getElementById("join");
const t = JSON.parse(root.dataset.strings);
const form = document.getElementById("join-form");
const error = document.getElementById("join-error");
const room = document.getElementById("join-room");
const statusLine = document.getElementById("join-status");
const stateList = document.getElementById("join-state");
const toggle = document.getElementById("join-toggle");
const questionBox = document.getElementById("join-question");
const revealBox = document.getElementById("join-reveal");
let follower = null;
let joined = null;

// a state for a lesson, the bench or the lab: this device goes to that page, which follows the room
// itself (page-room.js) with the device id kept here
function toPage(state) {
  const href = roomHref(state, joined.code, document.documentElement.lang, location.href);
  if (!href) return false;
  try { sessionStorage.setItem(DEVICE_PREFIX + joined.code, joined.device); } catch (err) { return false; }
  follower?.close();
  location.assign(href);
  return true;
}

function showState(state) {
  if (toPage(state)) return;
  stateList.replaceChildren();
  const entries = Object.entries(state).filter(([k]) => k !== "question");
  if (!entries.length) {
    const empty = document.createElement("p");
    empty.textContent = t.join_nothing_yet;
    stateList.append(empty);
  }
  for (const [name, value] of entries) {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = typeof value === "object" ? JSON.stringify(value) : String(value);
    stateList.append(dt, dd);
  }
  const open = typeof state.question === "string" && state.question;
  questionBox.hidden = !open;
  questionBox.dataset.question = open || "";
}

function showReveal({ question, distribution }) {
  revealBox.hidden = false;
  const list = revealBox.querySelector("ol");
  list.replaceChildren();
  const total = Object.values(distribution).reduce((a, b) => a + b, 0) || 1;
  revealBox.querySelector("h3").textContent = `${t.join_revealed}: ${question}`;
  // most frequent first (an object's integer-like keys would otherwise come in numeric order)
  const rows = Object.entries(distribution).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  for (const [value, count] of rows) {
    const li = document.createElement("li");
    const bar = document.createElement("span");
    bar.className = "room-bar";
    bar.style.width = `${(100 * count) / total}%`;
    const label = document.createElement("span");
    label.textContent = `${value} · ${count}`;
    li.append(bar, label);
    list.append(li);
  }
}

function setStatus(s) {
  root.dataset.status = s;
  statusLine.textContent = { following: t.join_following, exploring: t.join_exploring,
    reconnecting: t.join_reconnecting, ended: t.join_ended }[s] ?? "";
  toggle.textContent = s === "exploring" ? t.join_follow : t.join_explore;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    joined = await joinRoom(form.code.value, form.nickname.value);
    form.hidden = true;
    room.hidden = false;
    room.querySelector("h2").textContent = t.join_in_room.replace("{code}", joined.code);
    follower = followRoom({ code: joined.code, device: joined.device,
      handlers: { state: showState, reveal: showReveal, status: setStatus } });
  } catch (e) {
    error.textContent = e.message;
  } finally {
    button.disabled = false;
  }
});

toggle.addEventListener("click", () => follower?.explore(!follower.exploring));
document.addEventListener("keydown", (e) => {
  if (e.key === "f" && follower && e.target === document.body) follower.explore(!follower.exploring);
});

questionBox.addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = questionBox.querySelector("input");
  try {
    await answer(joined.code, joined.device, questionBox.dataset.question, input.value);
    questionBox.dataset.sent = "true";
  } catch (e) {
    error.textContent = e.message;
  }
});
