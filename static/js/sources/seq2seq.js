/* The encoder-decoder source (a lesson figure with source = "seq2seq", and the bench's seq2seq mode):
   POST /api/seq2seq/trace for its knobs {checkpoint, source, teacher_forcing}, and GET
   /api/seq2seq/accuracy for the checkpoint's task (accuracy against input length, every checkpoint of
   that task: with and without attention).
     trace = { kind: "seq2seq", meta: {checkpoint, task, attention, teacher_forcing, source, target,
               predicted, vocab, bos, eos, max_len, hidden_size, J, T, encoder, knobs},
               steps: [{i, input, target, aligned, energies, weights, context, context_norm, state,
               state_norm, probs, chosen, p_target, loss, correct}], summary, accuracy, T, done, version }
   view.step counts the output steps revealed (0 .. T). status: idle | loading | done | error | closed. */

export const SEQ2SEQ_API = Object.freeze({ trace: "/api/seq2seq/trace", accuracy: "/api/seq2seq/accuracy" });

export class Seq2SeqSource {
  constructor(knobs, opts) {
    this.kind = "seq2seq";
    this.knobs = { ...knobs };
    this.opts = { lang: null, fetch: undefined, ...(opts || {}) };
    this.trace = { kind: "seq2seq", meta: null, steps: [], summary: null, accuracy: null, T: 0, nSteps: 0, nBack: 0,
                   done: false, version: 0 };
    this.status = "idle";
    this.error = null;
    this.listeners = new Set();
    this.abort = new AbortController();
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  notify() {
    this.trace.version += 1;
    for (const fn of [...this.listeners]) fn(this.trace, this);
  }

  lang() { return this.opts.lang ? `lang=${encodeURIComponent(this.opts.lang)}` : ""; }

  async request(url, init) {
    const doFetch = this.opts.fetch || fetch;
    let r;
    try {
      r = await doFetch(url, { ...init, signal: this.abort.signal });
    } catch (err) {
      if (this.status !== "closed") this.fail(0, null);
      return null;
    }
    if (this.status === "closed") return null;
    if (!r.ok) {
      let detail = null;
      try { detail = (await r.json()).detail; } catch (err) { detail = null; }
      this.fail(r.status, detail);
      return null;
    }
    const body = await r.json();
    return this.status === "closed" ? null : body;
  }

  start() {
    if (this.status !== "idle") return this;
    this.load();
    return this;
  }

  async load() {
    this.status = "loading";
    const q = this.lang();
    const body = await this.request(`${SEQ2SEQ_API.trace}${q ? `?${q}` : ""}`, {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(this.knobs),
    });
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

  fail(status, detail) {
    this.status = "error";
    this.error = { status, detail };
    this.notify();
  }

  close() {
    this.abort.abort();
    this.status = "closed";
    this.listeners.clear();
  }
}
