/* Lesson 10's JS: ShapesSource posts a figure's knobs to the three shapes endpoints and keeps their
   bodies (recorded from the API by tests/js/shapes/record.py); the panels shape-graph, tags, classify
   and padding draw those numbers at every step in both languages; the shapes answers read them. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { shapes_name_gain, shapes_padding_distance } from "../../static/js/core/answers.js";
import * as classify from "../../static/js/panels/classify.js";
import * as padding from "../../static/js/panels/padding.js";
import * as graph from "../../static/js/panels/shape-graph.js";
import * as tags from "../../static/js/panels/tags.js";
import { bodies, ShapesSource } from "../../static/js/sources/shapes.js";
import { ROOT, strings, theme } from "./helpers.mjs";

const ko = strings("ko"), en = strings("en");
const recorded = (name) => JSON.parse(readFileSync(join(ROOT, "tests", "js", "shapes", `${name}.json`), "utf8"));

async function traceOf(name, knobs) {
  const rec = recorded(name);
  const asked = [];
  const fetch = async (url, init) => {
    asked.push([url, init.method, JSON.parse(init.body)]);
    const way = url.split("?")[0].split("/").pop();
    return { ok: true, status: 200, json: async () => rec[way] };
  };
  const source = new ShapesSource(knobs || rec.knobs, { lang: "ko", fetch });
  const done = new Promise((resolve) => source.subscribe((trace) => { if (trace.done) resolve(trace); }));
  source.start();
  return { trace: await done, rec, asked };
}

test("the source posts each endpoint only its own fields", async () => {
  const { trace, rec, asked } = await traceOf("unknown");
  const byUrl = Object.fromEntries(asked.map(([url, method, body]) => [url, [method, body]]));
  assert.deepEqual(byUrl["/api/shapes/tag?lang=ko"], ["POST", { sentence: rec.knobs.sentence }]);
  assert.deepEqual(byUrl["/api/shapes/classify?lang=ko"], ["POST", { sentence: rec.knobs.sentence }]);
  assert.deepEqual(byUrl["/api/shapes/padding?lang=ko"], ["POST", { sentences: rec.knobs.sentences }]);
  assert.equal(trace.T, [...rec.knobs.sentence].length);
  assert.equal(trace.meta.shape, "deep");
  assert.deepEqual(bodies({ sentence: "a" }).padding, {});  // no batch given: the server's default batch
});

test("an API error is kept with its detail", async () => {
  const fetch = async () => ({ ok: false, status: 422, json: async () => ({ detail: [{ loc: ["body", "sentence"] }] }) });
  const source = new ShapesSource({ sentence: "" }, { fetch });
  const failed = new Promise((resolve) => source.subscribe(() => resolve()));
  source.start();
  await failed;
  assert.equal(source.status, "error");
  assert.deepEqual(source.error, { status: 422, detail: [{ loc: ["body", "sentence"] }] });
});

test("tags draws, per revealed character, the API's probabilities of the bi tagger's tag and the gain", async () => {
  const { trace, rec } = await traceOf("harry");
  const tag = rec.tag;
  for (const step of [0, 1, 18, trace.T]) {
    const fig = tags.figure(trace, { step }, en, theme, { width: 900, height: 400 });
    const [uni, bi, gain] = fig.data;
    tag.chars.forEach((_, i) => {
      const k = tag.bi.tags[i];
      assert.equal(uni.y[i], i < step ? tag.uni.probs[i][k] : null);
      assert.equal(bi.y[i], i < step ? tag.bi.probs[i][k] : null);
      assert.equal(gain.y[i], i < step ? tag.gain[i] : null);
    });
    const shaded = fig.layout.shapes.filter((s) => s.type === "rect").map((s) => s.x0 + 0.5);
    assert.deepEqual(shaded, tag.bi.tags.map((k, i) => (k !== 0 && i < step ? i : -1)).filter((i) => i >= 0));
  }
  // the measured case: at "H" the bi tagger is sure of B, the uni tagger much less so
  assert.ok(tag.bi.probs[0][1] > 0.9 && tag.uni.probs[0][1] < 0.7);
  assert.match(tags.describe(trace, { step: 1 }, en), /Character 0 'H': the bidirectional tagger gives B 0\.98/);
});

test("an unseen character shows as ? on the axis", async () => {
  const { trace, rec } = await traceOf("unknown");
  const fig = tags.figure(trace, { step: trace.T }, ko, theme, { width: 1200, height: 400 });
  const i = rec.tag.unknown[0];
  assert.equal(fig.layout.xaxis.ticktext[fig.layout.xaxis.tickvals.indexOf(i)], "?");
});

test("classify shows p(name) after each character, the last one the classifier's answer", async () => {
  const { trace, rec } = await traceOf("harry");
  const c = rec.classify;
  const fig = classify.figure(trace, { step: 5 }, ko, theme, { width: 390, height: 400 });
  assert.deepEqual(fig.data[0].y, c.p_name.map((p, i) => (i < 5 ? p : null)));
  assert.deepEqual(fig.data[2].y, [c.p_name[4]]);
  assert.ok(fig.layout.xaxis.tickvals.length < c.chars.length);  // a phone gets fewer ticks
  assert.match(classify.describe(trace, { step: trace.T }, en), new RegExp(`answer: p\\(names a person\\) = ${String(Number(c.p_final.toPrecision(3)))}`));
});

test("padding draws the batch and, per sentence and way, the API's distances and losses", async () => {
  const { trace, rec } = await traceOf("unknown");
  const p = rec.padding;
  const fig = padding.figure(trace, { step: 20 }, en, theme, { width: 900, height: 600 });
  assert.deepEqual(fig.data[0].z, p.lengths.map((n) => [...Array(p.padded_length).keys()].map((j) => (j < n ? 1 : 0))));
  for (const [w, way] of padding.WAYS.entries()) {
    assert.deepEqual(fig.data[1 + 2 * w].y, p[way].distance_to_packed);
    assert.deepEqual(fig.data[2 + 2 * w].y, p[way].loss);
  }
  assert.equal(fig.data[0].text[0][p.lengths[0]], "PAD");
  // the short sentence reads PAD at t = 20: without a mask its last state moves, with the mask it does not
  assert.ok(p.no_mask.distance_to_packed[0] > 0.5 && p.mask.distance_to_packed[0] < 1e-4);
  assert.match(padding.describe(trace, { step: 20 }, en), /t = 20: 1 sentences still read real characters, 1 read PAD/);
});

test("the shape graph draws each shape's nodes, redrawn when the shape changes", async () => {
  const counts = { "many-to-one": [5, 5, 1], "one-to-many": [1, 5, 5], "many-to-many": [5, 5, 5],
                   "encoder-decoder": [3, 5, 2], bidirectional: [5, 10, 5], deep: [5, 10, 5] };
  const seen = new Set();
  for (const [shape, [x, h, y]] of Object.entries(counts)) {
    const { trace } = await traceOf("harry", { ...recorded("harry").knobs, shape });
    for (const lang of [ko, en]) {
      const { html } = graph.figure(trace, { step: 2 }, lang, theme);
      assert.doesNotMatch(html, /undefined|NaN|style=|on[a-z]+=|<script/);
      const count = (re) => (html.match(re) || []).length;
      const inputs = count(/>x[₀-₉]+</g), states = count(/>[→←]?h[¹²]?[₀-₉]+</g), outputs = count(/>y[₀-₉]+</g);
      assert.deepEqual([inputs, states, outputs], [x, h, y], shape);
      assert.equal(count(/stroke-width="4"/g), (x >= 2 ? 1 : 0) + h / 5 + (y >= 5 ? 1 : 0), shape);  // column 2 outlined
      assert.ok(graph.describe(trace, {}, lang).length > 20);
    }
    seen.add(graph.key(trace, { step: 2 }));
  }
  assert.equal(seen.size, 6);
});

test("every shapes panel draws every step in both languages with no undefined text", async () => {
  for (const name of ["harry", "unknown"]) {
    const { trace } = await traceOf(name);
    for (const lang of [ko, en]) {
      for (let step = 0; step <= trace.T; step += 1) {
        for (const panel of [tags, classify, padding, graph]) {
          const fig = panel.figure(trace, { step }, lang, theme, { width: 390, height: 400 });
          const text = JSON.stringify(fig) + panel.describe(trace, { step }, lang);
          assert.doesNotMatch(text, /undefined|NaN/, `${panel.id} ${name} step ${step}`);
        }
      }
    }
  }
});

test("the shapes answers read the API's numbers", async () => {
  const { trace, rec } = await traceOf("harry");
  const first = rec.tag.bi.tags.indexOf(1);
  assert.equal(shapes_name_gain(trace).value, rec.tag.gain[first]);
  assert.equal(shapes_name_gain(trace, { at: 25 }).value, rec.tag.gain[25]);
  const pad = rec.padding, short = pad.lengths.indexOf(Math.min(...pad.lengths));
  assert.equal(shapes_padding_distance(trace).value, pad.no_mask.distance_to_packed[short]);
  assert.equal(shapes_padding_distance(trace, { way: "mask", sentence: 2 }).value, pad.mask.distance_to_packed[2]);
});

test("on a phone the graph draws four steps, no wider than the box", async () => {
  const { trace } = await traceOf("harry", { ...recorded("harry").knobs, shape: "encoder-decoder" });
  const { html } = graph.figure(trace, { step: 0 }, ko, theme, { width: 350, height: 400 });
  assert.match(html, /viewBox="0 0 460 [0-9.]+" width="100%"/);  // scales with the box, never wider
  assert.equal((html.match(/>x[₀-₉]+</g) || []).length, 2);  // encoder x₁ x₂, then the decoder's BOS
  assert.match(html, />BOS</);
});
