/* Pure helpers for text and numbers, shared by every panel and page (no DOM, no globals).

   fmt(template, vars)         "{n}/{T}" with {n: 3, T: 18} -> "3/18"
   num(x, digits = 3)          a number for people: 0.123, 3.10e-6, 1.23e+20; "—" for null/inf/NaN
   short(x)                    a number in two significant digits: 3.1e-6, 0.42, 17
   showChar(ch)                a character made visible: " " -> "␣", "\n" -> "↵", "\t" -> "⇥"
   escapeHtml(text)            for the panels that return { html }
   isNum(x), positive(x)       a finite number / a finite number > 0 (else null)
   logTicks(lo, hi)            about five ticks over log10 values lo..hi
   tickLabel(log10v)           "10<sup>-3</sup>", or 0.42 between whole decades
   logExtent(values)           [lo, hi] of log10 over the finite positive values (null when none)
   logAxis(values, extra)      a Plotly log axis whose range spans the finite values given
   clipToAxis(y, axis)         a bound clipped to an axis: { y (outside -> null), marks [{ i, value, edge }] }
   wrap(text, width)           lines of about `width` columns joined by <br> (Plotly does not wrap);
                               textWidth(text) counts a wide (Korean) character as two columns
   rgba(hex, alpha), mix(a, b, f)  colour arithmetic on "#rrggbb"
   gradientVsDistance(G)       mean ||dL_t/dh_s|| over the pairs at distance d = t - s
   errorLines(detail, strings) a 422's detail as [{ field, label, text }] in the page's language (the API's
                               own wording as sent; pydantic's English defaults from the error_* strings)
*/

export function fmt(template, vars) {
  return String(template).replace(/\{(\w+)\}/g, (_, k) => (vars && k in vars ? vars[k] : ""));
}

export function isNum(x) {
  return typeof x === "number" && Number.isFinite(x);
}

export function positive(x) {
  return isNum(x) && x > 0 ? x : null;
}

export function num(x, digits) {
  if (!isNum(x)) return "—";
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return x.toExponential(2);
  return x.toFixed(digits === undefined ? 3 : digits);
}

/* Three significant digits, as a measured value should be read (0.00155 is not "0.002"). */
export function sig(x) {
  if (!isNum(x)) return "—";
  const a = Math.abs(x);
  if (a === 0) return "0";
  if (a < 1e-2 || a >= 1e4) return x.toExponential(2).replace("e+", "e");
  return String(Number(x.toPrecision(3)));
}

export function short(x) {
  if (!isNum(x)) return "—";
  const a = Math.abs(x);
  if (a === 0) return "0";
  if (a < 1e-2 || a >= 1e4) return x.toExponential(1).replace("e+", "e");
  return String(Number(x.toPrecision(2)));
}

export function showChar(ch) {
  if (ch === " ") return "␣";
  if (ch === "\n") return "↵";
  if (ch === "\t") return "⇥";
  return ch === null || ch === undefined ? "" : String(ch);
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/* About five ticks over log10 values lo..hi: whole decades when the range is wide. */
export function logTicks(lo, hi) {
  if (hi - lo >= 4) {
    const step = Math.ceil((hi - lo) / 5), out = [];
    for (let k = Math.ceil(lo); k <= hi; k += step) out.push(k);
    return out;
  }
  return Array.from({ length: 5 }, (_, i) => lo + ((hi - lo) * i) / 4);
}

export function tickLabel(log10v) {
  if (Number.isInteger(log10v)) return `10<sup>${log10v}</sup>`;
  const v = 10 ** log10v;
  return v >= 0.01 && v < 1e4 ? v.toPrecision(2) : v.toExponential(1);
}

export function logExtent(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (!(isNum(v) && v > 0)) continue;
    const l = Math.log10(v);
    if (l < lo) lo = l;
    if (l > hi) hi = l;
  }
  return lo <= hi ? [lo, hi] : null;
}

/* A log axis readable from the back of a room: about five labelled values, the range spanning the
   finite positive values given (pass the data, not the bounds: a bound outside is clipped). */
export function logAxis(values, extra) {
  const axis = Object.assign({ type: "log", fixedrange: true }, extra || {});
  const ext = logExtent(values);
  if (!ext) return axis;
  let [lo, hi] = ext;
  if (hi - lo < 0.3) { lo -= 0.15; hi += 0.15; }
  const ticks = logTicks(lo, hi);
  axis.tickvals = ticks.map((k) => 10 ** k);
  axis.ticktext = ticks.map(tickLabel);
  axis.range = [lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo)];  // log10 units, as Plotly wants for log axes
  return axis;
}

