// The bench (/bench) in a classroom room (page-room.js holds what it shares with the lessons and the lab).
//
// Teacher: "Open a class" above the bench opens a room; the page publishes
//   {page: "bench", path, knobs, ab: {on, overrides}, view: {phase, step, bstep, layer, head, loss, unit}}
//   after each change of knobs, A/B side or view (pages/bench.js tells its listeners), where path is
//   the bench's permalink for those knobs and that view, so a student's device opens on them at once.
// Student: other knobs or another A/B side -> #bench is loaded for the teacher's (the same htmx swap as
//   the knob form; the class's equal knob sets cost one trace computation); the view -> the page's view
//   store, again once the trace for those knobs is in (a step past the old trace's end is clamped
//   until then). Exploring, the knob form and the transport are the student's own.
import { PageRoom, roomCode, roomStyles, roomView } from "./page-room.js";

/** What a bench's state says differs from the bench shown: "knobs" (a new load), "view" or null (pure). */
export function benchChange(state, shown) {
  const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const ab = state.ab || { on: false, overrides: {} };
  if (!same(state.knobs, shown.knobs) || Boolean(ab.on) !== Boolean(shown.ab.on)
      || (ab.on && !same(ab.overrides, shown.ab.overrides))) return "knobs";
  const view = state.view || {};
  return Object.entries(view).some(([k, v]) => shown.view[k] !== v) ? "view" : null;
}

/** The room's slot above #bench (outside it: the knob form's swaps do not take the bar away). */
export function benchRoomSlot() {
  const main = document.getElementById("bench");
  if (!main) return null;
  const slot = document.createElement("div");
  slot.className = "room-slot";
  main.before(slot);
  return slot;
}

/** The bench in a room: teach or follow the room in ?room=, or (open: true, the teacher pressed the
 *  button that pages/bench.js showed in `slot`) open a new one now. */
export async function attachBenchRoom(api, { slot = null, open = false } = {}) {
  if (!api.bench) return null;
  slot = slot || benchRoomSlot();
  if (!slot) return null;
  roomStyles();
  const page = document.body;
  const strings = api.bench.t;
  let lastBench = null, unsubTrace = null;

  const room = new PageRoom({
    code: roomCode(location.search) || null, root: page, strings, page: "bench",
    here: (state) => state.mode !== "seq2seq",  // the encoder-decoder bench's state: go to its page
    place: (bar) => slot.replaceChildren(bar),
    state: () => {
      const q = api.bench.pageQuery();
      q.delete("room");
      return { path: `/bench?${q}`, knobs: { ...api.bench.knobs }, ab: api.ab, view: roomView(api.store.state) };
    },
    apply: (state) => {
      const shown = { knobs: api.bench.knobs, ab: api.ab, view: api.store.state };
      const change = benchChange(state, shown);
      if (change === "knobs") api.load(state.knobs || {}, state.ab);
      if (change) api.store.set(state.view || {});  // kept across the swap, set again once the trace is in
    },
  });
  window.unrolledRoom = room;  // for the browser tests and the console

  // a student's bench: the teacher's view once the trace for the teacher's knobs knows its length
  const again = () => {
    const state = room.latest;
    if (!room.following || !state || !api.bench || !api.bench.trace.meta) return;
    if (benchChange(state, { knobs: api.bench.knobs, ab: api.ab, view: api.store.state }) === "view") {
      api.store.set(state.view || {});
    }
  };
  const track = () => {
    if (api.bench === lastBench) return;  // a new #bench: the knob form, or the room loading the teacher's knobs
    if (unsubTrace) unsubTrace();
    lastBench = api.bench;
    unsubTrace = lastBench ? lastBench.source.subscribe(again) : null;
  };
  track();
  api.onChange(() => {
    track();
    if (room.teacher) room.schedule();
  });

  return room.start({ open });
}
