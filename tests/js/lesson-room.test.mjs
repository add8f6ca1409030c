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
