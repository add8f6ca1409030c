import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { CompareSource, TraceSource, fromPayload, knobQuery, openStreamCount, releaseSource, resetSources,
         sourceFor } from "../../static/js/core/source.js";
import { FIXTURES, close, fixture, streamed } from "./helpers.mjs";

afterEach(() => resetSources());

test("fromPayload builds the same trace as the recorded stream, for every architecture", () => {
  for (const name of FIXTURES) {
    const a = fromPayload(fixture(name).payload), b = streamed(name);
    assert.ok(a.params && a.params.weight_ih_l0 || a.params["embedding.weight"], `${name}: params kept`);
    for (const k of ["meta", "steps", "back", "summary"]) {
      const diff = close(a[k], b[k], 1e-6, `${name}.${k}`);
      assert.equal(diff, null, diff);
    }
    assert.equal(a.T, b.T);
    assert.equal(a.nSteps, b.nSteps);
    assert.equal(a.nBack, b.nBack);
    assert.equal(a.done, true);
    assert.equal(b.done, true);
  }
});

test("null stays null: an overflowing trace keeps its gaps and flags", () => {
  const t = fromPayload(fixture("rnn-overflow").payload);
  assert.equal(t.steps[51].overflow, true);
  assert.equal(t.back[0].grad_h[0], null);
  assert.equal(t.back[0].overflow, true);
});

test("knobQuery drops empty knobs and sorts, so equal knobs give equal keys", () => {
  assert.equal(knobQuery({ text: "ab c", arch: "rnn", truncation: "", spectral_norm: null }), "arch=rnn&text=ab+c");
  assert.equal(knobQuery({ arch: "rnn", text: "x" }), knobQuery({ text: "x", arch: "rnn" }));
});

// ---- transports, with a fake EventSource and fetch ----

class FakeES {
  static opened = [];
  constructor(url) { this.url = url; this.listeners = {}; this.readyState = 1; FakeES.opened.push(this); }
  addEventListener(name, fn) { (this.listeners[name] ||= []).push(fn); }
  emit(name, data) { for (const fn of this.listeners[name] || []) fn({ data: JSON.stringify(data) }); }
  close() { this.readyState = 2; this.closed = true; }
}

function fakeFetch(routes) {
  const calls = [];
  const fn = async (url) => {
    calls.push(url);
    for (const [prefix, answer] of Object.entries(routes)) {
      if (url.startsWith(prefix)) {
        const { status = 200, body } = typeof answer === "function" ? answer(url) : answer;
        return { ok: status < 400, status, json: async () => body };
      }
    }
    return { ok: false, status: 404, json: async () => ({}) };
  };
  fn.calls = calls;
  return fn;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test("one EventSource per page: the first source streams, the others fetch", async () => {
  FakeES.opened = [];
  const f = fixture("rnn-tanh");
  const fetch = fakeFetch({ "/api/trace.json": { body: f.payload } });
  const a = sourceFor({ arch: "rnn", text: "hello" }, { EventSource: FakeES, fetch });
  const b = sourceFor({ arch: "lstm", text: "hello" }, { EventSource: FakeES, fetch });
  const again = sourceFor({ text: "hello", arch: "rnn" }, { EventSource: FakeES, fetch });
  assert.equal(again, a, "equal knobs share one source");
  assert.equal(FakeES.opened.length, 1);
  assert.equal(openStreamCount(), 1);
  assert.equal(a.status, "streaming");
  assert.equal(b.status, "loading");
  await tick();
  assert.equal(b.status, "done");
  assert.equal(b.trace.T, 5);
  // the stream delivers its events; "done" closes it and frees the page's one stream
  let seen = 0;
  a.subscribe(() => { seen += 1; });
  for (const [name, data] of f.events) FakeES.opened[0].emit(name, data);
  assert.equal(seen, f.events.length);
  assert.equal(a.trace.done, true);
  assert.equal(FakeES.opened[0].closed, true);
  assert.equal(openStreamCount(), 0);
  assert.equal(a.trace.params, null, "the stream carries no weights");
  releaseSource(again);
  assert.equal(a.status, "done", "still held once");
  releaseSource(a);
  assert.equal(a.status, "closed");
});

test("a reader of params makes a streaming source fetch the weights", async () => {
  FakeES.opened = [];
  const f = fixture("gru");
  const fetch = fakeFetch({ "/api/trace/params": { body: f.payload.params } });
  const s = new TraceSource({ arch: "gru", text: "hello" }, { EventSource: FakeES, fetch }).start();
  s.subscribe(() => {}, ["meta", "steps"]);
  assert.equal(fetch.calls.length, 0);
  s.subscribe(() => {}, ["steps", "params"]);
  await tick();
  assert.deepEqual(fetch.calls.map((u) => u.split("?")[0]), ["/api/trace/params"], "only the weights");
  assert.ok(s.trace.params.weight_hh_l0);
  s.close();
});

test("a fetching source leaves the weights out unless a figure reads them", async () => {
  FakeES.opened = [];
  const f = fixture("rnn-tanh");
  const fetch = fakeFetch({ "/api/trace.json": { body: f.payload } });
  const light = new TraceSource({ arch: "rnn", text: "hello" }, { stream: false, fetch });
  light.subscribe(() => {}, ["steps"]);
  light.start();
  await tick();
  assert.match(fetch.calls[0], /[?&]params=false(&|$)/);
  const heavy = new TraceSource({ arch: "rnn", text: "hello", seed: 3 }, { stream: false, fetch });
  heavy.subscribe(() => {}, ["params"]);
  heavy.start();
  await tick();
  assert.doesNotMatch(fetch.calls[1], /params=false/);
  light.close();
  heavy.close();
});

test("a refused stream reads the API's 422 and reports it", async () => {
  FakeES.opened = [];
  const detail = [{ type: "value_error", loc: ["query", "layers"], msg: "layers: gru takes 1 to 3 layers" }];
  const fetch = fakeFetch({ "/api/trace.json": { status: 422, body: { detail } } });
  const s = new TraceSource({ arch: "gru", layers: 4, text: "hi" }, { EventSource: FakeES, fetch, lang: "ko" }).start();
  const es = FakeES.opened[0];
  es.readyState = 2;
  es.onerror();
  await tick();
  assert.equal(s.status, "error");
  assert.deepEqual(s.error, { status: 422, detail });
  assert.match(fetch.calls[0], /lang=ko/);
  assert.equal(openStreamCount(), 0);
});

test("the compare source fetches one summary per available architecture", async () => {
  const spec = { architectures: ["rnn", "lstm", "gru", "transformer"].map((arch) => ({ arch, available: arch !== "transformer" })) };
  const summary = fixture("rnn-tanh").events.find(([n]) => n === "summary")[1];
  const fetch = fakeFetch({ "/api/architectures": { body: spec }, "/api/trace/summary": { body: summary } });
  const c = new CompareSource({ arch: "lstm", text: "hello" }, { fetch });
  await c.start();
  assert.equal(c.trace.ready, true);
  assert.deepEqual(Object.keys(c.trace.summaries).sort(), ["gru", "lstm", "rnn"]);
  assert.equal(c.trace.failed.transformer, true);
  assert.ok(fetch.calls.some((u) => u.includes("arch=gru")));
});
