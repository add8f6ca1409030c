"""Python twins of the answer functions in static/js/core/answers.js, computed from POST /api/trace's
body (the whole payload) instead of the page's trace object. The browser test reveals each question and
compares the page's data-value with the twin's value for the same knobs.

Same rules as the JS (docs/design-lessons.md, section 5): steps t >= 0, negative from the end
(-1 = T-1), "last" = T-2, "first" = 0; G = backward.grad_flow (top layer); means skip non-finite
entries; a non-finite input gives None.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Payload = dict[str, Any]


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _T(p: Payload) -> int:
    return len(p["steps"])


def resolve_step(value: Any, T: int) -> int:
    if value is None or value == "first":
        return 0
    if value == "last":
        return T - 2
    t = T + value if value < 0 else value
    assert 0 <= t <= T - 1, f"step {value} outside 0..{T - 1}"
    return t


def _ratio(a: Any, b: Any) -> float | None:
    return a / b if _finite(a) and _finite(b) and b != 0 else None


def _mean(xs: list[Any]) -> float | None:
    ok = [x for x in xs if _finite(x)]
    return sum(ok) / len(ok) if ok else None


def _eta(p: Payload) -> float | None:
    bound = (p["backward"].get("pascanu") or {}).get("decay_bound")
    return bound[-1] if bound and _finite(bound[-1]) else None


def grad_ratio(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    T, G = _T(p), p["backward"]["grad_flow"]
    f, t = resolve_step(args.get("from", "last"), T), resolve_step(args.get("to", 0), T)
    out = {"value": _ratio(G[f][t], G[f][f])}
    if _eta(p) is not None:
        out["theory"] = _eta(p) ** (f - t)
    return out


def c_path_ratio(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    T, bw = _T(p), p["backward"]
    f, t = resolve_step(args.get("from", "last"), T), resolve_step(args.get("to", 0), T)
    return {"value": _ratio(bw["grad_flow_c"][f][t], bw["grad_flow"][f][t])}


def grad_at_distance(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    T, G, d = _T(p), p["backward"]["grad_flow"], args.get("d", 1)
    out = {"value": _mean([G[t][t - d] for t in range(d, T - 1)])}
    if _eta(p) is not None:
        out["theory"] = _mean([G[t][t] * _eta(p) ** d if _finite(G[t][t]) else None for t in range(d, T - 1)])
    return out


def future_share(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    T, bw = _T(p), p["backward"]
    t = resolve_step(args.get("step", 0), T)
    if bw.get("grad_h_local") is not None and bw.get("grad_h_future") is not None:
        own, future = bw["grad_h_local"][t][-1], bw["grad_h_future"][t][-1]
    else:
        G = bw["grad_flow"]
        own = G[t][t]
        future = sum(G[u][t] if _finite(G[u][t]) else math.nan for u in range(t + 1, T))
    if not (_finite(own) and _finite(future)):
        return {"value": None}
    return {"value": 0.0 if own + future == 0 else future / (own + future)}


def prob_of_target(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    T = _T(p)
    step = p["steps"][resolve_step(args.get("step", 0), T)]
    prob = step["probs"][p["vocab"].index(step["target"])]
    return {"value": prob if _finite(prob) else None, "theory": 1 / len(p["vocab"])}


def saturation(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    layer = args.get("layer", 0)
    activation = p["knobs"].get("activation", "tanh") if p["arch"] == "rnn" else "tanh"
    tests: dict[str, Callable[[float], bool]] = {"relu": lambda h: h == 0, "sigmoid": lambda h: h < 0.05 or h > 0.95}
    test = tests.get(activation, lambda h: abs(h) > 0.95)
    values = [x for step in p["steps"] for x in step["h"][layer] if _finite(x)]
    return {"value": sum(map(test, values)) / len(values) if values else None}


def truncated_cosine(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    tvf = p["backward"].get("truncated_vs_full")
    return {"value": tvf["cosine"] if tvf and _finite(tvf.get("cosine")) else None}


def clip_ratio(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    bw = p["backward"]
    return {"value": _ratio(bw["grad_norm_after_clip"], bw["grad_norm_before_clip"])}


def first_overflow(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    bw = p["backward"]
    for t, step in enumerate(p["steps"]):
        if step["overflow"] or bw["overflow"][t]:
            return {"value": t}
    return {"value": None}


def grad_ratio_ab(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    return {"value": _ratio(grad_at_distance(pb, args)["value"], grad_at_distance(p, args)["value"])}


def reach_ratio_ab(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    assert pb is not None, "reach_ratio_ab needs the B side"
    d = args.get("d", 1)

    def side(q: Payload) -> float | None:
        f = resolve_step(args.get("from", "last"), _T(q))
        assert 0 <= d <= f
        return grad_ratio(q, {"from": f, "to": f - d})["value"]

    return {"value": _ratio(side(p), side(pb))}


def grad_norm_at(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    t = resolve_step(args.get("step", -1), _T(p))
    g = p["backward"]["grad_h"][t][-1]
    return {"value": g if _finite(g) else None}


def _loss_sum(p: Payload) -> float | None:
    losses = [p["steps"][t]["loss"] for t in range(_T(p) - 1)]
    return sum(losses) if all(_finite(x) for x in losses) else None


def mean_loss(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    total = _loss_sum(p)
    return {"value": None if total is None else total / (_T(p) - 1)}


def mean_loss_ab(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    return {"value": _ratio(mean_loss(pb, args)["value"], mean_loss(p, args)["value"])}


def sentence_prob(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    total = _loss_sum(p)
    return {"value": None if total is None else math.exp(-total)}


def prob_ratio_ab(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    a, b = _loss_sum(p), _loss_sum(pb)
    if a is None or b is None:
        return {"value": None}
    try:
        value = math.exp(a - b)
    except OverflowError:
        return {"value": None}
    return {"value": value}


def _gap(p: Payload, pb: Payload, t: int) -> float | None:
    a, b = p["steps"][t]["h"][-1], pb["steps"][t]["h"][-1]
    if not all(_finite(x) for x in a + b):
        return None
    return math.sqrt(sum((y - x) ** 2 for x, y in zip(a, b, strict=True)))


def state_gap_ab(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    T = min(_T(p), _T(pb))
    f, t = resolve_step(args.get("from", 0), T), resolve_step(args.get("to", -1), T)
    return {"value": _ratio(_gap(p, pb, t), _gap(p, pb, f))}


def jacobian_max(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    norms = p["backward"]["jacobian_norm"][1:]
    if not norms or not all(_finite(x) for x in norms):
        return {"value": None}
    return {"value": max(norms)}


def sample_argmax_share(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    """p: POST /api/sample's body."""
    steps, vocab = p["steps"], p["vocab"]
    if not steps:
        return {"value": None}
    best = [max(range(len(s["probs"])), key=lambda i, s=s: (s["probs"][i], -i)) for s in steps]
    return {"value": sum(vocab[b] == s["char"] for b, s in zip(best, steps, strict=True)) / len(steps)}


