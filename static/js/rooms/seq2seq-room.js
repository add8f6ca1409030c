// The encoder-decoder bench (/bench?mode=seq2seq) in a classroom room (page-room.js holds what it shares
// with the lessons, the recurrent bench and the lab).
//
// Teacher: "Open a class" above the bench opens a room; the page publishes
//   {page: "bench", mode: "seq2seq", path, knobs, ab: {on, overrides}, view: {step}}
//   after each step and each change of side B. A new source string or checkpoint is a new page (the
//   knob form's GET keeps ?room=), which publishes once it has loaded.
// Student: another mode, other knobs or another side B -> the teacher's path (a page load; the URL
//   carries the step, so the device opens where the class is); the step alone -> the view store.
//   Exploring, the form and the transport are the student's own.
import { PageRoom, roomCode, roomHref, roomStyles } from "./page-room.js";

/** What a published state says differs from the encoder-decoder bench shown: "page" (load the
 *  teacher's path), "view" or null (pure). */
export function seq2seqChange(state, shown) {
  const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const ab = state.ab || { on: false, overrides: {} };
  if (!same(state.knobs, shown.knobs) || Boolean(ab.on) !== Boolean(shown.ab.on)
      || (ab.on && !same(ab.overrides, shown.ab.overrides))) return "page";
  const step = state.view?.step;
  return Number.isInteger(step) && step !== shown.view.step ? "view" : null;
}

/** The encoder-decoder bench (pages/bench-seq2seq.js's Seq2SeqBench) in a room, its bar in `slot`: teach
 *  or follow the room in ?room=, or (open: true, the teacher pressed the button there) open one now. */
export async function attachSeq2SeqRoom(bench, { slot, open = false }) {
  roomStyles();
  const shown = () => ({ knobs: { ...bench.knobs }, ab: { on: bench.ab.on, overrides: { ...bench.ab.overrides } },
    view: { step: bench.store.state.step } });
  const room = new PageRoom({
    code: roomCode(location.search) || null, root: document.body, strings: bench.t, page: "bench",
    here: (state) => state.mode === "seq2seq",
    place: (bar) => slot.replaceChildren(bar),
    state: () => {
      const q = bench.pageQuery();
      q.delete("room");
      q.delete("lang");  // each device keeps its own language (roomHref sets it)
      return { mode: "seq2seq", path: `/bench?${q}`, ...shown() };
    },
    apply: (state) => {
      const change = seq2seqChange(state, shown());
      if (change === "page") {
        const href = roomHref(state, room.code, bench.lang, location.href);
        if (href) location.assign(href);
      } else if (change === "view") {
        bench.player.pause();
        bench.store.set({ step: state.view.step });
      }
    },
  });
  window.unrolledRoom = room;  // for the browser tests and the console
  bench.changes.add(() => { if (room.teacher) room.schedule(); });
  return room.start({ open });
}
