/* The shapes source (a lesson figure with source = "shapes", lesson 10): for its knobs {sentence,
   sentences, labels, shape} it posts the sentence to POST /api/shapes/tag and /api/shapes/classify and
   the ragged batch (each sentence cut to its `lengths`, a list or "12, 30, 40") to POST
   /api/shapes/padding (mask only chooses what the padding panel draws), and keeps the three bodies as they came.
     trace = { kind: "shapes", meta: {sentence, chars, shape, knobs}, tag, classify, padding,
               T (the sentence's characters), nSteps, done, version }
   view.step counts the characters read (0 .. T). status: idle | loading | done | error | closed. */

import { FetchedSource, postInit } from "./fetched.js";

export const SHAPES_API = Object.freeze({ tag: "/api/shapes/tag", classify: "/api/shapes/classify",
                                          padding: "/api/shapes/padding" });

/** The body each endpoint takes, from the figure's knobs (each endpoint forbids the others' fields). */
export function bodies(knobs) {
  const batch = { sentences: knobs.sentences };
  if (knobs.labels !== undefined && knobs.labels !== null) batch.labels = knobs.labels;
  if (knobs.lengths !== undefined && knobs.lengths !== null && String(knobs.lengths).trim() !== "") batch.lengths = knobs.lengths;
  const one = { sentence: knobs.sentence };
  return { tag: one, classify: one, padding: knobs.sentences === undefined ? {} : batch };
}

export class ShapesSource extends FetchedSource {
  constructor(knobs, opts) {
    super("shapes", knobs, opts, { tag: null, classify: null, padding: null });
  }

  /* One endpoint's body, thrown on refusal (fetchJson): the three run together, the first refusal says why. */
  call(name, body) {
    const q = this.opts.lang ? `?lang=${encodeURIComponent(this.opts.lang)}` : "";
    return this.fetchJson(`${SHAPES_API[name]}${q}`, postInit(body));
  }

  async load() {
    this.status = "loading";
    const b = bodies(this.knobs);
    let tag, classify, padding;
    try {
      [tag, classify, padding] = await Promise.all([this.call("tag", b.tag), this.call("classify", b.classify),
                                                    this.call("padding", b.padding)]);
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
}
