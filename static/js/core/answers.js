// Answer functions of the lessons' predict-then-reveal questions (docs/design-lessons.md, section 5).
//
// Every `export function snake_case(trace, args, traceB)` here is an answer function a lesson.toml may
// name (app/lessons/registry.py reads these exports; helpers are camelCase). Each is pure: it reads the
// figure's live trace (the core/source.js shape: meta, steps[t], back[t], summary) for its current
// knobs and returns { value, theory?, parts? }: value the number the reveal shows (null when there is
// none, e.g. no overflow), theory the value a formula predicts where there is one, parts the numbers it
// was made of. tests/e2e/answers.py recomputes each from POST /api/trace's body (its Python twin).
//
// Step arguments: an integer t >= 0 is step t; a negative integer counts from the end (-1 = T-1);
// "last" is the last step with a loss (T-2); "first" is 0. "Top layer" is the last entry of h[layer].

export class AnswerError extends Error {}

function fail(message) { throw new AnswerError(message); }

function finite(x) { return typeof x === "number" && Number.isFinite(x); }

function lengthOf(trace) {
  const T = trace.T ?? trace.meta?.T ?? trace.steps?.length;
  if (!finite(T) || T < 2) fail("the trace is not complete");
  return T;
}

/** Step index from a lesson argument (see the top of this file). */
export function resolveStep(value, T, name = "step") {
  if (value === undefined || value === null || value === "first") return 0;
  if (value === "last") return T - 2;
  if (!Number.isInteger(value)) fail(`${name}: ${JSON.stringify(value)} is not a step`);
  const t = value < 0 ? T + value : value;
  if (t < 0 || t > T - 1) fail(`${name} = ${value} is outside 0..${T - 1}`);
  return t;
}

/** G[t][s] = ||dL_t/dh_s|| of the top layer: the summary's matrix, else the backward events' columns. */
export function gradFlow(trace) {
  const G = trace.summary?.grad_flow;
  if (Array.isArray(G) && G.length) return G;
  const T = lengthOf(trace);
  if (!trace.back || trace.back.length < T || trace.back.some((b) => !b)) fail("the backward pass has not arrived");
  return Array.from({ length: T }, (_, t) => Array.from({ length: T }, (_, s) => trace.back[s].grad_flow_from[t]));
}

/** gamma * sigma_max of the top layer (Pascanu's one-step factor), or null where it is not stated. */
export function decayFactor(trace) {
  const bound = trace.summary?.pascanu?.decay_bound;
  return Array.isArray(bound) && bound.length && finite(bound[bound.length - 1]) ? bound[bound.length - 1] : null;
}

function mean(xs) {
  const ok = xs.filter(finite);
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : null;
}

function ratio(a, b) { return finite(a) && finite(b) && b !== 0 ? a / b : null; }

// ---- the answer functions ----

/** ||dL_from/dh_to|| / ||dL_from/dh_from||; theory (gamma sigma_max)^(from - to). */
export function grad_ratio(trace, args = {}) {
  const T = lengthOf(trace);
  const from = resolveStep(args.from ?? "last", T, "from");
  const to = resolveStep(args.to ?? 0, T, "to");
  if (to > from) fail(`to (${to}) comes after from (${from}): no gradient flows forward`);
  if (from > T - 2) fail(`from = ${from}: step ${from} has no loss`);
  const G = gradFlow(trace);
  const eta = decayFactor(trace);
  const out = { value: ratio(G[from][to], G[from][from]), parts: { from, to, distance: from - to,
                                                                    own: G[from][from], reached: G[from][to] } };
  if (eta !== null) out.theory = eta ** (from - to);
  return out;
}

/** LSTM: ||dL_from/dc_to|| / ||dL_from/dh_to||, how much more of one loss's gradient reaches step `to`
 *  through the cell state than through the hidden state (summary.grad_flow_c against grad_flow). */
export function c_path_ratio(trace, args = {}) {
  const T = lengthOf(trace);
  const from = resolveStep(args.from ?? "last", T, "from");
  const to = resolveStep(args.to ?? 0, T, "to");
  if (to > from) fail(`to (${to}) comes after from (${from}): no gradient flows forward`);
  if (from > T - 2) fail(`from = ${from}: step ${from} has no loss`);
  const C = trace.summary?.grad_flow_c;
  if (!Array.isArray(C) || !C.length) fail("no cell-state gradient: the model is not an LSTM");
  const G = gradFlow(trace);
  return { value: ratio(C[from][to], G[from][to]), parts: { from, to, through_c: C[from][to], through_h: G[from][to] } };
}

