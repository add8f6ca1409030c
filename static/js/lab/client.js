/* The lab's HTTP calls (app/routes/lab.py), every answer turned into { ok, status, data, problems }:
   problems are lines in the page's language (the server words them for ?lang=), never a silent failure.

   const api = labApi(base, lang, strings, fetchFn = fetch)
   api.start(knobs)          POST {base}        -> data { id, events, checkpoint }
   api.control(id, action)   POST {base}/{id}/pause | resume | stop  -> data: the run's summary
   api.summary(id)           GET  {base}/{id}   -> data: { status, step, steps, bench_url, ... }
   problemLines(status, body, retryAfter, strings)   the pure part: a 422's detail (core/format.js
                             errorLines), a 429/503's sentence and its Retry-After, any other status
*/

import { errorLines, fmt } from "../core/format.js";

export function problemLines(status, body, retryAfter, strings) {
  if (status === 0) return [{ field: "", label: "", text: strings.error_network }];
  const detail = body && body.detail;
  if (status === 422 && Array.isArray(detail)) {
    return errorLines(detail, strings).map((line) => (["body", "query", ""].includes(line.field) ? { ...line, label: "" } : line));
  }
  const lines = [];
  if (typeof detail === "string" && detail) lines.push({ field: "", label: "", text: detail });
  else lines.push({ field: "", label: "", text: fmt(strings.lab_error_status, { status }) });
  const wait = retryAfter ?? (body && body.retry_after);
  // the server's sentence already gives the wait; say it only where it did not
  if ((status === 429 || status === 503) && wait && !(typeof detail === "string" && detail.includes(String(wait)))) {
    lines.push({ field: "", label: "", text: fmt(strings.lab_error_retry, { s: wait }) });
  }
  return lines;
}

export function labApi(base, lang, strings, fetchFn) {
  const doFetch = fetchFn || ((...args) => fetch(...args));
  const url = (path) => `${base}${path}?lang=${encodeURIComponent(lang)}`;

  async function call(path, init) {
    let r;
    try {
      r = await doFetch(url(path), { headers: { Accept: "application/json", ...(init && init.body ? { "Content-Type": "application/json" } : {}) }, ...init });
    } catch (err) {
      return { ok: false, status: 0, data: null, problems: problemLines(0, null, null, strings) };
    }
    let body = null;
    try { body = await r.json(); } catch (err) { body = null; }
    if (r.ok) return { ok: true, status: r.status, data: body, problems: [] };
    const retry = r.headers && r.headers.get ? r.headers.get("Retry-After") : null;
    return { ok: false, status: r.status, data: body, problems: problemLines(r.status, body, retry, strings) };
  }

  return {
    start: (knobs) => call("", { method: "POST", body: JSON.stringify(knobs) }),
    control: (id, action) => call(`/${encodeURIComponent(id)}/${action}`, { method: "POST" }),
    summary: (id) => call(`/${encodeURIComponent(id)}`, { method: "GET" }),
  };
}