def ar_unseen_share(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    """p: GET /api/ar's body."""
    steps = p["steps"][:-1]
    if not steps:
        return {"value": None}
    return {"value": 0.0 if p["tau"] == 0 else sum(s["count"] == 0 for s in steps) / len(steps)}


def ar_loss_ratio(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    s = p["summary"]
    return {"value": None if s["ar_zero"] > 0 else _ratio(s["ar_loss"], s["rnn_loss"])}


def _lab_run(p: Payload, index: int) -> dict:
    """p: {"runs": [events per run]}, each event {"event": kind, "data": {...}} as GET /api/runs/{id}/events
    sent it. The latest metrics (a step reported twice counts once, as lab/run-state.js) and snapshot."""
    events = p["runs"][index]
    last, snap, steps = None, None, []
    for e in events:
        if e["event"] == "metrics":
            if steps and steps[-1] == e["data"]["step"]:
                continue
            steps.append(e["data"]["step"])
            last = e["data"]
        elif e["event"] == "snapshot":
            snap = e["data"]
    return {"last": last, "snapshot": snap}


def lab_below_baseline(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    last = _lab_run(p, args.get("run", 0))["last"]
    return {"value": _ratio(last["held_out"], last["baseline"]) if last else None}


def _final_at(snap: dict | None, d: Any) -> float | None:
    if not snap or not snap["distance"]:
        return None
    want = snap["distance"][-1] if d == "far" else d
    if want not in snap["distance"]:
        return None
    v = snap["final"][snap["distance"].index(want)]
    return v if _finite(v) else None


def lab_distance_ratio(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    d = args.get("d", "far")
    a = _final_at(_lab_run(p, args.get("run_a", 0))["snapshot"], d)
    b = _final_at(_lab_run(p, args.get("run_b", 1))["snapshot"], d)
    return {"value": _ratio(b, a)}


def seq2seq_alignment_hits(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    """Source "seq2seq" (POST /api/seq2seq/trace's body): the share of output characters whose largest
    weight sits on the source position the task copies from; None without attention."""
    steps = [s for s in p["steps"] if s["aligned"] is not None]
    if not p["attention"] or not steps:
        return {"value": None}
    hits = sum(max(range(len(s["weights"])), key=lambda j: (s["weights"][j], -j)) == s["aligned"] for s in steps)
    return {"value": hits / len(steps)}


def seq2seq_accuracy(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    """Source "seq2seq": from GET /api/seq2seq/accuracy (p["accuracy"]), the share right at `length`."""
    acc = p["accuracy"]
    n = args.get("length", p["J"])
    model = next(m for m in acc["models"] if m["checkpoint"] == args.get("checkpoint", p["checkpoint"]))
    measure = "character" if args.get("measure") == "character" else "sequence"
    return {"value": model[measure][acc["lengths"].index(n)] if n in acc["lengths"] else None}


def attention_lookback(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    """Transformer: step - argmax_s A[layer][head][step][s] over s <= step (ties: the earliest s)."""
    t = resolve_step(args.get("step", -1), _T(p))
    layers = p["steps"][t]["attention"]
    row = layers[args.get("layer", len(layers) - 1)][args.get("head", 0)][: t + 1]
    return {"value": t - max(range(len(row)), key=lambda s: (row[s], -s))}


def shapes_name_gain(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    """Source "shapes" (the POST /api/shapes/* bodies): the bi tagger's gain at `at`, by default the first
    character it tags B."""
    tag = p["tag"]
    b = tag["tags"].index("B")
    i = args.get("at", tag["bi"]["tags"].index(b) if b in tag["bi"]["tags"] else -1)
    return {"value": tag["gain"][i] if 0 <= i < len(tag["chars"]) else None}


def shapes_padding_distance(p: Payload, args: dict, pb: Payload | None = None) -> dict:
    """Source "shapes": a sentence's (default: the shortest) last state run `way` (default no_mask), its
    distance from the packed run's."""
    pad = p["padding"]
    k = args.get("sentence", pad["lengths"].index(min(pad["lengths"])))
    return {"value": pad[args.get("way", "no_mask")]["distance_to_packed"][k]}


TWINS: dict[str, Callable[..., dict]] = {
    f.__name__: f for f in (grad_ratio, c_path_ratio, grad_at_distance, future_share, prob_of_target, saturation,
                            truncated_cosine, clip_ratio, first_overflow, grad_ratio_ab, grad_norm_at, mean_loss,
                            mean_loss_ab, sentence_prob, prob_ratio_ab, state_gap_ab, jacobian_max, sample_argmax_share,
                            reach_ratio_ab, ar_unseen_share, ar_loss_ratio, lab_below_baseline, lab_distance_ratio,
                            seq2seq_alignment_hits, seq2seq_accuracy, attention_lookback,
                            shapes_name_gain, shapes_padding_distance)
}
