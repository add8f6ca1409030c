/* Text a trained character model writes, one sampled character at a time: the prompt, the characters
   written up to the view's step (the current one marked), and the distribution the current one was
   drawn from (after temperature and top-k), its candidates ranked. Reads an LMSource "sample" trace
   (static/js/pages/lesson.js): { meta: { vocab, prompt, length }, steps: [{ t, char, probs }] }.
   Returns { html }; the colours are CSS classes of static/css/lesson.css (concepts.css variables). */

import { escapeHtml, fmt, num, showChar } from "../core/format.js";

export const id = "sample";
export const reads = ["meta", "steps"];
export const archs = ["sample"];
export const TOP = 8;

/** How many written characters the view shows (0..steps received). */
export function shownCount(trace, view) {
  return Math.max(0, Math.min(view.step, trace.steps.length));
}

export function key(trace, view) {
  return `${trace.version}|${shownCount(trace, view)}`;
}

/** The distribution's candidates, most probable first (ties: the lower id, as the greedy rule). */
export function ranked(probs, vocab, n = TOP) {
  return probs.map((p, i) => ({ i, p: p ?? 0, char: vocab[i] }))
    .sort((a, b) => b.p - a.p || a.i - b.i).slice(0, n);
}

/** The ranked candidates, the drawn character always among them (in its place, or last). */
export function candidates(step, vocab, n = TOP) {
  const out = ranked(step.probs, vocab, n);
  if (!out.some((c) => c.char === step.char)) {
    const i = vocab.indexOf(step.char);
    out[out.length - 1] = { i, p: step.probs[i] ?? 0, char: step.char };
  }
  return out;
}

function visible(text) {
  return escapeHtml(text).replace(/\n/g, "↵\n");
}

export function figure(trace, view, strings) {
  const meta = trace.meta, k = shownCount(trace, view);
  const written = trace.steps.slice(0, k).map((s) => s.char);
  const current = k ? written[k - 1] : null;
  const text = `<p class="sample-text" lang="${escapeHtml(strings.lang || "")}">`
    + `<span class="sample-prompt" title="${escapeHtml(strings.lesson_sample_prompt)}">${visible(meta.prompt || "")}</span>`
    + `<span class="sample-written">${visible(written.slice(0, -1).join(""))}</span>`
    + (current === null ? `<span class="sample-caret">▏</span>` : `<mark class="sample-current">${visible(current)}</mark>`)
    + `</p>`;
  if (!k) return { html: `<div class="sample-panel">${text}<p class="sample-hint">${escapeHtml(strings.lesson_sample_start)}</p></div>` };
  const step = trace.steps[k - 1];
  const shown = candidates(step, meta.vocab);
  const top = Math.max(shown[0].p, 1e-12);  // bars against the likeliest candidate; the number says the value
  const rows = shown.map((c) => {
    const drawn = c.char === current ? " is-drawn" : "";
    return `<li class="sample-candidate${drawn}"><span class="sample-char">${escapeHtml(showChar(c.char))}</span>`
      + `<span class="sample-bar"><span style="width:${((100 * c.p) / top).toFixed(1)}%"></span></span>`
      + `<span class="sample-p">${num(c.p)}</span></li>`;
  }).join("");
  const caption = fmt(strings.lesson_sample_dist, { n: k });
  return { html: `<div class="sample-panel">${text}<p class="sample-caption">${escapeHtml(caption)}</p>`
                 + `<ol class="sample-dist">${rows}</ol></div>` };
}

export function describe(trace, view, strings) {
  const k = shownCount(trace, view);
  if (!trace.meta) return strings.lesson_sample_waiting;
  if (!k) return strings.lesson_sample_start;
  const step = trace.steps[k - 1], vocab = trace.meta.vocab;
  const top = ranked(step.probs, vocab, 1)[0];
  return fmt(strings.lesson_sample_describe, {
    n: k, char: showChar(step.char), p: num(step.probs[vocab.indexOf(step.char)]), top: showChar(top.char), ptop: num(top.p),
  });
}
