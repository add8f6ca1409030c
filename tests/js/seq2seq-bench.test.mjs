/* The bench's seq2seq mode, its pure parts: the export query of a knob set and side B's default
   checkpoint (A's twin with attention switched). */
import assert from "node:assert/strict";
import { test } from "node:test";

import { partnerCheckpoint, seq2seqQuery } from "../../static/js/sources/seq2seq.js";

const NAMES = ["seq2seq-reverse-attention", "seq2seq-reverse-plain", "seq2seq-swap-attention"];

test("side B opens on A's twin with attention switched, else on another checkpoint", () => {
  assert.equal(partnerCheckpoint("seq2seq-reverse-attention", NAMES), "seq2seq-reverse-plain");
  assert.equal(partnerCheckpoint("seq2seq-reverse-plain", NAMES), "seq2seq-reverse-attention");
  assert.equal(partnerCheckpoint("seq2seq-swap-attention", NAMES), "seq2seq-reverse-attention");  // no swap-plain
  assert.equal(partnerCheckpoint("run:abc", NAMES), "seq2seq-reverse-attention");
  assert.equal(partnerCheckpoint("only", ["only"]), "only");
});

test("the export query holds the three knobs and the language", () => {
  const q = seq2seqQuery({ checkpoint: "run:x1", source: "abc", teacher_forcing: false }, "ko");
  assert.equal(q.toString(), "checkpoint=run%3Ax1&source=abc&teacher_forcing=false&lang=ko");
  assert.equal(seq2seqQuery({ checkpoint: "c", source: "s", teacher_forcing: true }).get("teacher_forcing"), "true");
});
