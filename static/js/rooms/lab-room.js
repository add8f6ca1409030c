// The training lab (/lab) in a classroom room (page-room.js holds what it shares with the lessons and
// the bench).
//
// Teacher: "Open a class" in the lab's header opens a room; the page publishes
//   {page: "lab", path, preset, shared, draft, runs: [{id, knobs, urls}]}: the configuration in the
//   form, and the runs the teacher started (their ids and knobs, never their metrics).
// Student: the form shows the teacher's configuration; the runs are the teacher's, each followed
//   read-only through its own event stream (GET /api/runs/{id}/events takes any number of listeners;
//   a follower starts nothing, so 60 students cost the server the teacher's 4 runs, not 240, and the
//   per-client limit stays each device's own). Pausing, resuming and stopping are the teacher's: the
//   follower's buttons are disabled (pages/lab.js skips runs marked `followed`), the teacher's pauses
//   arrive as the runs' own events. Exploring, a student may start runs of their own (the server's
//   per-client limit holds); following again stops them and shows the teacher's runs.
import { isLive, newRun } from "../lab/run-state.js";
import { PageRoom, openButton, roomCode, roomStyles } from "./page-room.js";

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const copy = (x) => JSON.parse(JSON.stringify(x));

/** The runs of a lab state that a page may follow: an id, knobs, and event URLs under the lab's API (pure). */
export function followable(state, api) {
  const runs = Array.isArray(state.runs) ? state.runs : [];
  return runs.filter((r) => r && typeof r.id === "string" && r.knobs && typeof r.knobs === "object"
    && r.urls && typeof r.urls.events === "string" && r.urls.events.startsWith(`${api}/`));
}

export function attachLabRoom(page) {
  roomStyles();
  const root = page.root;
  const checkedPreset = () => root.querySelector('input[name="preset"]:checked')?.value ?? null;

  /** Show these runs (the teacher's), each followed through its own events; `followed`: read-only. */
  function showRuns(runs, followed) {
    for (const run of page.runs) if (!run.followed && run.id && isLive(run)) page.control(run, "stop");
    page.clearRuns();
    const shown = runs.map((r, i) => Object.assign(newRun(i, r.knobs), { id: r.id, urls: r.urls, followed }));
    page.setRuns(shown);
    for (const run of shown) page.follow(run);
    // the teacher started runs: a follower sees them (as the teacher's own page scrolls to them)
    if (followed && shown.length && page.list.getBoundingClientRect().top > window.innerHeight / 2) {
      page.list.scrollIntoView({ block: "start" });
    }
  }

  function showConfiguration(state) {
    const radio = state.preset && root.querySelector(`input[name="preset"][value="${CSS.escape(state.preset)}"]`);
    if (radio) radio.checked = true;
    if (state.shared && Array.isArray(state.draft) && (!same(state.shared, page.shared) || !same(state.draft, page.draft))) {
      page.shared = copy(state.shared);
      page.draft = copy(state.draft);
      page.buildForm();
    }
  }

  const room = new PageRoom({
    code: roomCode(location.search) || null, root, strings: page.t, page: "lab",
    state: () => ({
      preset: checkedPreset(), shared: page.shared, draft: page.draft,
      runs: page.runs.filter((r) => r.id).map((r) => ({ id: r.id, knobs: r.knobs, urls: { events: r.urls.events, checkpoint: r.urls.checkpoint } })),
    }),
    apply: (state) => {
      showConfiguration(state);
      const runs = followable(state, page.cfg.api);
      const shown = page.runs.filter((r) => r.followed).map((r) => r.id);
      if (!same(runs.map((r) => r.id), shown) || page.runs.some((r) => !r.followed)) showRuns(runs, true);
    },
  });
  window.unrolledRoom = room;  // for the browser tests and the console

  // what the teacher changes: the preset, the form, the runs started
  for (const name of ["buildForm", "readField", "setRuns"]) {
    const own = page[name].bind(page);
    page[name] = (...args) => { const out = own(...args); room.schedule(); return out; };
  }
  const startAll = page.startAll.bind(page);
  page.startAll = async () => {
    if (room.following) await room.explore(true);  // a student's own runs: exploring, not following
    await startAll();
    room.schedule();
  };

  const teach = () => room.teach({
    state: (state) => {  // after a reload: the teacher's runs are the teacher's again
      if (state.page === "lab" && !page.runs.length) {
        showConfiguration(state);
        const runs = followable(state, page.cfg.api);
        if (runs.length) showRuns(runs, false);
      }
    },
  });
  if (room.code) return room.start({ teach });
  const header = root.querySelector(".lab-crumbs");
  if (header) openButton(header, page.t, () => room.start({ open: true, teach }));
  return room;
}