/** Mean over t of ||dL_t/dh_{t-d}||, t over the steps with a loss that reach d steps back;
 *  theory: the same mean of ||dL_t/dh_t|| (gamma sigma_max)^d. */
export function grad_at_distance(trace, args = {}) {
  const T = lengthOf(trace);
  const d = args.d ?? 1;
  if (!Number.isInteger(d) || d < 0) fail(`d = ${JSON.stringify(d)} must be an integer >= 0`);
  if (d > T - 2) fail(`d = ${d}: the text has only ${T - 1} steps with a loss`);
  const G = gradFlow(trace);
  const values = [], own = [];
  for (let t = d; t <= T - 2; t++) { values.push(G[t][t - d]); own.push(G[t][t]); }
  const eta = decayFactor(trace);
  const out = { value: mean(values), parts: { d, terms: values.length } };
  if (eta !== null) out.theory = mean(own.map((g) => (finite(g) ? g * eta ** d : null)));
  return out;
}

/** Share of the gradient at h_t carried back from later losses: ||future|| / (||own|| + ||future||)
 *  (top layer; the backward events' grad_h_local / grad_h_future, else the columns of G summed). */
export function future_share(trace, args = {}) {
  const T = lengthOf(trace);
  const t = resolveStep(args.step ?? 0, T);
  const b = trace.back?.[t];
  let own, future;
  if (b && Array.isArray(b.grad_h_local) && Array.isArray(b.grad_h_future)) {
    own = b.grad_h_local[b.grad_h_local.length - 1];
    future = b.grad_h_future[b.grad_h_future.length - 1];
  } else {
    const G = gradFlow(trace);
    own = G[t][t];
    future = 0;
    for (let u = t + 1; u < T; u++) future += finite(G[u][t]) ? G[u][t] : NaN;
  }
  const value = !finite(own) || !finite(future) ? null : own + future === 0 ? 0 : future / (own + future);
  return { value, parts: { step: t, own, future } };
}

/** The probability the model gives the true next character at step t; theory: uniform 1/V. */
export function prob_of_target(trace, args = {}) {
  const T = lengthOf(trace);
  const t = resolveStep(args.step ?? 0, T);
  const step = trace.steps?.[t];
  if (!step) fail(`step ${t} has not arrived`);
  if (step.target === null || step.target === undefined) fail(`step ${t} has no next character`);
  const vocab = trace.meta.vocab;
  const p = step.probs[vocab.indexOf(step.target)];
  return { value: finite(p) ? p : null, theory: 1 / vocab.length, parts: { step: t, target: step.target } };
}

/** Share of saturated units in layer `layer` over every step: |h| > 0.95 (tanh, linear, LSTM, GRU),
 *  h < 0.05 or h > 0.95 (sigmoid), h = 0 (relu: dead units). Non-finite values are left out. */
export function saturation(trace, args = {}) {
  lengthOf(trace);
  const layer = args.layer ?? 0;
  const arch = trace.meta.arch ?? trace.meta.knobs?.arch;
  const activation = arch === "rnn" ? (trace.meta.knobs?.activation ?? "tanh") : "tanh";
  const test = { relu: (h) => h === 0, sigmoid: (h) => h < 0.05 || h > 0.95 }[activation] ?? ((h) => Math.abs(h) > 0.95);
  let hit = 0, all = 0;
  for (const step of trace.steps) {
    const h = step.h?.[layer];
    if (!h) fail(`layer ${layer}: the trace has no hidden state there`);
    for (const x of h) if (finite(x)) { all += 1; if (test(x)) hit += 1; }
  }
  return { value: all ? hit / all : null, parts: { activation, layer, saturated: hit, units: all } };
}

/** Cosine between the truncated and the full parameter gradient (null without truncation). */
export function truncated_cosine(trace) {
  const tvf = trace.summary?.truncated_vs_full;
  return { value: tvf && finite(tvf.cosine) ? tvf.cosine : null,
           parts: { norm_ratio: tvf && finite(tvf.norm_ratio) ? tvf.norm_ratio : null } };
}

/** Parameter-gradient norm after clipping over before (1 when clipping did nothing). */
export function clip_ratio(trace) {
  const s = trace.summary ?? {};
  const before = s.grad_norm_before_clip, after = s.grad_norm_after_clip;
  return { value: ratio(after, before), parts: { before, after } };
}

