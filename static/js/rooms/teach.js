// The /teach page: open a room, show the teacher bar, publish a step and an open question, watch the
// answers arrive and reveal them. The lesson, bench and lab pages can publish the same way (follow.js).
import { followRoom, openRoom, publishState, reveal } from "./follow.js";
import { mountTeacherBar } from "./teacher-bar.js";

const root = document.getElementById("teach");
const t = JSON.parse(root.dataset.strings);
const bar = document.getElementById("teach-bar");
const controls = document.getElementById("teach-controls");
const error = document.getElementById("teach-error");
const answers = document.getElementById("teach-answers");
let room = null;
const state = { page: "teach", step: 0 };

function showAnswers({ question, distribution }) {
  answers.replaceChildren();
  const rows = Object.entries(distribution).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  for (const [value, count] of rows) {
    const li = document.createElement("li");
    li.textContent = `${value} · ${count}`;
    answers.append(li);
  }
  answers.dataset.question = question;
}

// Publish a change; only once the room has it does it become the teacher's state (while Redis is
// away the change is refused with a message, and the next click tries the same step again).
async function publish(change = {}) {
  const next = { ...state, ...change };
  try {
    await publishState(room.code, room.teacher_key, next);
    Object.assign(state, next);
    document.getElementById("teach-step-value").textContent = String(state.step);
    error.textContent = "";
  } catch (e) {
    error.textContent = e.message;
  }
}

document.getElementById("teach-open").addEventListener("click", async (event) => {
  event.currentTarget.disabled = true;
  try {
    room = await openRoom();
  } catch (e) {
    error.textContent = e.message;
    event.currentTarget.disabled = false;
    return;
  }
  const view = mountTeacherBar(bar, room, t);
  followRoom({ code: room.code, watch: room.watch_token,
    handlers: { presence: view.update, answers: showAnswers } });
  controls.hidden = false;
  root.dataset.code = room.code;
  await publish();
});

document.getElementById("teach-prev").addEventListener("click", () => publish({ step: Math.max(0, state.step - 1) }));
document.getElementById("teach-next").addEventListener("click", () => publish({ step: state.step + 1 }));
document.getElementById("teach-ask").addEventListener("click", () => {
  publish({ question: document.getElementById("teach-question").value.trim() });
});
document.getElementById("teach-reveal").addEventListener("click", async () => {
  if (!state.question) return;
  try {
    await reveal(room.code, room.teacher_key, state.question);
  } catch (e) {
    error.textContent = e.message;
  }
});
