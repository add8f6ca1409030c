"""A trace as plain JSON-able data, in the shape the API documents (app.schemas.TraceResponse).

Arrays stay numpy (C-contiguous slices) and orjson writes them natively: an LSTM trace of 200 steps
serialises in milliseconds. Non-finite numbers become null; the per-step `overflow` flags say where.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import numpy as np
import orjson

from app.schemas import RECURRENT

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def _default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):  # orjson writes only C-contiguous arrays natively
        return np.ascontiguousarray(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, default=_default, option=_OPTIONS)


def _c(a: np.ndarray | None) -> np.ndarray | None:
    """orjson writes only C-contiguous arrays (a strided slice must be copied first)."""
    return None if a is None else np.ascontiguousarray(a)


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def pascanu_bound(grad_flow: np.ndarray, eta: float) -> np.ndarray:
    """Upper bound on ||dL/dh_t|| of the top layer: sum over u >= t of ||dL_u/dh_u|| * eta^(u-t).

    Pascanu, Mikolov & Bengio (2013): each step back multiplies the gradient by a Jacobian of norm at
    most eta = gamma * sigma_max(W_hh). Computed by Horner's rule from the last step.
    """
    local = np.diagonal(grad_flow).astype(np.float64)
    bound = np.empty_like(local)
    acc = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(len(local) - 1, -1, -1):
            acc = local[t] + eta * acc
            bound[t] = acc
    return bound


def _steps(trace, T: int) -> list[dict[str, Any]]:
    vocab, tokens = trace.vocab, trace.tokens
    overflow = trace.forward_overflow  # the backward pass has its own flags
    recurrent = hasattr(trace, "h")
    if recurrent:  # contiguous once, so each step's row is a contiguous view
        h, c = _c(trace.h), _c(trace.c)
        gates = {g: _c(v) for g, v in trace.gates.items()}
    steps = []
    targets = getattr(trace, "targets", None)  # a training task's targets; None: the next character
    inputs = getattr(trace, "inputs", None)  # a real-valued task: numbers in, one answer at the last step
    for t in range(T):
        if inputs is not None:
            numbered = _number_step(trace, t, T)
            numbered |= {"h": h[t], **({"c": c[t]} if c is not None else {}),
                         "gates": {g: v[t] for g, v in gates.items()}}
            steps.append(numbered)
            continue
        target = (int(tokens[t + 1]) if t + 1 < T else -1) if targets is None else int(targets[t])
        step: dict[str, Any] = {
            "t": t,
            "token": vocab[tokens[t]],
            "token_id": int(tokens[t]),
            "target": vocab[target] if target >= 0 else None,
            "probs": trace.probs[t],
            "loss": _num(float(trace.loss[t])) if target >= 0 else None,
            "overflow": bool(overflow[t]),
        }
        if recurrent:
            step["h"] = h[t]
            if c is not None:
                step["c"] = c[t]
            step["gates"] = {g: v[t] for g, v in gates.items()}
        else:
            step["gates"] = {}
            step["attention"] = _c(trace.attention[:, :, t])  # (layers, heads, T): row t, zeros after t
            step["scores"] = _c(trace.scores[:, :, t])
            for name in ("q", "k", "v"):
                step[name] = _c(getattr(trace, name)[:, :, t])  # (layers, heads, d_head)
            step["embedding"] = trace.embeddings[t]
            step["positional"] = trace.positional[t]
        steps.append(step)
    return steps


def _number_step(trace, t: int, T: int) -> dict[str, Any]:
    """Step t of a real-valued task: its input vector, the readout's prediction, and at the last step the
    answer and the squared error (the one loss term)."""
    last = t == T - 1
    return {
        "t": t,
        "token": None,
        "token_id": -1,
        "input": trace.inputs[t],
        "prediction": trace.probs[t],
        "target": trace.answer if last else None,
        "loss": _num(float(trace.loss[t])) if last else None,
        "overflow": bool(trace.forward_overflow[t]),
    }


def last_loss(trace, T: int) -> int:
    """The last step with a loss term: T-2 for the next character, the task's last target, or T-1 for a
    real-valued task's answer (the default of the views that follow one loss)."""
    if getattr(trace, "inputs", None) is not None:
        return T - 1
    targets = getattr(trace, "targets", None)
    if targets is None:
        return T - 2
    has = np.flatnonzero(np.asarray(targets) >= 0)
    return int(has[-1]) if len(has) else -1


