/* Trace sources: one trace for one knob set, whatever the transport, handed to subscribers as one
   object (docs/design-lessons.md, section 2):

     trace = { meta, steps[t], back[t], summary, params, done, T, nSteps, nBack, version }

   meta, steps[t], back[t] and summary are exactly the stream's meta, forward, backward and summary
   events; `version` grows with every change (figures compare it to know when to redraw).

   new TraceSource(knobs, opts)   knobs: { arch: "rnn", text: "...", ... } (strings as in a form; "" and
                                  null are left out, meaning the API's default)
     opts.stream = true           may it open the page's EventSource (only one source at a time does)
     opts.lang                    sent along so the API can word errors in the page's language
     opts.api, opts.fetch, opts.EventSource   injectable (tests)
   source.start()                 stream, or fetch /api/trace.json (when another source streams)
   source.subscribe(fn, reads=[]) fn(trace, source) on every change; returns the unsubscribe function.
                                  A reader of "params" makes a streaming source fetch /api/trace.json
                                  too (the stream does not carry the weights).
   source.trace, source.status ("idle" | "streaming" | "loading" | "done" | "error"),
   source.error                   { status: 422, detail: [...] } or { status: 0, detail: null } (network)
   source.url("json" | "csv" | "stream" | "summary")   the API's address for these knobs
   source.close()

   sourceFor(knobs, opts)         the page's registry: equal knobs share one source (reference counted);
   releaseSource(source)          the last release closes it
   fromPayload(payload)           a whole /api/trace.json body -> the same trace object as the stream's
   applyEvent(trace, name, data)  one stream event into a trace (what the stream path runs)
   emptyTrace(), knobQuery(knobs), openStreamCount()
   new CompareSource(knobs, opts) the same text through several architectures, summaries only
                                  (trace = { meta, summaries: {arch: summary}, failed: {arch: true}, ready })
*/

export const API = Object.freeze({
  stream: "/api/trace/stream",
  json: "/api/trace.json",
  params: "/api/trace/params",
  csv: "/api/trace.csv",
  summary: "/api/trace/summary",
  architectures: "/api/architectures",
});

export const ARCHS = ["rnn", "lstm", "gru", "sgru", "transformer"];
const EVENTS = ["meta", "forward", "backward", "summary", "done"];
// what the stream's summary event keeps of payload.backward (app/serialize.py::summary_event)
const SUMMARY_KEYS = ["loss", "grad_norm_before_clip", "grad_norm_after_clip", "param_grad_norm", "truncation", "cuts",
                      "truncated_vs_full", "clip_mode", "clip_threshold", "pascanu", "grad_flow_c"];
// per-step lists of payload.backward that the backward event carries as they are (when the API has them)
const BACKWARD_PER_STEP = ["grad_h_local", "grad_h_future"];

export function emptyTrace() {
  return { meta: null, steps: [], back: [], summary: null, params: null, done: false, T: 0, nSteps: 0, nBack: 0, version: 0 };
}

/* Knobs as the API's query string: empty values mean the API's default and stay out; keys sorted, so
   equal knobs give equal strings (the registry's key). */
export function knobQuery(knobs) {
  const q = new URLSearchParams();
  for (const k of Object.keys(knobs || {}).sort()) {
    const v = knobs[k];
    if (v === null || v === undefined || v === "" || v === false) continue;
    q.append(k, String(v));
  }
  return q.toString();
}

export function applyEvent(trace, name, data) {
  if (name === "meta") {
    trace.meta = data;
    trace.T = data.T;
  } else if (name === "forward") {
    if (!trace.steps[data.t]) trace.nSteps += 1;
    trace.steps[data.t] = data;
  } else if (name === "backward") {
    if (!trace.back[data.t]) trace.nBack += 1;
    trace.back[data.t] = data;
  } else if (name === "summary") {
    trace.summary = data;
  } else if (name === "done") {
    trace.done = true;
  } else {
    return trace;
  }
  trace.version += 1;
  return trace;
}

const finite = (x) => (typeof x === "number" && Number.isFinite(x) ? x : null);

