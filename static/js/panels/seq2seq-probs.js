/* The decoder's distribution over the next character at the current output step (BOS, EOS and a-z),
   the target marked, the chosen character in the current colour. Reads a Seq2SeqSource trace. */

import { fmt, sig } from "../core/format.js";
import { baseLayout, centerNote } from "./common.js";
import { charLabel, key as stepKey, outputIndex } from "../sources/seq2seq-view.js";

export const id = "seq2seq-probs";
export const reads = ["meta", "steps"];
export const archs = ["seq2seq"];
export const key = stepKey;

export function figure(trace, view, strings, theme, box) {
  const m = trace.meta;
  const i = m ? outputIndex(trace, view) : -1;
  if (i < 0) {
    return { data: [], layout: baseLayout(theme, { height: 300, xaxis: { visible: false }, yaxis: { visible: false },
      annotations: m ? [centerNote(fmt(strings.s2s_step, { i: 0, n: trace.T }), theme, box, "muted")] : [] }) };
  }
  const s = trace.steps[i];
  const colours = m.vocab.map((c) => theme.colour(c === s.target ? "target" : c === s.chosen ? "current" : "prob"));
  return {
    data: [{ type: "bar", x: m.vocab.map(charLabel), y: s.probs, marker: { color: colours },
             hovertemplate: "%{x}: %{y:.3f}<extra></extra>" }],
    layout: baseLayout(theme, {
      height: 320, margin: { l: 60, r: 16, t: 40, b: 50 },
      xaxis: { type: "category", tickangle: 0, fixedrange: true, tickfont: { size: (box?.width || 800) < 560 ? 10 : 15 } },
      yaxis: { title: { text: strings.s2s_probs }, range: [0, 1], fixedrange: true },
      // the line under the plot says the same; inside the plot only where it fits on one line
      annotations: (box?.width || 800) < 600 ? [] : [{ xref: "paper", yref: "paper", x: 0, y: 1.02, xanchor: "left",
        yanchor: "bottom", showarrow: false, font: { size: 15 }, text: describe(trace, view, strings) }],
    }),
  };
}

export function describe(trace, view, strings) {
  const m = trace.meta;
  const i = m ? outputIndex(trace, view) : -1;
  if (i < 0) return "";
  const s = trace.steps[i];
  return fmt(strings.s2s_probs_desc, { i, chosen: charLabel(s.chosen), target: charLabel(s.target), p: sig(s.p_target, 3),
                                       loss: sig(s.loss, 3) });
}
