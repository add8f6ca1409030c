/* The shapes source (a lesson figure with source = "shapes", lesson 10): for its knobs {sentence,
   sentences, labels, shape} it posts the sentence to POST /api/shapes/tag and /api/shapes/classify and
   the ragged batch to POST /api/shapes/padding, and keeps the three bodies as they came.
     trace = { kind: "shapes", meta: {sentence, chars, shape, knobs}, tag, classify, padding,
               T (the sentence's characters), nSteps, done, version }
   view.step counts the characters read (0 .. T). status: idle | loading | done | error | closed. */

export const SHAPES_API = Object.freeze({ tag: "/api/shapes/tag", classify: "/api/shapes/classify",
                                          padding: "/api/shapes/padding" });

/** The body each endpoint takes, from the figure's knobs (each endpoint forbids the others' fields). */
export function bodies(knobs) {
  const batch = { sentences: knobs.sentences };
  if (knobs.labels !== undefined && knobs.labels !== null) batch.labels = knobs.labels;
  const one = { sentence: knobs.sentence };
  return { tag: one, classify: one, padding: knobs.sentences === undefined ? {} : batch };
}

export class ShapesSource {
  constructor(knobs, opts) {
    this.kind = "shapes";
    this.knobs = { ...knobs };
    this.opts = { lang: null, fetch: undefined, ...(opts || {}) };
    this.trace = { kind: "shapes", meta: null, tag: null, classify: null, padding: null, T: 0, nSteps: 0,
                   nBack: 0, done: false, version: 0 };
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

  async post(name, body) {
    const doFetch = this.opts.fetch || fetch;
    const q = this.opts.lang ? `?lang=${encodeURIComponent(this.opts.lang)}` : "";
    const r = await doFetch(`${SHAPES_API[name]}${q}`, {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body), signal: this.abort.signal,
    });
    if (!r.ok) {
      let detail = null;
      try { detail = (await r.json()).detail; } catch (err) { detail = null; }
      throw Object.assign(new Error(`HTTP ${r.status}`), { status: r.status, detail });
    }
    return r.json();
  }

  start() {
    if (this.status !== "idle") return this;
    this.load();
    return this;
  }

  async load() {
    this.status = "loading";
    const b = bodies(this.knobs);
    let tag, classify, padding;
    try {
      [tag, classify, padding] = await Promise.all([this.post("tag", b.tag), this.post("classify", b.classify),
                                                    this.post("padding", b.padding)]);
    } catch (err) {
      if (this.status !== "closed") this.fail(err.status || 0, err.detail || null);
      return;
    }
    if (this.status === "closed") return;
    const T = tag.chars.length;
    this.trace.meta = { sentence: tag.sentence, chars: tag.chars, shape: this.knobs.shape || "many-to-one",
                        knobs: this.knobs };
    Object.assign(this.trace, { tag, classify, padding, T, nSteps: T, done: true });
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