def _backward(trace, knobs: dict[str, Any]) -> dict[str, Any]:
    recurrent = knobs["arch"] in RECURRENT
    backward: dict[str, Any] = {
        "loss": _num(trace.total_loss),
        "grad_norm_before_clip": _num(trace.grad_norm_before_clip),
        "grad_norm_after_clip": _num(trace.grad_norm_after_clip),
        "param_grad_norm": {k: [_num(b), _num(a)] for k, (b, a) in trace.param_grad_norm.items()},
        "truncation": knobs.get("truncation"),
        "clip_mode": knobs["clip_mode"],
        "clip_threshold": knobs["clip_threshold"],
        "overflow": trace.backward_overflow,
    }
    if recurrent:
        backward |= {
            "grad_h": _c(trace.grad_h),
            "grad_c": _c(trace.grad_c),
            "grad_h_local": _c(trace.grad_h_local),  # BPTT's two terms of dL/dh_t: L_t's own part ...
            "grad_h_future": _c(trace.grad_h_future),  # ... and what the later losses carry back
            "grad_flow": trace.grad_flow,
            "grad_flow_c": trace.grad_flow_c,
            "jacobian_norm": trace.jacobian_norm,
            "cuts": list(trace.cuts),
            "truncated_vs_full": trace.truncated_vs_full,
            "pascanu": _pascanu(trace),
        }
    else:
        backward |= {
            "grad_h": _c(np.asarray(trace.grad_x)[:, None]),  # ||dL/dx_t||: one "layer", the input
            "grad_c": None,
            "grad_h_local": None,  # no recursion through time to split
            "grad_h_future": None,
            "grad_flow": trace.grad_flow,
            "grad_flow_c": None,
            "jacobian_norm": None,
            "cuts": [],
            "truncated_vs_full": None,
            "pascanu": None,
        }
    return backward


def _pascanu(trace) -> dict[str, Any]:
    ws = trace.weight_stats
    pascanu: dict[str, Any] = {
        "sigma_max": ws.sigma_max,
        "spectral_radius": ws.spectral_radius,
        "gamma": ws.gamma,
        "decay_bound": ws.decay_bound,
        "bound": None,
        "bound_layer": None,
    }
    if ws.decay_bound is not None:  # stated for the Elman RNN only
        pascanu["bound"] = pascanu_bound(trace.grad_flow, ws.decay_bound[-1])
        pascanu["bound_layer"] = len(ws.decay_bound) - 1
    return pascanu


def trace_payload(trace, knobs: dict[str, Any]) -> dict[str, Any]:
    """The whole, self-contained trace (see app.schemas.TraceResponse)."""
    T = len(trace.tokens)
    extra = {"cost": trace.cost} if hasattr(trace, "cost") else {}
    inputs = getattr(trace, "inputs", None)
    numbers = {} if inputs is None else {"inputs": inputs, "answer": trace.answer}
    return {
        "input_kind": "chars" if inputs is None else "numbers",  # what a step reads: a character or numbers
        **numbers,
        "last_loss": last_loss(trace, T),
        "knobs": knobs,
        "arch": knobs["arch"],
        "vocab": list(trace.vocab),
        "tokens": trace.tokens,
        "unknown": list(getattr(trace, "unknown", [])),  # steps read as U+FFFD (outside a checkpoint's vocab)
        "steps": _steps(trace, T),
        "backward": _backward(trace, knobs),
        "params": {k: _c(v) for k, v in trace.params.items()},
        "overflow": bool(trace.overflow.any()),
        "extra": extra,
    }


# --- the stream's events, cut from the same payload ---


