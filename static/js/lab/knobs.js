/* The knobs of a lab run, read from LabKnobs' JSON schema (the page's config.knobs): every limit,
   default and choice comes from there. Pure functions, no DOM (unit-tested in tests/js/lab.test.mjs).

   SHARED                        knobs every run of a set has in common (one task, one T: one baseline)
   fieldSpecs(schema)            [{ name, kind: "int" | "float" | "choice", choices, nullable, min, max,
                                    exclusiveMin, default }] in the schema's order
   parseField(spec, raw)         the value to send: null for an empty nullable field, a number where the
                                 text is one, else the text itself (the server answers 422 in the page's
                                 language, so the form never invents its own check)
   useSchema(schema)             reads which architectures each knob applies to (the schema's `archs`,
                                 from app/lab/schemas.py: activation the Elman RNN, forget_bias the LSTM,
                                 heads the transformer, truncation and spectral_norm the recurrent ones)
   applies(name, knobs)          whether a knob means anything for these knobs (its archs; clip_threshold:
                                 clipping on)
   requestBody(knobs)            the POST /api/runs body: a nullable knob that does not apply is sent as
                                 null (the server refuses a value there)
   runLabel(knobs, all, strings) "RNN (tanh) · lr 0.01": the model, then what differs from the others
   runColours(all)               one concepts.css colour name per run: the architecture's own colour
                                 (--c-arch-*) for the first run of each, the unused ones for the rest
*/

import { fmt } from "../core/format.js";

export const SHARED = Object.freeze(["task", "seq_len"]);
export const MAX_RUNS = 4;

let archsOf = {};

export function useSchema(schema) {
  archsOf = Object.fromEntries(Object.entries(schema).filter(([, p]) => p.archs).map(([n, p]) => [n, p.archs]));
}

export function fieldSpecs(schema) {
  return Object.entries(schema).map(([name, prop]) => {
    const options = prop.anyOf || [prop];
    const value = options.find((o) => o.type !== "null") || {};
    const nullable = options.some((o) => o.type === "null");
    const bool = value.type === "boolean";  // a select of true / false (the server reads "true" as true)
    const kind = value.enum || bool ? "choice" : value.type === "integer" ? "int" : "float";
    return {
      name, kind, nullable,
      choices: value.enum ? [...value.enum] : bool ? [true, false] : null,
      min: value.minimum ?? null, max: value.maximum ?? null, exclusiveMin: value.exclusiveMinimum ?? null,
      default: prop.default ?? null,
    };
  });
}

export function parseField(spec, raw) {
  const text = raw === null || raw === undefined ? "" : String(raw).trim();
  if (text === "") return spec.nullable ? null : text;
  if (spec.kind === "choice") {
    if (spec.choices && spec.choices.includes(true) && (text === "true" || text === "false")) return text === "true";
    return text;
  }
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  if (spec.kind === "int" && !Number.isInteger(n)) return text;
  return n;
}

/* The text a field shows for a value (null: empty, the placeholder says what empty means). */
export function fieldText(value) {
  return value === null || value === undefined ? "" : String(value);
}

export function applies(name, knobs) {
  if (archsOf[name]) return archsOf[name].includes(knobs.arch);
  if (name === "clip_threshold") return knobs.clip_mode !== null && knobs.clip_mode !== undefined && knobs.clip_mode !== "";
  return true;
}

const NULLABLE_OFF = ["forget_bias", "spectral_norm", "truncation", "clip_threshold"];

export function requestBody(knobs) {
  const body = { ...knobs };
  for (const name of NULLABLE_OFF) if (name in body && !applies(name, body)) body[name] = null;
  return body;
}

function shown(knobs, name) {
  return applies(name, knobs) ? knobs[name] : undefined;
}

/* One piece of a label: "lr 0.001", "k = 10", "clipped by norm 1" ... */
function part(name, knobs, strings) {
  const v = knobs[name];
  if (name === "clip_mode" || name === "clip_threshold") {
    if (!applies("clip_threshold", knobs)) return strings.lab_part_clip_null;
    const mode = strings[`choice_clip_mode_${knobs.clip_mode}`] || knobs.clip_mode;
    return fmt(strings.lab_part_clip, { mode, v: knobs.clip_threshold ?? "" });
  }
  if (name === "optimizer") return strings[`choice_optimizer_${v}`] || String(v);
  if (typeof v === "boolean") return `${strings[`knob_${name}`] || name} ${strings[`choice_${name}_${v}`] || v}`;
  if (v === null && strings[`lab_part_${name}_null`]) return strings[`lab_part_${name}_null`];
  const template = strings[`lab_part_${name}`];
  if (template) return fmt(template, { v });
  return `${strings[`knob_${name}`] || name} ${v}`;
}

const NOT_PARTS = new Set(["arch", "activation", ...SHARED]);

export function archName(knobs, strings) {
  const name = strings[`choice_arch_${knobs.arch}`] || String(knobs.arch).toUpperCase();
  return knobs.arch === "rnn" && knobs.activation ? `${name} (${knobs.activation})` : name;
}

export function runLabel(knobs, all, strings) {
  const differs = [];
  for (const name of Object.keys(knobs)) {
    if (NOT_PARTS.has(name)) continue;
    const values = new Set(all.map((k) => JSON.stringify(shown(k, name) ?? null)));
    if (values.size > 1) differs.push(name);
  }
  const parts = [];
  for (const name of differs) {
    const text = part(name, knobs, strings);
    if (text && !parts.includes(text)) parts.push(text);  // clip_mode and clip_threshold read as one
  }
  return [archName(knobs, strings), ...parts].join(" · ");
}

export const ARCH_COLOURS = Object.freeze({ rnn: "arch-rnn", lstm: "arch-lstm", gru: "arch-gru",
                                           transformer: "arch-transformer" });
const SPARE = ["arch-rnn", "arch-lstm", "arch-gru", "arch-transformer", "gradient", "hidden"];

export function runColours(all) {
  const out = Array(all.length).fill(null), used = new Set();
  all.forEach((k, i) => {
    const own = ARCH_COLOURS[k.arch];
    if (own && !used.has(own)) { out[i] = own; used.add(own); }
  });
  all.forEach((k, i) => {
    if (out[i]) return;
    const free = SPARE.find((c) => !used.has(c)) || SPARE[i % SPARE.length];
    out[i] = free;
    used.add(free);
  });
  return out;
}