/* A theory line against a log axis: values outside the axis range become gaps, and each run of them
   leaves a mark at the edge where the line leaves the plot (and where it comes back), or one mark
   when the whole run has no drawn neighbour. */
export function clipToAxis(y, axis) {
  if (!axis || !axis.range) return { y: y.slice(), marks: [] };
  const [lo, hi] = axis.range;
  const side = y.map((v) => {
    const p = positive(v);
    if (p === null) return null;
    const l = Math.log10(p);
    return l > hi ? "top" : l < lo ? "bottom" : "in";
  });
  const out = y.map((v, i) => (side[i] === "in" ? v : null));
  const marks = [];
  for (let a = 0; a < y.length; a++) {
    if (side[a] !== "top" && side[a] !== "bottom") continue;
    let b = a;
    while (b + 1 < y.length && side[b + 1] === side[a]) b += 1;
    const before = a > 0 && side[a - 1] === "in", after = b + 1 < y.length && side[b + 1] === "in";
    if (before || !after) marks.push({ i: a, value: y[a], edge: side[a] });
    if (after && (b !== a || !before)) marks.push({ i: b, value: y[b], edge: side[a] });
    a = b;
  }
  return { y: out, marks };
}

/* Wide (CJK) characters count twice, so a Korean line is as wide as an English one. */
export function textWidth(text) {
  let n = 0;
  for (const ch of String(text)) n += /[\u1100-\u11ff\u2e80-\ua4cf\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]/.test(ch) ? 2 : 1;
  return n;
}

export function wrap(text, width) {
  const lines = [];
  let line = "";
  for (const word of String(text).split(" ")) {
    if (line && textWidth(`${line} ${word}`) > width) { lines.push(line); line = word; } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join("<br>");
}

function rgb(hex) {
  const h = String(hex).trim().replace("#", "");
  const v = parseInt(h.length === 3 ? h.split("").map((c) => c + c).join("") : h, 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

export function rgba(hex, alpha) {
  const [r, g, b] = rgb(hex);
  return `rgba(${r},${g},${b},${alpha})`;
}

export function mix(hexA, hexB, f) {
  const a = rgb(hexA), b = rgb(hexB);
  return `rgb(${a.map((x, i) => Math.round(x + (b[i] - x) * f)).join(",")})`;
}

/* Mean ||dL_t/dh_s|| over every pair at distance d = t - s (rows without a loss, all zero, left out).
   local[d] is the mean ||dL_t/dh_t|| over the same losses, where a theory line starts. */
export function gradientVsDistance(G) {
  const T = G.length, sum = Array(T).fill(0), diag = Array(T).fill(0), count = Array(T).fill(0);
  for (let t = 0; t < T; t++) {
    const row = G[t];
    if (!row || !(row[t] > 0)) continue;
    for (let s = 0; s <= t; s++) {
      const v = row[s];
      if (!isNum(v)) continue;
      sum[t - s] += v; diag[t - s] += row[t]; count[t - s] += 1;
    }
  }
  const x = [], y = [], local = [];
  for (let d = 0; d < T; d++) {
    if (count[d]) { x.push(d); y.push(positive(sum[d] / count[d])); local.push(diag[d] / count[d]); }
  }
  return { x, y, local };
}

const PYDANTIC_DEFAULT = /^(Input should|String should|Field required|Input is|Unable to parse)/;

/* A 422 in FastAPI's shape, one line per problem (the API may list one twice). Pydantic's standard
   errors are worded from the page's error_* templates; the API's own messages are shown as sent. */
export function errorLines(detail, strings) {
  if (!Array.isArray(detail)) return [];
  const out = [], seen = new Set();
  for (const d of detail) {
    const field = Array.isArray(d.loc) ? String(d.loc[d.loc.length - 1]) : "";
    const key = JSON.stringify([d.loc, d.msg]);
    if (seen.has(key)) continue;
    seen.add(key);
    // pydantic's own English sentences get the page's template; a message the API worded is shown as sent
    const template = PYDANTIC_DEFAULT.test(String(d.msg)) ? strings[`error_${d.type}`] : null;
    let text;
    if (template) {
      const ctx = d.ctx || {};
      const limit = ctx.le ?? ctx.ge ?? ctx.gt ?? ctx.lt ?? ctx.min_length ?? ctx.max_length ?? ctx.expected ?? "";
      text = fmt(template, { limit, input: d.input ?? "", expected: ctx.expected ?? "" });
    } else {
      const label = strings[`knob_${field}`];
      text = String(d.msg).replace(/^Value error, /, "");
      for (const prefix of [field, label]) if (prefix && text.startsWith(`${prefix}: `)) text = text.slice(prefix.length + 2);
    }
    out.push({ field, label: strings[`knob_${field}`] || field, text });
  }
  return out;
}