def meta_event(payload: dict[str, Any]) -> dict[str, Any]:
    steps = payload["steps"]
    first = steps[0]
    return {
        "knobs": payload["knobs"],
        "arch": payload["arch"],
        "vocab": payload["vocab"],
        "tokens": payload["tokens"],
        "unknown": payload.get("unknown", []),
        "T": len(steps),
        "gates": list(first["gates"]),
        "state_shape": list(np.shape(first["h"])) if "h" in first else None,
        "overflow": payload["overflow"],
        "input_kind": payload.get("input_kind", "chars"),
        "last_loss": payload.get("last_loss", len(steps) - 2),
        **({"inputs": payload["inputs"], "answer": payload["answer"]} if "inputs" in payload else {}),
        **({"cost": payload["extra"]["cost"]} if "cost" in payload.get("extra", {}) else {}),  # Transformer: N^2 vs N
    }


def backward_event(payload: dict[str, Any], t: int) -> dict[str, Any]:
    """Step t of the backward pass: the gradient reaching h_t and which later losses it came from."""
    bw = payload["backward"]
    return {
        "t": t,
        "grad_h": bw["grad_h"][t],
        "grad_c": None if bw["grad_c"] is None else bw["grad_c"][t],
        "grad_h_local": None if bw["grad_h_local"] is None else bw["grad_h_local"][t],
        "grad_h_future": None if bw["grad_h_future"] is None else bw["grad_h_future"][t],
        "grad_flow_from": _c(bw["grad_flow"][:, t]),  # [u] ||dL_u/dh_t||, zero for u < t
        "jacobian_norm": None if bw["jacobian_norm"] is None else _num(float(bw["jacobian_norm"][t])),
        "bound": None if not bw["pascanu"] or bw["pascanu"]["bound"] is None else _num(bw["pascanu"]["bound"][t]),
        "cut": t in bw["cuts"],
        "overflow": bool(bw["overflow"][t]),
    }


def summary_event(payload: dict[str, Any]) -> dict[str, Any]:
    bw = payload["backward"]
    keep = ("loss", "grad_norm_before_clip", "grad_norm_after_clip", "param_grad_norm", "truncation", "cuts",
            "truncated_vs_full", "clip_mode", "clip_threshold", "pascanu", "grad_flow_c")
    return {k: bw[k] for k in keep} | {"overflow": payload["overflow"], "grad_flow": bw["grad_flow"]}


# --- CSV export of the per-step norms ---


def norms_csv(payload: dict[str, Any]) -> str:
    steps, bw = payload["steps"], payload["backward"]
    L = np.shape(bw["grad_h"])[1]
    header = ["t", "token", "target", "loss"]
    header += [f"h_norm_l{i}" for i in range(L)] if "h" in steps[0] else []
    header += [f"grad_h_l{i}" for i in range(L)] if "h" in steps[0] else ["grad_x"]  # transformer: ||dL/dx_t||
    header += [f"grad_c_l{i}" for i in range(L)] if bw["grad_c"] is not None else []
    terms = bw["grad_h_local"] is not None
    header += [f"grad_h_{part}_l{i}" for part in ("local", "future") for i in range(L)] if terms else []
    header += ["jacobian_norm", "pascanu_bound", "cut", "overflow"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)

    def cells(values) -> list[str]:  # non-finite as empty cells, like the JSON's nulls
        return ["" if not np.isfinite(v) else f"{float(v):.8g}" for v in values]

    for step in steps:
        t = step["t"]
        event = backward_event(payload, t)
        token, target = step["token"], step["target"]
        if token is None:  # a real-valued task: the input vector, and the answer at the last step
            token = " ".join(f"{float(v):.6g}" for v in step["input"])
            target = None if target is None else " ".join(f"{float(v):.6g}" for v in target)
        row = [t, token, target or "", "" if step["loss"] is None else f"{step['loss']:.8g}"]
        if "h" in step:
            with np.errstate(over="ignore", invalid="ignore"):
                row += cells(np.linalg.norm(step["h"].astype(np.float64), axis=-1))
        row += cells(bw["grad_h"][t])
        row += cells(bw["grad_c"][t]) if bw["grad_c"] is not None else []
        row += [*cells(bw["grad_h_local"][t]), *cells(bw["grad_h_future"][t])] if terms else []
        row += cells([np.nan if event["jacobian_norm"] is None else event["jacobian_norm"]])
        row += cells([np.nan if event["bound"] is None else event["bound"]])
        row += [int(event["cut"]), int(step["overflow"] or event["overflow"])]
        writer.writerow(row)
    return out.getvalue()