/** The first step whose forward or backward values overflowed (inf/NaN), or null when none did. */
export function first_overflow(trace) {
  const T = lengthOf(trace);
  for (let t = 0; t < T; t++) {
    if (trace.steps?.[t]?.overflow || trace.back?.[t]?.overflow) return { value: t, parts: { T } };
  }
  return { value: null, parts: { T } };
}

/** B over A of grad_at_distance {d}: how much more gradient the B side keeps d steps back. */
export function grad_ratio_ab(trace, args = {}, traceB = null) {
  if (!traceB) fail("grad_ratio_ab needs the B side of a compare figure");
  const a = grad_at_distance(trace, args).value, b = grad_at_distance(traceB, args).value;
  return { value: ratio(b, a), parts: { a, b, d: args.d ?? 1 } };
}

/** A's grad_ratio over B's, from one loss `from` (default the last) d steps back: how many times more of
 *  its own step's gradient the A side keeps at that distance. Each side is divided by its own
 *  ||dL_from/d·_from|| first, so two models whose gradients are taken with respect to different vectors
 *  (a Transformer's x_s, an RNN's h_s) compare as shares that survive the distance. */
export function reach_ratio_ab(trace, args = {}, traceB = null) {
  if (!traceB) fail("reach_ratio_ab needs the B side of a compare figure");
  const d = args.d ?? 1;
  if (!Number.isInteger(d) || d < 0) fail(`d = ${JSON.stringify(d)} must be an integer >= 0`);
  const side = (tr) => {
    const from = resolveStep(args.from ?? "last", lengthOf(tr), "from");
    if (d > from) fail(`d = ${d}: loss ${from} has only ${from} steps before it`);
    return grad_ratio(tr, { from, to: from - d }).value;
  };
  const a = side(trace), b = side(traceB);
  return { value: ratio(a, b), parts: { a, b, d } };
}

/** ||dL/dh_step|| of the total loss, top layer (0 at T-1, where there is no loss). */
export function grad_norm_at(trace, args = {}) {
  const T = lengthOf(trace);
  const t = resolveStep(args.step ?? -1, T);
  const b = trace.back?.[t];
  if (!b) fail(`backward step ${t} has not arrived`);
  const g = b.grad_h?.[b.grad_h.length - 1];
  return { value: finite(g) ? g : null, parts: { step: t } };
}

function lossSum(trace) {
  const T = lengthOf(trace);
  let total = 0;
  for (let t = 0; t <= T - 2; t++) {
    const L = trace.steps?.[t]?.loss;
    if (!finite(L)) return { total: null, n: T - 1 };
    total += L;
  }
  return { total, n: T - 1 };
}

/** (1/(T-1)) sum of L_t over t = 0..T-2: nats per predicted character. */
export function mean_loss(trace) {
  const { total, n } = lossSum(trace);
  return { value: total === null ? null : total / n, parts: { total } };
}

/** mean_loss of B over mean_loss of A. */
export function mean_loss_ab(trace, args = {}, traceB = null) {
  if (!traceB) fail("mean_loss_ab needs the B side of a compare figure");
  const a = mean_loss(trace).value, b = mean_loss(traceB).value;
  return { value: ratio(b, a), parts: { a, b } };
}

/** prod over t of p_t(x_{t+1}) = exp(-sum L_t): the probability of the text after its first character. */
export function sentence_prob(trace) {
  const { total } = lossSum(trace);
  return { value: total === null ? null : Math.exp(-total), parts: { total_loss: total } };
}

/** sentence_prob(B) / sentence_prob(A) = exp(sum L^A - sum L^B) (the texts may differ in length). */
export function prob_ratio_ab(trace, args = {}, traceB = null) {
  if (!traceB) fail("prob_ratio_ab needs the B side of a compare figure");
  const a = lossSum(trace).total, b = lossSum(traceB).total;
  const value = a === null || b === null ? null : Math.exp(a - b);
  return { value: finite(value) ? value : null, parts: { total_loss_a: a, total_loss_b: b } };
}

function stateGap(trace, traceB, t) {
  const ha = trace.steps?.[t]?.h, hb = traceB.steps?.[t]?.h;
  if (!ha || !hb) fail(`step ${t}: both sides need a hidden state there`);
  const a = ha[ha.length - 1], b = hb[hb.length - 1];
  if (a.length !== b.length) fail("the two sides' hidden states differ in size");
  let sum = 0;
  for (let j = 0; j < a.length; j++) {
    if (!finite(a[j]) || !finite(b[j])) return null;
    sum += (b[j] - a[j]) ** 2;
  }
  return Math.sqrt(sum);
}

