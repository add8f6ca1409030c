// The pure parts of a lesson page in a classroom room (static/js/rooms/lesson-room.js).
import assert from "node:assert/strict";
import test from "node:test";

import { distributionRows, roomView } from "../../static/js/rooms/lesson-room.js";

test("a room carries the view's phase, steps, layer, head and loss, nothing else", () => {
  const view = { phase: "backward", step: 4, bstep: 2, layer: 1, head: 0, loss: null, conceal: true, speed: 4 };
  assert.deepEqual(roomView(view), { phase: "backward", step: 4, bstep: 2, layer: 1, head: 0 });
});

test("a distribution's rows: most frequent first, ties by value, shares summing to 1", () => {
  const rows = distributionRows({ "0.5": 1, "2": 3, "10": 1 });
  assert.deepEqual(rows.map((r) => [r.value, r.count]), [["2", 3], ["0.5", 1], ["10", 1]]);
  assert.equal(rows.reduce((a, r) => a + r.share, 0), 1);
  assert.deepEqual(distributionRows({}), []);
});

// ---- what the lessons, the bench and the lab share (static/js/rooms/page-room.js) ----
import { roomCode, roomHref, withRoom } from "../../static/js/rooms/page-room.js";
import { benchChange } from "../../static/js/rooms/bench-room.js";
import { seq2seqChange } from "../../static/js/rooms/seq2seq-room.js";
import { followable } from "../../static/js/rooms/lab-room.js";
import { fitted, projectorLayout } from "../../static/js/rooms/projector.js";

const BASE = "http://10.0.0.5:8000/join?code=ABCDEF";

test("a room's state sends a device to the lesson, the bench or the lab, in the student's language", () => {
  assert.equal(roomHref({ page: "lesson", slug: "05-vanishing" }, "ABCDEF", "en", BASE), "/lessons/05-vanishing?room=ABCDEF&lang=en");
  assert.equal(roomHref({ page: "lesson", path: "/lessons/05-vanishing", slug: "05-vanishing" }, "ABCDEF", "ko", BASE),
    "/lessons/05-vanishing?room=ABCDEF&lang=ko");
  assert.equal(roomHref({ page: "bench", path: "/bench?arch=lstm&step=3&lang=ko&room=ZZZZZZ" }, "ABCDEF", "en", BASE),
    "/bench?arch=lstm&step=3&lang=en&room=ABCDEF");
  assert.equal(roomHref({ page: "lab", path: "/lab" }, "ABCDEF", "", BASE), "/lab?room=ABCDEF");
});

test("a room cannot send a device off the server or to a page rooms do not open", () => {
  for (const path of ["//evil.example/lab", "https://evil.example/bench", "/api/rooms", "/teach", "/lessons/../api",
                      "javascript:alert(1)", "/bench/../api/status"]) {
    assert.equal(roomHref({ page: "bench", path }, "ABCDEF", "ko", BASE), null, path);
  }
  assert.equal(roomHref({ page: "teach", step: 3 }, "ABCDEF", "ko", BASE), null);
  assert.equal(roomHref(null, "ABCDEF", "ko", BASE), null);
});

test("withRoom keeps the path, query and hash; roomCode reads ?room= upper-cased", () => {
  assert.equal(withRoom("/lessons/x?lang=ko#s2", "ABCDEF", BASE), "/lessons/x?lang=ko&room=ABCDEF#s2");
  assert.equal(roomCode("?lang=ko&room=abcdef"), "ABCDEF");
  assert.equal(roomCode("?lang=ko"), "");
});

test("a bench state: other knobs or another A/B side load #bench, a view change only moves the view", () => {
  const shown = { knobs: { arch: "rnn", text: "hello" }, ab: { on: false, overrides: {} }, view: { phase: "forward", step: 2 } };
  assert.equal(benchChange({ knobs: { arch: "lstm", text: "hello" }, view: {} }, shown), "knobs");
  assert.equal(benchChange({ knobs: shown.knobs, ab: { on: true, overrides: { arch: "gru" } }, view: {} }, shown), "knobs");
  assert.equal(benchChange({ knobs: shown.knobs, ab: { on: false, overrides: { arch: "gru" } }, view: { step: 2 } }, shown), null);
  assert.equal(benchChange({ knobs: shown.knobs, view: { phase: "forward", step: 5 } }, shown), "view");
});

test("an encoder-decoder bench state: other knobs or side B load the teacher's page, the step alone moves the view", () => {
  const knobs = { checkpoint: "seq2seq-reverse-attention", source: "attention", teacher_forcing: true };
  const shown = { knobs, ab: { on: false, overrides: {} }, view: { step: 3 } };
  assert.equal(seq2seqChange({ knobs: { ...knobs, source: "bench" }, view: { step: 3 } }, shown), "page");
  assert.equal(seq2seqChange({ knobs, ab: { on: true, overrides: { checkpoint: "seq2seq-reverse-plain" } },
    view: { step: 3 } }, shown), "page");
  assert.equal(seq2seqChange({ knobs, view: { step: 5 } }, shown), "view");
  assert.equal(seq2seqChange({ knobs, view: { step: 3 } }, shown), null);
  assert.equal(seq2seqChange({ knobs, view: { step: "5" } }, shown), null);  // not a step: nothing to apply
  // where such a state sends a device on another page: the teacher's path, the device's own language
  const state = { page: "bench", mode: "seq2seq", path: "/bench?mode=seq2seq&source=bench&step=2" };
  assert.equal(roomHref(state, "ABCDEF", "en", BASE), "/bench?mode=seq2seq&source=bench&step=2&room=ABCDEF&lang=en");
});

test("a lab state's runs are followed only with event URLs under the lab's API", () => {
  const good = { id: "a1", knobs: { arch: "rnn", steps: 100 }, urls: { events: "/api/runs/a1/events" } };
  const state = { runs: [good, { id: "b2", knobs: {}, urls: { events: "https://evil.example/x" } }, { id: 3 }, null] };
  assert.deepEqual(followable(state, "/api/runs"), [good]);
  assert.deepEqual(followable({}, "/api/runs"), []);
});

test("projector mode: every axis's ticks, the legend and the annotations get the projector's type", () => {
  const sizes = { font: 22, tick: 20 };
  const layout = { height: 400, xaxis: {}, yaxis2: {}, annotations: [{ font: { size: 12 } }, { font: { size: 30 } }], title: { text: "t" } };
  const patch = projectorLayout(layout, sizes, 520);
  assert.equal(patch.height, 520);
  assert.equal(patch["font.size"], 22);
  for (const axis of ["xaxis", "yaxis", "yaxis2"]) assert.equal(patch[`${axis}.tickfont.size`], 20);
  assert.equal(patch["annotations[0].font.size"], 20);
  assert.equal(patch["annotations[1].font.size"], 30);  // already larger: kept
  assert.ok(patch["title.font.size"] > 22);
  assert.ok(fitted({ height: 521, font: { size: 22 }, xaxis: { tickfont: { size: 20 } } }, sizes, 520));
  assert.ok(!fitted({ height: 400, font: { size: 22 }, xaxis: { tickfont: { size: 20 } } }, sizes, 520));
  assert.ok(!fitted({ height: 520, font: { size: 14 } }, sizes, 520));
});
