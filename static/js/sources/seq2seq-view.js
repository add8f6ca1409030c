/* What the encoder-decoder panels share (panels alignment, context, seq2seq-probs): the
   current output step from the view and the character labels. Pure functions, no DOM. */

import { showChar } from "../core/format.js";

/** The output step shown: view.step counts the outputs revealed, so step 0 shows none (-1). */
export function outputIndex(trace, view) {
  return Math.min(view.step, trace.steps.length) - 1;
}

export function key(trace, view) {
  return `${trace.version}|${outputIndex(trace, view)}`;
}

export function charLabel(c) { return showChar(c); }