/** ||h^B_to - h^A_to|| / ||h^B_from - h^A_from||, top layer: how much of the two sides' difference
 *  at step `from` is left at step `to`. */
export function state_gap_ab(trace, args = {}, traceB = null) {
  if (!traceB) fail("state_gap_ab needs the B side of a compare figure");
  const T = Math.min(lengthOf(trace), lengthOf(traceB));
  const from = resolveStep(args.from ?? 0, T, "from"), to = resolveStep(args.to ?? -1, T, "to");
  const gapFrom = stateGap(trace, traceB, from), gapTo = stateGap(trace, traceB, to);
  return { value: ratio(gapTo, gapFrom), parts: { from, to, gap_from: gapFrom, gap_to: gapTo } };
}

/** The largest one-step Jacobian norm, max over t = 1..T-1; parts.mean: their geometric mean. */
export function jacobian_max(trace) {
  const T = lengthOf(trace);
  const norms = [];
  for (let t = 1; t < T; t++) {
    const b = trace.back?.[t];
    if (!b) fail(`backward step ${t} has not arrived`);
    if (!finite(b.jacobian_norm)) return { value: null, parts: { mean: null } };
    norms.push(b.jacobian_norm);
  }
  if (!norms.length) return { value: null, parts: { mean: null } };
  const logMean = norms.reduce((acc, x) => acc + Math.log(x), 0) / norms.length;
  return { value: Math.max(...norms), parts: { mean: Math.exp(logMean) } };
}

/** Source "sample": of the written characters, the share that were the most probable entry of the
 *  distribution they were drawn from (ties: the lowest id, as the greedy rule); 1 at temperature 0. */
export function sample_argmax_share(trace) {
  const steps = trace.steps || [], vocab = trace.meta?.vocab;
  if (!trace.done || !vocab) fail("the sample has not finished");
  if (!steps.length) return { value: null, parts: { n: 0 } };
  let hits = 0;
  for (const step of steps) {
    let best = 0;
    step.probs.forEach((p, i) => { if ((p ?? -1) > (step.probs[best] ?? -1)) best = i; });
    if (vocab[best] === step.char) hits += 1;
  }
  return { value: hits / steps.length, parts: { n: steps.length } };
}

/** Source "ar": over the steps with a next character (t = 0..T-2), the share whose context the corpus
 *  never holds (count 0: the counts back off to a shorter one); 0 for tau = 0. */
export function ar_unseen_share(trace) {
  const steps = (trace.steps || []).slice(0, -1);
  if (!trace.done || !trace.meta) fail("the AR counts have not arrived");
  if (!steps.length) return { value: null, parts: { n: 0, unseen: 0 } };
  const unseen = trace.meta.tau === 0 ? 0 : steps.filter((s) => s.count === 0).length;
  return { value: unseen / steps.length, parts: { n: steps.length, unseen } };
}

/** Source "ar": the AR(tau) counts' mean -log p per predicted character over the trained model's
 *  (above 1: the counts predict this text worse); null when the counts gave a true next character 0. */
export function ar_loss_ratio(trace) {
  const s = trace.summary;
  if (!trace.done || !s) fail("the AR counts have not arrived");
  const parts = { ar_loss: s.ar_loss, rnn_loss: s.rnn_loss, ar_zero: s.ar_zero };
  return { value: s.ar_zero > 0 ? null : ratio(s.ar_loss, s.rnn_loss), parts };
}

/** Transformer: how many positions back query `step` of `layer`'s `head` puts its largest weight,
 *  step - argmax_s A[layer][head][step][s] over s <= step (ties: the earliest s). */
export function attention_lookback(trace, args = {}) {
  const T = lengthOf(trace);
  const t = resolveStep(args.step ?? -1, T);
  const layers = trace.steps[t]?.attention;
  if (!layers) fail("the trace has no attention weights (arch must be transformer)");
  const layer = args.layer ?? layers.length - 1, head = args.head ?? 0;
  if (!Number.isInteger(layer) || layer < 0 || layer >= layers.length) fail(`layer = ${layer}: the model has ${layers.length} layers`);
  if (!Number.isInteger(head) || head < 0 || head >= layers[layer].length) fail(`head = ${head}: the layer has ${layers[layer].length} heads`);
  const row = layers[layer][head];
  let best = 0;
  for (let s = 1; s <= t && s < row.length; s++) if (row[s] > row[best]) best = s;
  return { value: t - best, parts: { step: t, key: best, weight: row[best] } };
}

