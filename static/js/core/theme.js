/* Colours and type for the figures, read once from the CSS variables of concepts.css.

   readTheme(root = document.documentElement) -> theme     (in a page)
   themeFromCss(cssText, font?)               -> theme     (in tests: from the stylesheet's text)
   theme.colour(name)   "hidden" or "--c-hidden" -> "#0072b2" (an unknown name -> theme.colour("ink"))
   theme.font           { family, size, color } for Plotly layouts
   theme.vars           { name: value } of every --c-* variable read

   Panels get colours only through a theme, never from the DOM, so the one place a colour is defined
   stays concepts.css.
*/

export const COLOUR_NAMES = [
  "input", "hidden", "cell", "gate-i", "gate-f", "candidate", "gate-o", "gate-r", "gate-z", "gate-u", "prob", "target",
  "gradient", "grad-local", "grad-future", "bound", "jacobian", "clipped", "cut", "overflow", "attention",
  "position", "negative", "current", "run", "arch-rnn", "arch-lstm", "arch-gru", "arch-sgru", "arch-transformer",
  "ink", "muted", "faint", "paper", "wash",
];

const FALLBACK = { ink: "#0b0f19", paper: "#ffffff", muted: "#334155", faint: "#94a3b8", wash: "#f8fafc" };

export function makeTheme(vars, font) {
  const table = { ...FALLBACK, ...vars };
  const colour = (name) => {
    const key = String(name).replace(/^--c-/, "");
    return table[key] || table.ink;
  };
  return Object.freeze({
    vars: Object.freeze(table),
    colour,
    font: Object.freeze({ family: "sans-serif", size: 17, color: table.ink, ...(font || {}) }),
  });
}

/* The --c-* variables declared in a stylesheet's text (first declaration wins, like :root alone). */
export function parseCssVariables(cssText) {
  const vars = {};
  const text = String(cssText).replace(/\/\*[\s\S]*?\*\//g, "");
  for (const m of text.matchAll(/--c-([\w-]+)\s*:\s*([^;]+);/g)) {
    if (!(m[1] in vars)) vars[m[1]] = m[2].trim();
  }
  return vars;
}

export function themeFromCss(cssText, font) {
  return makeTheme(parseCssVariables(cssText), font);
}

export function readTheme(root) {
  const el = root || document.documentElement;
  const style = getComputedStyle(el);
  const vars = {};
  for (const name of COLOUR_NAMES) {
    const v = style.getPropertyValue(`--c-${name}`).trim();
    if (v) vars[name] = v;
  }
  const body = el.ownerDocument && el.ownerDocument.body;
  const family = body ? getComputedStyle(body).fontFamily : style.fontFamily;
  return makeTheme(vars, { family });
}
