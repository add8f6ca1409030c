/* Shared by the JS unit tests: the recorded fixtures, the page's strings and the theme from the
   stylesheet, and a trace rebuilt from a recorded stream. */

import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { applyEvent, emptyTrace, fromPayload } from "../../static/js/core/source.js";
import { themeFromCss } from "../../static/js/core/theme.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function fixture(name) {
  return JSON.parse(readFileSync(join(ROOT, "tests", "js", "fixtures", `${name}.json`), "utf8"));
}

/* The trace the stream path builds: every recorded event through applyEvent. */
export function streamed(name) {
  const trace = emptyTrace();
  for (const [event, data] of fixture(name).events) applyEvent(trace, event, data);
  return trace;
}

/* The trace of the fetch path, weights included. */
export function fetched(name) {
  return fromPayload(fixture(name).payload);
}

/* The page's strings: every area file of the language merged, as app/i18n.py serves them. */
export function strings(lang) {
  const dir = join(ROOT, "static", "i18n", lang);
  const table = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    Object.assign(table, JSON.parse(readFileSync(join(dir, file), "utf8")));
  }
  return table;
}

export const theme = themeFromCss(readFileSync(join(ROOT, "static", "css", "concepts.css"), "utf8"), { family: "sans-serif" });

export const FIXTURES = ["rnn-tanh", "rnn-relu", "rnn-overflow", "rnn-cut", "lstm", "gru", "sgru", "transformer"];

/* A view at the end of the backward pass (everything revealed). */
export function backwardEnd(trace, extra) {
  return { phase: "backward", step: trace.T, bstep: trace.T, layer: 0, head: 0, loss: null, unit: 0, ...(extra || {}) };
}

export function forwardAt(step, extra) {
  return { phase: "forward", step, bstep: 0, layer: 0, head: 0, loss: null, unit: 0, ...(extra || {}) };
}

/* Deep equality with a relative tolerance on numbers (float32 written two ways differs in the last digits). */
export function close(a, b, rtol = 1e-6, path = "") {
  if (typeof a === "number" && typeof b === "number") {
    if (Math.abs(a - b) <= rtol * Math.max(1, Math.abs(a), Math.abs(b))) return null;
    return `${path}: ${a} != ${b}`;
  }
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b ? null : `${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`;
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array vs object`;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (!(k in a) || !(k in b)) return `${path}.${k}: missing on one side`;
    const d = close(a[k], b[k], rtol, `${path}.${k}`);
    if (d) return d;
  }
  return null;
}