// ---- source "seq2seq": the encoder-decoder's trace and accuracy (sources/seq2seq.js) ----

/** Source "seq2seq": over the output characters (not EOS), the share whose largest weight a_ij sits on
 *  the source position the task copies from (reverse: J-1-i); null without attention. */
export function seq2seq_alignment_hits(trace) {
  if (!trace.meta) fail("the encoder-decoder trace has not arrived");
  const steps = (trace.steps || []).filter((s) => s.aligned !== null);
  if (!trace.meta.attention || !steps.length) return { value: null, parts: { n: steps.length, hits: 0 } };
  let hits = 0;
  for (const s of steps) {
    let best = 0;
    s.weights.forEach((w, j) => { if (w > s.weights[best]) best = j; });
    if (best === s.aligned) hits += 1;
  }
  return { value: hits / steps.length, parts: { n: steps.length, hits } };
}

/** Source "seq2seq": the share of held-out strings of input length `length` (default: the figure's
 *  source length) that checkpoint `checkpoint` (default: the figure's) gets entirely right under greedy
 *  decoding (`measure` "character": the share of characters); null when that length was not measured. */
export function seq2seq_accuracy(trace, args = {}) {
  const acc = trace.accuracy;
  if (!trace.done || !acc || !trace.meta) fail("the accuracy has not been measured");
  const name = args.checkpoint ?? trace.meta.checkpoint, n = args.length ?? trace.meta.J;
  const model = acc.models.find((m) => m.checkpoint === name);
  if (!model) fail(`${name} is not a ${acc.task} checkpoint`);
  const k = acc.lengths.indexOf(n);
  const measure = args.measure === "character" ? "character" : "sequence";
  return { value: k < 0 ? null : model[measure][k], parts: { length: n, count: acc.count } };
}

// ---- source "shapes": the tagger, the classifier and the padding demo (sources/shapes.js, lesson 10) ----

/** Source "shapes": the index of the first character the bidirectional tagger tags B (a name begins). */
function firstNameStart(tag) {
  const b = tag.tags.indexOf("B");
  return tag.bi.tags.indexOf(b);
}

/** Source "shapes": the gain p_bi - p_uni (of the tag the bidirectional tagger chose) at character `at`
 *  (default: the first character tagged B); null when the sentence has no name. */
export function shapes_name_gain(trace, args = {}) {
  const tag = trace.tag;
  if (!trace.done || !tag) fail("the tagger has not answered");
  const i = args.at ?? firstNameStart(tag);
  if (i < 0 || i >= tag.chars.length) return { value: null, parts: { at: i } };
  const k = tag.bi.tags[i];
  return { value: tag.gain[i], parts: { at: i, char: tag.chars[i], bi: tag.bi.probs[i][k], uni: tag.uni.probs[i][k] } };
}

/** Source "shapes": the distance (L2) of one sentence's last hidden state, run the way `way` (default
 *  "no_mask"), from the packed run's; the sentence is `sentence` (default: the shortest of the batch). */
export function shapes_padding_distance(trace, args = {}) {
  const p = trace.padding;
  if (!trace.done || !p) fail("the padding demo has not answered");
  let k = args.sentence;
  if (k === undefined) k = p.lengths.indexOf(Math.min(...p.lengths));
  const way = args.way ?? "no_mask";
  return { value: p[way].distance_to_packed[k], parts: { sentence: k, length: p.lengths[k], padded: p.padded_length } };
}

// ---- source "lab": a lab figure's runs (pages/lesson.js LabSource, runs as lab/run-state.js builds them) ----

function labRun(trace, index, name) {
  const runs = trace.runs || [];
  if (!trace.done) fail("the runs have not finished");
  if (!Number.isInteger(index) || index < 0 || index >= runs.length) fail(`${name} ${index} outside 0..${runs.length - 1}`);
  return runs[index];
}

/** Source "lab": run `run`'s held-out loss at its latest metrics event over the task's baseline (below 1:
 *  better than the baseline; null when the loss overflowed or no metrics arrived). */
export function lab_below_baseline(trace, args = {}) {
  const run = labRun(trace, args.run ?? 0, "run"), last = run.last;
  const heldOut = last && finite(last.held_out) ? last.held_out : null;
  const baseline = last && finite(last.baseline) ? last.baseline : run.baseline;
  return { value: ratio(heldOut, baseline), parts: { held_out: heldOut, baseline, step: last ? last.step : null } };
}

