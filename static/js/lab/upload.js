/* Bring your own model (the lab page's upload section; POST /api/models, app/routes/lab.py): the pure
   part, no DOM. The page posts the raw file (body: file, application/octet-stream) to the URL built
   here and shows what these helpers make of the answer.

   uploadUrl(base, { arch, activation, vocab, lang })   "/api/models?arch=rnn&activation=relu&lang=ko";
                               activation only for rnn, vocab (a JSON list) only when given
   parseVocab(text)            the vocabulary field: "" -> null (the file's metadata says), a JSON list of
                               characters as typed, else the text's characters in order
                               ("ab c" -> ["a", "b", " ", "c"])
   tooBig(size, limit)         whether a file is over the upload limit (refused before it is sent)
   megabytes(bytes)            "20 MB" (the server counts 2^20 bytes to the MB)
   uploadProblems(status, body, strings, limit)   lines in the page's language: the server's own
                               sentence (lab/client.js problemLines: a 422's detail, a 413's or 507's
                               detail); a 413 without one (a proxy's) as the page's sentence with the limit
   summaryParts(data, strings) the 201 answer as [label, value] pairs: architecture, layers, units,
                               vocabulary size
   benchHref(url, lang)        bench_url with the page's language (the bench reads ?lang= first)
*/

import { fmt } from "../core/format.js";
import { problemLines } from "./client.js";

export function uploadUrl(base, { arch, activation, vocab, lang }) {
  const q = new URLSearchParams({ arch });
  if (arch === "rnn" && activation) q.set("activation", activation);
  if (vocab !== null && vocab !== undefined) q.set("vocab", JSON.stringify(vocab));
  if (lang) q.set("lang", lang);
  return `${base}?${q.toString()}`;
}

export function parseVocab(text) {
  const raw = String(text ?? "");
  if (raw === "") return null;
  const trimmed = raw.trim();
  if (trimmed.startsWith("[")) {
    try {
      const list = JSON.parse(trimmed);
      if (Array.isArray(list)) return list;  // the server checks what is in it (one character each, no repeats)
    } catch (err) { /* not JSON: characters as typed */ }
  }
  return Array.from(raw);  // by code point, as Python counts a character
}

export function tooBig(size, limit) {
  return typeof limit === "number" && limit > 0 && size > limit;
}

export function megabytes(bytes) {
  const mb = bytes / 2 ** 20;
  return `${mb >= 10 || Number.isInteger(mb) ? Math.round(mb) : mb.toFixed(1)} MB`;
}

export function uploadProblems(status, body, strings, limit) {
  if (status === 413 && !(body && typeof body.detail === "string" && body.detail)) {
    return [fmt(strings.lab_upload_too_big, { limit: megabytes(limit) })];
  }
  return problemLines(status, body, null, strings).map((p) => (p.label ? `${p.label}: ${p.text}` : p.text));
}

export function summaryParts(data, strings) {
  const arch = strings[`choice_arch_${data.arch}`] || String(data.arch).toUpperCase();
  const vocab = Array.isArray(data.vocab) ? data.vocab.length : data.vocab;
  return [
    [strings.lab_upload_arch, arch],
    [strings.lab_upload_layers, fmt(strings.lab_upload_layers_n, { n: data.layers })],
    [strings.lab_upload_units, fmt(strings.lab_upload_units_n, { n: data.hidden_size })],
    [strings.lab_upload_vocab_size, fmt(strings.lab_upload_vocab_n, { n: vocab })],
  ];
}

export function benchHref(url, lang) {
  if (!lang) return url;
  const [path, query = ""] = String(url).split("?");
  const q = new URLSearchParams(query);
  q.set("lang", lang);
  return `${path}?${q.toString()}`;
}
