/* The keyboard transport, by physical key (KeyboardEvent.code), so "b" works with a Korean layout
   too, where the same key types "ㅠ".

   bindKeys(actions, { target = document }) -> unbind
     actions: { forward(), back(), play(), phase(), start(), end() } (any may be missing)
     ← → forward/back · space play · b phase · Home start · End end. Inactive while an input, select,
     textarea or contenteditable has focus, and with Ctrl, Alt or Meta held.
   releaseOnEnter(form) -> unbind
     Enter in one of the form's fields hands the keys back: the field loses focus (so a page swap
     does not give it focus again) and the form is submitted.
   actionFor(event), isEditable(element)   the pure parts
*/

export const KEY_ACTIONS = Object.freeze({
  ArrowRight: "forward", ArrowLeft: "back", Space: "play", KeyB: "phase", Home: "start", End: "end",
});
const BY_KEY = { " ": "Space", b: "KeyB", B: "KeyB", ArrowRight: "ArrowRight", ArrowLeft: "ArrowLeft", Home: "Home", End: "End" };

export function isEditable(el) {
  return Boolean(el && (el.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(el.tagName)));
}

export function actionFor(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  return KEY_ACTIONS[e.code] || KEY_ACTIONS[BY_KEY[e.key]] || null;
}

export function bindKeys(actions, opts) {
  const target = (opts && opts.target) || document;
  const down = (e) => {
    if (isEditable(e.target)) return;
    const name = actionFor(e);
    const fn = name && actions[name];
    if (!fn) return;
    e.preventDefault();
    if (!e.repeat || name === "forward" || name === "back") fn();
  };
  // a focused button would also "click" on the space key's release: the key means play/pause here
  const up = (e) => { if (e.code === "Space" && !isEditable(e.target)) e.preventDefault(); };
  target.addEventListener("keydown", down);
  target.addEventListener("keyup", up);
  return () => { target.removeEventListener("keydown", down); target.removeEventListener("keyup", up); };
}

export function releaseOnEnter(form) {
  const onKey = (e) => {
    const el = e.target;
    if (e.key !== "Enter" || e.isComposing || !el || el.tagName !== "INPUT" || el.type === "checkbox") return;
    e.preventDefault();
    el.blur();  // a changed value fires "change" here, which submits through the form's own trigger
    if (typeof form.requestSubmit === "function") form.requestSubmit();
  };
  form.addEventListener("keydown", onKey);
  return () => form.removeEventListener("keydown", onKey);
}
