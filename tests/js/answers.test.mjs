// node --test tests/js/answers.test.mjs: the answer functions on small traces whose answers are known.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as answers from "../../static/js/core/answers.js";

const close = (a, b, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} != ${b}`);

/** A trace in core/source.js's shape: T steps, G[t][s] = g^(t-s) for s <= t (0 above), L = 1 layer. */
function geometric(T, g, { decay = g, arch = "rnn", activation = "tanh", extra = {} } = {}) {
  const G = Array.from({ length: T }, (_, t) => Array.from({ length: T }, (_, s) => (s <= t && t < T - 1 ? g ** (t - s) : 0)));
  const vocab = ["a", "b", "c", "d"];
  const steps = Array.from({ length: T }, (_, t) => ({
    t, token: vocab[t % 4], target: t + 1 < T ? vocab[(t + 1) % 4] : null,
    probs: [0.1, 0.2, 0.3, 0.4], h: [[0.99, -0.97, 0.5, 0]], overflow: false,
    loss: t + 1 < T ? Math.log(2) : null,
  }));
  const back = Array.from({ length: T }, (_, t) => ({
    t, grad_flow_from: G.map((row) => row[t]), overflow: false, cut: false,
    grad_h: [5, t === T - 1 ? 0 : 1 + t], jacobian_norm: t === 0 ? 0 : 0.5 + t / 10,
  }));
  return {
    meta: { arch, vocab, T, knobs: { arch, activation } }, steps, back, T, nSteps: T, nBack: T, done: true,
    summary: { grad_flow: G, pascanu: { decay_bound: decay === null ? null : [decay] },
               grad_norm_before_clip: 10, grad_norm_after_clip: 2.5, truncated_vs_full: null, ...extra },
  };
}

test("every snake_case export is an answer function, and the Python registry reads the same list", () => {
  const listed = ["grad_ratio", "grad_at_distance", "future_share", "prob_of_target", "saturation",
                  "truncated_cosine", "clip_ratio", "first_overflow", "grad_ratio_ab", "grad_norm_at", "mean_loss",
                  "mean_loss_ab", "sentence_prob", "prob_ratio_ab", "state_gap_ab", "jacobian_max"];
  const exported = Object.keys(answers).filter((k) => /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(k) && typeof answers[k] === "function");
  assert.deepEqual(exported.sort(), Object.keys(answers.ANSWERS).sort());
  const source = readFileSync(new URL("../../static/js/core/answers.js", import.meta.url), "utf-8");
  const parsed = [...source.matchAll(/^export\s+function\s+([a-z][a-z0-9]*(?:_[a-z0-9]+)*)\s*\(/gm)].map((m) => m[1]);
  assert.deepEqual(parsed.sort(), exported.sort());
  for (const name of listed) assert.ok(name in answers.ANSWERS, name);
});

test("grad_ratio follows the decay and names its theory (gamma sigma_max)^(from-to)", () => {
  const trace = geometric(12, 0.8);
  const r = answers.grad_ratio(trace, { from: "last", to: 0 });
  close(r.value, 0.8 ** 10);
  close(r.theory, 0.8 ** 10);
  assert.equal(r.parts.from, 10);
  close(answers.grad_ratio(trace, { from: 5, to: 3 }).value, 0.64);
  close(answers.grad_ratio(trace, { from: -2, to: "first" }).value, 0.8 ** 10);
  assert.throws(() => answers.grad_ratio(trace, { from: -1 }), /no loss/);  // -1 is T-1
  assert.equal(answers.grad_ratio(geometric(12, 0.8, { decay: null }), {}).theory, undefined);
  assert.throws(() => answers.grad_ratio(trace, { from: 2, to: 5 }), answers.AnswerError);
  assert.throws(() => answers.grad_ratio(trace, { from: 11 }), /no loss/);
});

test("grad_ratio reads the backward events when the summary has not arrived", () => {
  const trace = geometric(8, 0.5);
  delete trace.summary.grad_flow;
  close(answers.grad_ratio(trace, { from: 6, to: 2 }).value, 0.5 ** 4);
  trace.back[3] = undefined;
  assert.throws(() => answers.grad_ratio(trace, {}), /backward pass/);
});

test("grad_at_distance is the mean over t of G[t][t-d]", () => {
  const trace = geometric(10, 0.9);
  close(answers.grad_at_distance(trace, { d: 3 }).value, 0.9 ** 3);
  close(answers.grad_at_distance(trace, { d: 3 }).theory, 0.9 ** 3);
  assert.equal(answers.grad_at_distance(trace, { d: 3 }).parts.terms, 9 - 3);
  trace.summary.grad_flow[5][2] = null;  // a non-finite entry is left out of the mean
  close(answers.grad_at_distance(trace, { d: 3 }).value, 0.9 ** 3);
  assert.throws(() => answers.grad_at_distance(trace, { d: 9 }), /steps with a loss/);
});

test("future_share uses the explicit terms, else the column of G", () => {
  const trace = geometric(5, 0.5);
  // column 0 of G: own 1, later 0.5 + 0.25 + 0.125 = 0.875
  close(answers.future_share(trace, { step: 0 }).value, 0.875 / 1.875);
  trace.back[0].grad_h_local = [9, 1];
  trace.back[0].grad_h_future = [9, 3];
  close(answers.future_share(trace, { step: 0 }).value, 0.75);  // top layer
  close(answers.future_share(trace, { step: "last" }).value, 0);  // the last loss has no future
});

test("prob_of_target reads the target's probability; theory is uniform", () => {
  const trace = geometric(6, 0.5);
  const r = answers.prob_of_target(trace, { step: 0 });  // target "b" -> 0.2
  close(r.value, 0.2);
  close(r.theory, 0.25);
  assert.throws(() => answers.prob_of_target(trace, { step: 5 }), /no next character/);
});

test("saturation counts by activation", () => {
  // h = [0.99, -0.97, 0.5, 0] at every step
  close(answers.saturation(geometric(4, 0.5)).value, 0.5);
  close(answers.saturation(geometric(4, 0.5, { activation: "relu" })).value, 0.25);
  close(answers.saturation(geometric(4, 0.5, { activation: "sigmoid" })).value, 0.75);  // 0.99, -0.97, 0
  close(answers.saturation(geometric(4, 0.5, { arch: "lstm", activation: "relu" })).value, 0.5);
  assert.throws(() => answers.saturation(geometric(4, 0.5), { layer: 2 }), /layer 2/);
});

test("clip_ratio, truncated_cosine and first_overflow", () => {
  const trace = geometric(6, 0.5, { extra: { truncated_vs_full: { cosine: 0.93, norm_ratio: 0.7 } } });
  close(answers.clip_ratio(trace).value, 0.25);
  close(answers.truncated_cosine(trace).value, 0.93);
  assert.equal(answers.truncated_cosine(geometric(6, 0.5)).value, null);
  assert.equal(answers.first_overflow(trace).value, null);
  trace.back[4].overflow = true;
  trace.steps[3].overflow = true;
  assert.equal(answers.first_overflow(trace).value, 3);
});

test("grad_ratio_ab is B's gradient at distance d over A's", () => {
  const a = geometric(10, 0.5), b = geometric(10, 0.9);
  const r = answers.grad_ratio_ab(a, { d: 4 }, b);
  close(r.value, (0.9 / 0.5) ** 4);
  assert.throws(() => answers.grad_ratio_ab(a, { d: 4 }), /B side/);
  assert.equal(answers.computeAnswer("grad_ratio_ab", a, { d: 4 }, b).value, r.value);
});

test("reach_ratio_ab divides each side by its own step first, so the two sides' scales cancel", () => {
  const a = geometric(12, 0.9), b = geometric(9, 0.5);
  for (const side of [a, b]) for (const row of side.summary.grad_flow) row.forEach((_, s) => { row[s] *= side === a ? 3 : 0.01; });
  const r = answers.reach_ratio_ab(a, { d: 5 }, b);  // from the last loss of each: 10 in A, 7 in B
  close(r.value, 0.9 ** 5 / 0.5 ** 5);
  close(r.parts.a, 0.9 ** 5);
  close(answers.reach_ratio_ab(a, { d: 2, from: 4 }, b).value, (0.9 / 0.5) ** 2);
  assert.throws(() => answers.reach_ratio_ab(a, { d: 5 }), /B side/);
  assert.throws(() => answers.reach_ratio_ab(a, { d: 8 }, b), /only 7 steps/);
  assert.throws(() => answers.reach_ratio_ab(a, { d: -1 }, b), /integer/);
  assert.equal(answers.computeAnswer("reach_ratio_ab", a, { d: 5 }, b).value, r.value);
});

test("judging: number (linear and log), bins, compare", () => {
  const lin = { kind: "number", scale: "linear", range: [0, 1] };
  assert.equal(answers.judgeGuess(lin, { value: 0.5 }, 0.58).right, true);
  assert.equal(answers.judgeGuess(lin, { value: 0.5 }, 0.7).right, false);
  const log = { kind: "number", scale: "log", range: [1e-6, 1] };
  assert.equal(answers.judgeGuess(log, { value: 1e-3 }, 2e-3).right, true);
  assert.equal(answers.judgeGuess(log, { value: 1e-3 }, 1e-2).right, false);
  assert.equal(answers.judgeGuess(log, { value: null }, 1e-2).right, false);
  const bins = { kind: "bins", edges: [-Infinity, 1e-3, 0.1, Infinity] };
  assert.equal(answers.binsOf(bins.edges).length, 3);
  assert.deepEqual(answers.judgeGuess(bins, { value: 0.05 }, 1), { right: true, correct: 1 });
  assert.equal(answers.judgeGuess(bins, { value: 0.5 }, "1").right, false);
  assert.equal(answers.binOf([0, 0.5, 1], 1), 1);  // the last edge closes the last bin
  assert.equal(answers.binOf([0, 0.5, 1], 2), -1);
  const cmp = { kind: "compare", tie: 0.1 };
  assert.equal(answers.judgeGuess(cmp, { value: 3 }, "b").right, true);
  assert.equal(answers.judgeGuess(cmp, { value: 0.2 }, "b").right, false);
  assert.equal(answers.judgeGuess(cmp, { value: 1.05 }, "same").right, true);
});

test("the log slider maps its ends and round-trips", () => {
  close(answers.sliderToValue(0, [1e-6, 1], "log"), 1e-6);
  close(answers.sliderToValue(1000, [1e-6, 1], "log"), 1);
  close(answers.sliderToValue(500, [1e-6, 1], "log"), 1e-3);
  assert.equal(answers.valueToSlider(1e-3, [1e-6, 1], "log"), 500);
  close(answers.sliderToValue(250, [0, 2]), 0.5);
});

test("future_share is 0 when both terms are 0", () => {
  const trace = geometric(5, 0.5);
  trace.back[4].grad_h_local = [0];
  trace.back[4].grad_h_future = [0];
  assert.equal(answers.future_share(trace, { step: -1 }).value, 0);
});

test("grad_norm_at reads the top layer's total gradient; -1 is the last step", () => {
  const trace = geometric(6, 0.5);
  assert.equal(answers.grad_norm_at(trace, { step: -1 }).value, 0);
  assert.equal(answers.grad_norm_at(trace, { step: 2 }).value, 3);
});

test("mean_loss, sentence_prob and their A/B ratios", () => {
  const a = geometric(6, 0.5), b = geometric(4, 0.5);
  close(answers.mean_loss(a).value, Math.log(2));
  close(answers.sentence_prob(a).value, 2 ** -5);
  close(answers.prob_ratio_ab(a, {}, b).value, 2 ** 2);  // B has two losses fewer
  b.steps.forEach((s) => { if (s.loss !== null) s.loss *= 3; });
  close(answers.mean_loss_ab(a, {}, b).value, 3);
  a.steps[1].loss = null;  // a non-finite loss
  assert.equal(answers.mean_loss(a).value, null);
  assert.equal(answers.sentence_prob(a).value, null);
});

test("state_gap_ab: the gap between the two hidden states at `to` over the gap at `from`", () => {
  const a = geometric(5, 0.5), b = geometric(5, 0.5);
  b.steps.forEach((s, t) => { s.h = [[0.99 + 2 ** -t, -0.97, 0.5, 0]]; });
  const r = answers.state_gap_ab(a, { from: 1, to: -1 }, b);
  close(r.value, 2 ** -4 / 2 ** -1);
  assert.equal(r.parts.to, 4);
});

test("jacobian_max: the largest one-step norm over t = 1..T-1, with the geometric mean", () => {
  const trace = geometric(5, 0.5);  // 0.6, 0.7, 0.8, 0.9 for t = 1..4
  const r = answers.jacobian_max(trace);
  close(r.value, 0.9);
  close(r.parts.mean, (0.6 * 0.7 * 0.8 * 0.9) ** 0.25);
});

test("sample_argmax_share: the share of written characters that were the top candidate (ties: lowest id)", () => {
  const trace = { done: true, meta: { vocab: ["a", "b", "c"] }, steps: [
    { char: "b", probs: [0.2, 0.5, 0.3] }, { char: "a", probs: [0.4, 0.4, 0.2] }, { char: "b", probs: [0.4, 0.4, 0.2] },
    { char: "c", probs: [0.6, 0.1, 0.3] }] };
  const r = answers.sample_argmax_share(trace);
  close(r.value, 0.5);
  assert.equal(r.parts.n, 4);
  assert.throws(() => answers.sample_argmax_share({ ...trace, done: false }), /not finished/);
});

test("ar_unseen_share counts the contexts the corpus never held, over the steps with a next character", () => {
  const steps = [{ count: 3 }, { count: 0 }, { count: 0 }, { count: 5 }, { count: 0 }];  // the last has no next
  close(answers.ar_unseen_share({ done: true, meta: { tau: 4 }, steps }).value, 0.5);
  assert.equal(answers.ar_unseen_share({ done: true, meta: { tau: 0 }, steps }).value, 0);
});

test("ar_loss_ratio: counts' mean loss over the model's, null after a zero probability", () => {
  close(answers.ar_loss_ratio({ done: true, summary: { ar_loss: 3, rnn_loss: 2, ar_zero: 0 } }).value, 1.5);
  assert.equal(answers.ar_loss_ratio({ done: true, summary: { ar_loss: null, rnn_loss: 2, ar_zero: 2 } }).value, null);
});

test("the lesson page's shuffle is seeded and keeps the characters", async () => {
  const { shuffleText, progressLine, readProgress } = await import("../../static/js/pages/lesson.js");
  const text = "오늘 아침에는 비가 왔다.";
  const a = shuffleText(text, 1);
  assert.equal(a, shuffleText(text, 1));
  assert.notEqual(a, text);
  assert.notEqual(shuffleText(text, 2), a);
  assert.deepEqual([...a].sort(), [...text].sort());
  assert.equal(shuffleText("aaa", 3), "aaa");
  const strings = { index_not_started: "new", index_finished: "done", index_progress: "{seen}/{total} {answered}/{questions}" };
  assert.equal(progressLine({ seen: [], answered: {} }, ["see", "x"], ["q"], strings), "new");
  assert.equal(progressLine({ seen: ["see"], answered: {} }, ["see", "x"], ["q"], strings), "1/2 0/1");
  assert.equal(progressLine({ seen: ["see", "x"], answered: { q: {} } }, ["see", "x"], ["q"], strings), "done");
  const storage = { getItem: () => "{broken" };
  assert.deepEqual(readProgress(storage, "01-x"), { seen: [], answered: {} });
});

test("the sample and ar panels are pure: text so far, ranked candidates, the true next character kept", async () => {
  const sample = await import("../../static/js/panels/sample.js");
  const ar = await import("../../static/js/panels/ar.js");
  const trace = { version: 1, meta: { vocab: ["a", "b", "<"], prompt: "x<y" }, steps: [
    { t: 0, char: "b", probs: [0.3, 0.7, 0] }, { t: 1, char: "<", probs: [0.1, 0.1, 0.8] }] };
  const strings = { lesson_sample_prompt: "p", lesson_sample_start: "s", lesson_sample_dist: "d {n}",
                    lesson_sample_describe: "{n} {char} {p} {top} {ptop}" };
  const html = sample.figure(trace, { step: 2 }, strings).html;
  assert.ok(html.includes("x&lt;y") && html.includes('<mark class="sample-current">&lt;</mark>'));
  assert.equal(sample.describe(trace, { step: 1 }, strings), "1 b 0.700 b 0.700");
  assert.deepEqual(sample.ranked([0.2, 0.5, 0.2], ["a", "b", "c"]).map((c) => c.char), ["b", "a", "c"]);
  const vocab = Array.from({ length: 20 }, (_, i) => String.fromCharCode(97 + i));
  const step = { probs: vocab.map((_, i) => (i < 12 ? 0.08 : 0.005)), rnn: { probs: vocab.map(() => 0.05) }, target: "t" };
  const ids = ar.candidates(step, vocab);
  assert.equal(ids.length, ar.TOP);
  assert.ok(ids.includes(vocab.indexOf("t")));
});