function finalAt(run, d) {
  const snaps = run.snapshots || [];
  const snap = snaps[snaps.length - 1];
  if (!snap) return { v: null, step: null };
  const i = snap.distance.indexOf(d === "far" ? snap.distance[snap.distance.length - 1] : d);
  return { v: i >= 0 && finite(snap.final[i]) ? snap.final[i] : null, step: snap.step };
}

/** Source "lab": from each run's latest snapshot, the gradient of the last loss at distance d (`final`),
 *  run_b's over run_a's (d = "far": each snapshot's largest distance); null when either is missing or
 *  not finite. */
export function lab_distance_ratio(trace, args = {}) {
  const a = finalAt(labRun(trace, args.run_a ?? 0, "run_a"), args.d ?? "far");
  const b = finalAt(labRun(trace, args.run_b ?? 1, "run_b"), args.d ?? "far");
  return { value: ratio(b.v, a.v), parts: { a: a.v, b: b.v, step_a: a.step, step_b: b.step } };
}

// ---- judging a guess (helpers, not answer functions: camelCase names with a capital) ----

/** The options of a "bins" question: the intervals between consecutive edges (TOML's inf/-inf allowed
 *  at the ends). A value v falls in [edges[i], edges[i+1]). */
export function binsOf(edges) {
  const out = [];
  for (let i = 0; i + 1 < edges.length; i++) out.push({ index: i, lo: edges[i], hi: edges[i + 1] });
  return out;
}

export function binOf(edges, value) {
  if (!finite(value)) return -1;
  for (let i = 0; i + 1 < edges.length; i++) {
    const last = i + 2 === edges.length;
    if (value >= edges[i] && (value < edges[i + 1] || (last && value === edges[i + 1]))) return i;
  }
  return -1;
}

/** Is the guess right? question: the spec ({kind, scale, range, tolerance, edges, tie}); result: an
 *  answer function's; guess: a number (number), a bin index (bins), "a" / "b" / "same" (compare).
 *  Returns { right, correct } with correct the right option (bins index, compare side) or value. */
export function judgeGuess(question, result, guess) {
  const v = result.value;
  if (question.kind === "bins") {
    const correct = binOf(question.edges, v);
    return { right: correct >= 0 && Number(guess) === correct, correct };
  }
  if (question.kind === "compare") {
    const tie = question.tie ?? 0;
    const correct = !finite(v) ? null : Math.abs(v - 1) <= tie ? "same" : v > 1 ? "b" : "a";
    return { right: correct !== null && guess === correct, correct };
  }
  if (!finite(v) || !finite(guess)) return { right: false, correct: v };
  if (question.scale === "log") {
    if (v <= 0 || guess <= 0) return { right: false, correct: v };
    return { right: Math.abs(Math.log10(guess / v)) <= (question.tolerance ?? 0.5), correct: v };
  }
  const [lo, hi] = question.range;
  return { right: Math.abs(guess - v) <= (question.tolerance ?? 0.1 * (hi - lo)), correct: v };
}

/** A log slider's position (0..1000) <-> value over [lo, hi]. */
export function sliderToValue(position, [lo, hi], scale = "linear", steps = 1000) {
  const f = Math.min(Math.max(position / steps, 0), 1);
  return scale === "log" ? 10 ** (Math.log10(lo) + f * (Math.log10(hi) - Math.log10(lo))) : lo + f * (hi - lo);
}

export function valueToSlider(value, [lo, hi], scale = "linear", steps = 1000) {
  const f = scale === "log" ? (Math.log10(value) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))
    : (value - lo) / (hi - lo);
  return Math.round(Math.min(Math.max(f, 0), 1) * steps);
}

/** The answer for one question: its function applied to the live traces. */
export function computeAnswer(name, trace, args, traceB) {
  const fn = ANSWERS[name];
  if (!fn) fail(`no answer function ${name}`);
  return fn(trace, args ?? {}, traceB ?? null);
}

export const ANSWERS = Object.freeze({
  grad_ratio, c_path_ratio, grad_at_distance, future_share, prob_of_target, saturation, truncated_cosine, clip_ratio,
  first_overflow, grad_ratio_ab, reach_ratio_ab, grad_norm_at, mean_loss, mean_loss_ab, sentence_prob, prob_ratio_ab,
  state_gap_ab, jacobian_max, sample_argmax_share, ar_unseen_share, ar_loss_ratio, lab_below_baseline,
  lab_distance_ratio, seq2seq_alignment_hits, seq2seq_accuracy,
  shapes_name_gain, shapes_padding_distance, attention_lookback,
});
