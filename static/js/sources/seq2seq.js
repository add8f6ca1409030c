/* The encoder-decoder source (a lesson figure with source = "seq2seq", and the bench's seq2seq mode):
   POST /api/seq2seq/trace for its knobs {checkpoint, source, teacher_forcing}, and GET
   /api/seq2seq/accuracy for the checkpoint's task (accuracy against input length, every checkpoint of
   that task: with and without attention).
     trace = { kind: "seq2seq", meta: {checkpoint, task, attention, teacher_forcing, source, target,
               predicted, vocab, bos, eos, max_len, hidden_size, J, T, encoder, knobs},
               steps: [{i, input, target, aligned, energies, weights, context, context_norm, state,
               state_norm, probs, chosen, p_target, loss, correct}], summary, accuracy, T, done, version }
   view.step counts the output steps revealed (0 .. T). status: idle | loading | done | error | closed. */

import { FetchedSource } from "./fetched.js";

export const SEQ2SEQ_API = Object.freeze({ trace: "/api/seq2seq/trace", accuracy: "/api/seq2seq/accuracy" });

export class Seq2SeqSource extends FetchedSource {
  constructor(knobs, opts) {
    super("seq2seq", knobs, opts, { steps: [], summary: null, accuracy: null });
  }

  lang() { return this.opts.lang ? `lang=${encodeURIComponent(this.opts.lang)}` : ""; }

  async load() {
    this.status = "loading";
    const q = this.lang();
    const body = await this.post(`${SEQ2SEQ_API.trace}${q ? `?${q}` : ""}`, this.knobs);
    if (!body) return;
    const { steps, summary, ...meta } = body;
    this.trace.meta = { ...meta, knobs: this.knobs };
    Object.assign(this.trace, { steps, summary, T: steps.length, nSteps: steps.length });
    this.notify();
    const params = new URLSearchParams({ task: meta.task });
    if (this.opts.lang) params.set("lang", this.opts.lang);
    const accuracy = await this.request(`${SEQ2SEQ_API.accuracy}?${params}`, { headers: { Accept: "application/json" } });
    if (!accuracy) return;
    this.trace.accuracy = accuracy;
    this.trace.done = true;
    this.status = "done";
    this.notify();
  }
}