/* The same rules as app/serialize.py's meta_event, backward_event and summary_event. */
export function fromPayload(payload) {
  const steps = payload.steps, T = steps.length, bw = payload.backward, first = steps[0];
  const meta = {
    knobs: payload.knobs,
    arch: payload.arch,
    vocab: payload.vocab,
    tokens: payload.tokens,
    unknown: payload.unknown ?? [],
    T,
    gates: Object.keys(first.gates || {}),
    state_shape: first.h ? [first.h.length, first.h[0].length] : null,
    overflow: payload.overflow,
  };
  // what a step reads (a character, or numbers: the lab's adding task) and the last step with a loss
  for (const key of ["input_kind", "last_loss", "inputs", "answer"]) if (payload[key] !== undefined) meta[key] = payload[key];
  if (payload.extra && payload.extra.cost) meta.cost = payload.extra.cost;  // Transformer: per-layer cost against length
  const bound = bw.pascanu && bw.pascanu.bound ? bw.pascanu.bound : null;
  const cuts = new Set(bw.cuts || []);
  const back = [];
  for (let t = 0; t < T; t++) {
    const b = {
      t,
      grad_h: bw.grad_h[t],
      grad_c: bw.grad_c === null || bw.grad_c === undefined ? null : bw.grad_c[t],
      grad_flow_from: bw.grad_flow.map((row) => row[t]),
      jacobian_norm: bw.jacobian_norm === null || bw.jacobian_norm === undefined ? null : finite(bw.jacobian_norm[t]),
      bound: bound === null ? null : finite(bound[t]),
      cut: cuts.has(t),
      overflow: Boolean(bw.overflow[t]),
    };
    for (const key of BACKWARD_PER_STEP) if (bw[key] !== undefined) b[key] = bw[key] === null ? null : bw[key][t];
    back.push(b);
  }
  const summary = { overflow: payload.overflow, grad_flow: bw.grad_flow };
  for (const k of SUMMARY_KEYS) summary[k] = bw[k];
  return { meta, steps: steps.slice(), back, summary, params: payload.params || null, done: true, T,
           nSteps: T, nBack: T, version: 1 };
}

let streaming = null;  // the one TraceSource that holds the page's EventSource
export function openStreamCount() { return streaming ? 1 : 0; }

export class TraceSource {
  constructor(knobs, opts) {
    this.knobs = { ...knobs };
    this.query = knobQuery(knobs);
    this.key = this.query;
    this.opts = { stream: true, api: API, lang: null, ...(opts || {}) };
    this.trace = emptyTrace();
    this.error = null;
    this.status = "idle";
    this.listeners = new Set();
    this.wantParams = false;
    this.paramsPending = false;
    this.es = null;
    this.abort = new AbortController();
  }

  url(kind) {
    return `${this.opts.api[kind]}?${this.query}`;
  }

  apiUrl(kind) {  // with the page's language, for the answers whose words the page shows
    const q = new URLSearchParams(this.query);
    if (this.opts.lang) q.set("lang", this.opts.lang);
    return `${this.opts.api[kind]}?${q}`;
  }

  get fetch() { return this.opts.fetch || globalThis.fetch.bind(globalThis); }

  subscribe(fn, reads) {
    this.listeners.add(fn);
    if ((reads || []).some((r) => r === "params" || String(r).startsWith("params."))) this.needParams();
    return () => this.listeners.delete(fn);
  }

  notify() {
    for (const fn of [...this.listeners]) fn(this.trace, this);
  }

  start() {
    if (this.status !== "idle") return this;
    const ES = this.opts.EventSource || globalThis.EventSource;
    if (this.opts.stream && ES && !streaming) this.openStream(ES);
    else this.fetchTrace();
    return this;
  }

  openStream(ES) {
    this.status = "streaming";
    streaming = this;
    const es = new ES(this.apiUrl("stream"));
    this.es = es;
    for (const name of EVENTS) {
      es.addEventListener(name, (e) => {
        if (this.es !== es) return;
        applyEvent(this.trace, name, JSON.parse(e.data));
        if (name === "done") { this.stopStream(); this.status = "done"; }
        this.notify();
      });
    }
    if (this.wantParams) this.needParams();
    es.onerror = () => {
      if (this.es !== es || this.trace.done) return;
      // CLOSED: refused (a 422) or gone; otherwise the browser reconnects and resumes after Last-Event-ID
      if (es.readyState === 2) { this.stopStream(); this.fetchTrace(); }
    };
  }

  stopStream() {
    if (this.es) { this.es.close(); this.es = null; }
    if (streaming === this) streaming = null;
  }

