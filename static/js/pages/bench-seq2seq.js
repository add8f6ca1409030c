/* The bench's encoder-decoder mode (/bench?mode=seq2seq): one Seq2SeqSource (sources/seq2seq.js) for the
   form's knobs, one view store whose step counts the decoder outputs revealed, and the panels alignment,
   context, seq2seq-probs and accuracy-length mounted with core/figure.js. ← → step, Home/End jump.
   window.unrolledBench is the page's state for the browser tests and the console. */

import { mountFigure } from "../core/figure.js";
import { errorLines, fmt } from "../core/format.js";
import { bindKeys } from "../core/keys.js";
import { readTheme } from "../core/theme.js";
import { ViewStore } from "../core/view.js";
import * as accuracy from "../panels/accuracy-length.js";
import * as alignment from "../panels/alignment.js";
import * as context from "../panels/context.js";
import * as probs from "../panels/seq2seq-probs.js";
import { Seq2SeqSource } from "../sources/seq2seq.js";

export const PANELS = Object.fromEntries([alignment, context, probs, accuracy].map((p) => [p.id, p]));

const $ = (sel) => document.querySelector(sel);

function formKnobs(form) {
  const data = new FormData(form);
  return { checkpoint: data.get("checkpoint"), source: data.get("source") || "",
           teacher_forcing: data.get("teacher_forcing") === "true" };
}

function start() {
  const root = $("#bench-s2s");
  if (!root) return;
  const cfg = JSON.parse($("#bench-s2s-config").textContent);
  const t = cfg.i18n, theme = readTheme();
  const store = new ViewStore({ step: Number(new URLSearchParams(location.search).get("step")) || 1 });
  const source = new Seq2SeqSource(formKnobs($("#s2s-knobs")), { lang: cfg.lang });
  const figs = {};
  for (const [id, panel] of Object.entries(PANELS)) {
    figs[id] = mountFigure($(`#plot-${id}`), { source, view: store, panel, strings: t, theme,
                                              describeEl: $(`#describe-${id}`), filename: `unrolled-seq2seq-${id}` });
  }
  const status = () => {
    const tr = source.trace, msg = $("#message");
    if (source.status === "error") {
      const lines = errorLines(source.error?.detail, t);
      msg.hidden = false;
      msg.textContent = lines.length ? lines.map((l) => `${l.label}: ${l.text}`).join(" · ") : `HTTP ${source.error?.status}`;
      $("#status").textContent = "";
      root.dataset.state = "error";
      return;
    }
    if (!tr.meta) return;
    $("#status").textContent = fmt(t.s2s_bench_status, { n: store.state.step, T: tr.T, target: tr.meta.target,
                                                          predicted: tr.meta.predicted });
    root.dataset.step = String(store.state.step);
    root.dataset.state = tr.done ? "done" : "loading";
  };
  source.subscribe(() => {
    if (source.trace.T && store.T !== source.trace.T) store.setLength(source.trace.T);
    status();
  });
  store.subscribe(status);
  const actions = {
    forward: () => store.stepBy(1), back: () => store.stepBy(-1), start: () => store.toStart(), end: () => store.toEnd(),
  };
  bindKeys(actions);
  for (const [btn, act] of [["#btn-forward", "forward"], ["#btn-back", "back"], ["#btn-reset", "start"], ["#btn-end", "end"]]) {
    $(btn).addEventListener("click", actions[act]);
  }
  source.start();
  window.unrolledBench = {
    get trace() { return source.trace; },
    get view() { return store.state; },
    get T() { return source.trace.T; },
    get ready() { return Boolean(source.trace.done) && Object.values(figs).every((f) => f.ready && !f.pending); },
    get pending() { return Object.values(figs).some((f) => f.pending); },
    get figures() { return Object.keys(figs); },
    get mode() { return "seq2seq"; },
  };
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
