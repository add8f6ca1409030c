/* The view store: where the learner is in a trace (docs/design-lessons.md, section 3).

     view = { phase: "forward" | "backward", step, bstep, layer, head, loss, unit }

   step   forward steps shown (0..T); bstep: backward steps shown (0..T), counted from the last step;
   layer, head: what the layer/head pickers show; loss: the loss index t of "gradient from one loss"
   (null = the last loss, T-2); unit: the unit j of the equation panel, or MEAN_UNIT ("mean"): the mean
   over the units, for the panels that offer it (unitOf resolves either against a width H).

   new ViewStore(initial)      initial: any of the fields above (the rest take VIEW_DEFAULTS)
   store.state                 the current view (frozen; a new object after every change)
   store.set(patch)            -> true if something changed; values are clamped (steps to 0..T once T is known)
   store.subscribe(fn)         fn(state, changedKeys); returns the unsubscribe function
   store.setLength(T)          the trace length (the longest, with two sources): clamps, keeps the rest
   store.stepBy(d), toStart(), toEnd(), setPhase(p), togglePhase()   the transport's moves
   new Player(store, { speed }) play(), pause(), toggle(), setSpeed(n), playing, subscribe(fn)

   Reading a trace through a view (pure):
   shown(view, trace)          { nf, nb }: forward and backward steps on display (received ones only)
   currentStep(view, trace)    the step the view is on, -1 before the first
   lossIndex(view, trace)      view.loss, or the last loss T-2, clamped (-1 without a loss)
   revealed(view, trace)       the backward steps reached so far: T-nb .. T-1 (received ones)

   Several figures on one store step together; two sources (A/B) on one store step together too.
*/

// conceal: a question about this figure is still open, so axes span only what the learner has reached
// (a log axis fitted to the whole trace would give the answer away)
export const VIEW_DEFAULTS = Object.freeze({ phase: "forward", step: 0, bstep: 0, layer: 0, head: 0, loss: null, unit: 0,
                                            conceal: false });
export const VIEW_KEYS = Object.keys(VIEW_DEFAULTS);
export const MEAN_UNIT = "mean";

/** The unit a view picks in a layer of H units: an index 0..H-1, or MEAN_UNIT (a panel without a mean
 *  reads unit 0 then). */
export function unitOf(view, H, { mean = false } = {}) {
  if (view.unit === MEAN_UNIT) return mean ? MEAN_UNIT : 0;
  return Math.max(0, Math.min(view.unit, H - 1));
}

function int(x, fallback) {
  const n = typeof x === "number" ? x : parseInt(x, 10);
  return Number.isFinite(n) ? Math.max(0, Math.trunc(n)) : fallback;
}

function clampView(v, T) {
  const out = {
    phase: v.phase === "backward" ? "backward" : "forward",
    step: int(v.step, 0),
    bstep: int(v.bstep, 0),
    layer: int(v.layer, 0),
    head: int(v.head, 0),
    loss: v.loss === null || v.loss === undefined || v.loss === "" ? null : int(v.loss, null),
    unit: v.unit === MEAN_UNIT ? MEAN_UNIT : int(v.unit, 0),
    conceal: v.conceal === true || v.conceal === "true",
  };
  if (T !== null && T !== undefined) {
    out.step = out.phase === "backward" ? T : Math.min(out.step, T);  // the backward pass needs the whole forward pass
    out.bstep = Math.min(out.bstep, T);
    if (out.loss !== null) out.loss = T >= 2 ? Math.min(out.loss, T - 2) : null;
  }
  return out;
}

export class ViewStore {
  constructor(initial) {
    this.T = null;
    this.s = Object.freeze(clampView({ ...VIEW_DEFAULTS, ...(initial || {}) }, null));
    this.listeners = new Set();
  }

  get state() { return this.s; }

  set(patch) {
    const next = clampView({ ...this.s, ...(patch || {}) }, this.T);
    const changed = VIEW_KEYS.filter((k) => next[k] !== this.s[k]);
    if (!changed.length) return false;
    this.s = Object.freeze(next);
    for (const fn of [...this.listeners]) fn(this.s, changed);
    return true;
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  setLength(T) {
    this.T = T;
    return this.set({});
  }

  key() { return this.s.phase === "forward" ? "step" : "bstep"; }

  stepBy(d) {
    const T = this.T || 0, key = this.key();
    const next = Math.max(0, Math.min(T, this.s[key] + d));
    if (next === this.s[key]) return false;
    const patch = { [key]: next };
    if (this.s.phase === "backward") patch.step = T;  // the backward pass needs the whole forward pass
    return this.set(patch);
  }

  toStart() { return this.set({ phase: "forward", step: 0, bstep: 0 }); }

  toEnd() { return this.set({ [this.key()]: this.T || 0 }); }

  atEnd() { return this.s[this.key()] >= (this.T || 0); }

  setPhase(phase) {
    if (phase === this.s.phase) return false;
    const patch = { phase };
    if (phase === "backward" && this.T !== null) patch.step = this.T;
    return this.set(patch);
  }

  togglePhase() { return this.setPhase(this.s.phase === "forward" ? "backward" : "forward"); }
}

export class Player {
  constructor(store, opts) {
    this.store = store;
    this.speed = Math.min(20, Math.max(1, int((opts || {}).speed, 4) || 4));
    this.timer = null;
    this.listeners = new Set();
  }

  get playing() { return this.timer !== null; }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  notify() { for (const fn of [...this.listeners]) fn(this.playing); }

  play() {
    if (this.timer !== null) return;
    const store = this.store;
    if (store.atEnd()) store.set({ [store.key()]: 0 });
    const tick = () => { if (!store.stepBy(1)) this.pause(); };
    this.timer = setInterval(tick, 1000 / this.speed);
    this.notify();
    tick();
  }

  pause() {
    if (this.timer !== null) { clearInterval(this.timer); this.timer = null; }
    this.notify();
  }

  toggle() { if (this.timer !== null) this.pause(); else this.play(); }

  setSpeed(n) {
    this.speed = Math.min(20, Math.max(1, int(n, this.speed) || 1));
    if (this.timer !== null) { clearInterval(this.timer); this.timer = null; this.play(); }
  }
}

// ---- reading a trace through a view ----

export function shown(view, trace) {
  const T = trace.T || 0;
  if (view.phase === "backward") return { nf: Math.min(T, trace.nSteps), nb: Math.min(view.bstep, trace.nBack, T) };
  return { nf: Math.min(view.step, trace.nSteps, T), nb: 0 };
}

export function currentStep(view, trace) {
  const { nf, nb } = shown(view, trace);
  if (view.phase === "forward") return nf - 1;
  return nb ? (trace.T || 0) - nb : -1;
}

export function lossIndex(view, trace) {
  const T = trace.T || 0;
  if (T < 2) return -1;
  // the last step with a loss: T-2 for the next character (the trace's meta says where a task's is)
  const last = trace.meta && Number.isInteger(trace.meta.last_loss) ? trace.meta.last_loss : T - 2;
  return view.loss === null || view.loss === undefined ? last : Math.max(0, Math.min(view.loss, last));
}

export function revealed(view, trace) {
  const T = trace.T || 0, { nb } = shown(view, trace), out = [];
  for (let t = T - nb; t < T; t++) if (trace.back[t]) out.push(t);
  return out;
}