  /* The whole trace at once; also how a refused stream learns why (EventSource hides the status). */
  async fetchTrace() {
    this.status = "loading";
    let r;
    try {
      // the weights only when a figure reads them: a char model's are megabytes a classroom's wifi should not carry
      const url = this.wantParams ? this.apiUrl("json") : `${this.apiUrl("json")}&params=false`;
      r = await this.fetch(url, { headers: { Accept: "application/json" }, signal: this.abort.signal });
    } catch (err) {
      if (this.status !== "closed") this.fail(0, null);
      return;
    }
    if (this.status === "closed") return;
    if (!r.ok) {
      let detail = null;
      try { detail = (await r.json()).detail; } catch (err) { detail = null; }
      this.fail(r.status, detail);
      return;
    }
    let payload;
    try {
      payload = await r.json();
    } catch (err) {  // released (aborted) while the body was still arriving, or a cut connection
      if (this.status !== "closed") this.fail(0, null);
      return;
    }
    if (this.status === "closed") return;
    this.trace = fromPayload(payload);
    this.status = "done";
    this.notify();
  }

  async needParams() {
    this.wantParams = true;
    if (this.trace.params || this.paramsPending || this.status === "idle" || this.status === "loading") return;
    this.paramsPending = true;
    try {
      const r = await this.fetch(this.apiUrl("params"), { signal: this.abort.signal });
      if (!r.ok) return;
      this.trace.params = await r.json();
      this.trace.version += 1;
      this.notify();
    } catch (err) {
      // the figures that need the weights say so; the rest of the trace is unaffected
    } finally {
      this.paramsPending = false;
    }
  }

  fail(status, detail) {
    this.status = "error";
    this.error = { status, detail };
    this.trace.version += 1;
    this.notify();
  }

  close() {
    this.stopStream();
    this.abort.abort();
    this.status = "closed";
    this.listeners.clear();
  }
}

// ---- the page's registry: equal knobs, one source ----
const registry = new Map();  // key -> { source, refs }

export function sourceFor(knobs, opts) {
  const key = knobQuery(knobs);
  let entry = registry.get(key);
  if (!entry) {
    entry = { source: new TraceSource(knobs, opts), refs: 0 };
    registry.set(key, entry);
    entry.source.start();
  }
  entry.refs += 1;
  return entry.source;
}

export function releaseSource(source) {
  const entry = source && registry.get(source.key);
  if (!entry || entry.source !== source) return;
  entry.refs -= 1;
  if (entry.refs <= 0) {
    registry.delete(source.key);
    source.close();
  }
}

export function resetSources() {
  for (const { source } of registry.values()) source.close();
  registry.clear();
  streaming = null;
}

/* The same text through every architecture: only the summaries (a few percent of a trace each). */
export class CompareSource {
  constructor(knobs, opts) {
    this.knobs = { ...knobs };
    this.opts = { archs: ARCHS, api: API, ...(opts || {}) };
    this.trace = { meta: { arch: knobs.arch, kind: "compare" }, summaries: {}, failed: {}, ready: false, done: false,
                   T: 0, nSteps: 0, nBack: 0, version: 0 };
    this.listeners = new Set();
    this.abort = new AbortController();
    this.status = "idle";
  }

  get fetch() { return this.opts.fetch || globalThis.fetch.bind(globalThis); }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  notify() {
    this.trace.version += 1;
    for (const fn of [...this.listeners]) fn(this.trace, this);
  }

  async start() {
    if (this.status !== "idle") return this;
    this.status = "loading";
    let archs = this.opts.archs;
    try {
      const spec = await (await this.fetch(this.opts.api.architectures, { signal: this.abort.signal })).json();
      const available = new Set(spec.architectures.filter((a) => a.available).map((a) => a.arch));
      for (const a of archs) if (!available.has(a)) this.trace.failed[a] = true;
      archs = archs.filter((a) => available.has(a));
    } catch (err) {
      if (this.status === "closed") return this;
    }
    await Promise.all(archs.map((arch) => this.fetchOne(arch)));
    if (this.status === "closed") return this;
    this.trace.ready = this.trace.done = true;
    this.status = "done";
    this.notify();
    return this;
  }

  async fetchOne(arch) {
    const q = new URLSearchParams(knobQuery({ ...this.knobs, arch }));
    try {
      const r = await this.fetch(`${this.opts.api.summary}?${q}`, { signal: this.abort.signal });
      if (!r.ok) throw new Error(String(r.status));
      this.trace.summaries[arch] = await r.json();
    } catch (err) {
      this.trace.failed[arch] = true;
    }
  }

  close() {
    this.abort.abort();
    this.status = "closed";
    this.listeners.clear();
  }
}
