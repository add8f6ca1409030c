/* The encoder-decoder source (a lesson figure with source = "seq2seq", and the bench's seq2seq mode):
   POST /api/seq2seq/trace for its knobs {checkpoint, source, teacher_forcing} (checkpoint: a trained
   encoder-decoder, or run:<id>, a lab run of the reverse task), and GET
   /api/seq2seq/accuracy for the checkpoint's task (accuracy against input length, every checkpoint of
   that task: with and without attention).
     trace = { kind: "seq2seq", meta: {checkpoint, task, attention, teacher_forcing, source, target,
               predicted, vocab, bos, eos, max_len, hidden_size, J, T, encoder, knobs},
               steps: [{i, input, target, aligned, energies, weights, context, context_norm, state,
               state_norm, probs, chosen, p_target, loss, correct}], summary, accuracy, T, done, version }
   view.step counts the output steps revealed (0 .. T). status: idle | loading | done | error | closed. */

import { FetchedSource } from "./fetched.js";

export const SEQ2SEQ_API = Object.freeze({ trace: "/api/seq2seq/trace", accuracy: "/api/seq2seq/accuracy" });

/* The query of GET /api/seq2seq/trace (and trace.csv) for these knobs: what the bench's exports download. */
export function seq2seqQuery(knobs, lang) {
  const q = new URLSearchParams({ checkpoint: knobs.checkpoint, source: knobs.source,
                                  teacher_forcing: String(Boolean(knobs.teacher_forcing)) });
  if (lang) q.set("lang", lang);
  return q;
}

/* Side B's checkpoint when A/B opens with nothing chosen yet: A's twin with attention switched (the
   same task's "-attention" and "-plain"), else the first other one of `names`. */
export function partnerCheckpoint(name, names) {
  const twin = name.endsWith("-attention") ? `${name.slice(0, -"-attention".length)}-plain`
    : name.endsWith("-plain") ? `${name.slice(0, -"-plain".length)}-attention` : null;
  if (twin && names.includes(twin)) return twin;
  return names.find((n) => n !== name) || name;
}

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
    // a lab run: its own line too, for the very weights just traced (run:<id>@<step>)
    if (String(meta.checkpoint).startsWith("run:")) params.set("checkpoint", meta.checkpoint);
    if (this.opts.lang) params.set("lang", this.opts.lang);
    const accuracy = await this.request(`${SEQ2SEQ_API.accuracy}?${params}`, { headers: { Accept: "application/json" } });
    if (!accuracy) return;
    this.trace.accuracy = accuracy;
    this.trace.done = true;
    this.status = "done";
    this.notify();
  }
}
