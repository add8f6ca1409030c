/* What every fetched figure source shares (the language-model, seq2seq and shapes sources): the shape of a
   trace source (trace, status, error, subscribe, start, close), JSON requests under one AbortController,
   and a refused request's status and detail (a 422's sentences in the page's language) kept in `error`.
   A subclass sets up its trace in the constructor and does its requests in load(). */

/* The init of a JSON POST (fetchJson / request take it). */
export function postInit(body) {
  return { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
           body: JSON.stringify(body) };
}

export class FetchedSource {
  constructor(kind, knobs, opts, trace) {
    this.kind = kind;
    this.knobs = { ...knobs };
    this.opts = { lang: null, fetch: undefined, ...(opts || {}) };
    this.trace = { kind, meta: null, done: false, T: 0, nSteps: 0, nBack: 0, version: 0, ...trace };
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

  start() {
    if (this.status !== "idle") return this;
    this.load();
    return this;
  }

  /* The body of a JSON response; throws { status, detail } when refused (status 0: the network). */
  async fetchJson(url, init) {
    const doFetch = this.opts.fetch || fetch;
    let r;
    try {
      r = await doFetch(url, { ...init, signal: this.abort.signal });
    } catch (err) {
      throw Object.assign(new Error("network"), { status: 0, detail: null });
    }
    if (!r.ok) {
      let detail = null;
      try { detail = (await r.json()).detail; } catch (err) { detail = null; }
      throw Object.assign(new Error(`HTTP ${r.status}`), { status: r.status, detail });
    }
    return r.json();
  }

  /* fetchJson, or null once the source has failed (fail() says why) or was closed meanwhile. */
  async request(url, init) {
    try {
      const body = await this.fetchJson(url, init);
      return this.status === "closed" ? null : body;
    } catch (err) {
      if (this.status !== "closed") this.fail(err.status || 0, err.detail || null);
      return null;
    }
  }

  post(url, body) {
    return this.request(url, postInit(body));
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
