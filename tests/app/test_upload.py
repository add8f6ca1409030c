"""Bring your own model: a torch.nn state_dict uploaded as safetensors traces as torch computes it, and
every bad file is a 422 or 413 that says what is wrong, never a 500."""

from __future__ import annotations

import html
import io
import json
import re

import httpx
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save
from torch import nn

from app.main import create_app
from app.settings import Settings
from tests.app.conftest import LiveServer, _free_port

VOCAB = list("abcdefgh ")


@pytest.fixture(scope="module")
def server():
    with LiveServer(create_app(Settings(workers=1, device="cpu")), _free_port()) as live:
        yield live


def _model(kind: type[nn.Module], layers: int = 1, hidden: int = 12, seed: int = 0) -> tuple[nn.Module, nn.Linear]:
    torch.manual_seed(seed)
    return kind(len(VOCAB), hidden, layers), nn.Linear(hidden, len(VOCAB))


def _file(core: nn.Module, readout: nn.Linear, vocab: list[str] | None = VOCAB, **extra: torch.Tensor) -> bytes:
    tensors = {**core.state_dict(), "readout.weight": readout.weight.data, "readout.bias": readout.bias.data, **extra}
    return save({k: v.contiguous() for k, v in tensors.items()},
                metadata={"vocab": json.dumps(vocab)} if vocab is not None else None)


def _upload(server, raw: bytes, arch: str, **params) -> httpx.Response:
    return httpx.post(f"{server.url}/api/models", params={"arch": arch, **params}, content=raw,
                      headers={"content-type": "application/octet-stream"}, timeout=30)


@pytest.mark.parametrize("kind,arch,layers", [(nn.LSTM, "lstm", 2), (nn.GRU, "gru", 1), (nn.RNN, "rnn", 1)])
def test_an_uploaded_state_dict_traces_as_torch_computes_it(server, kind, arch, layers):
    core, readout = _model(kind, layers)
    r = _upload(server, _file(core, readout), arch)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["checkpoint"].startswith("upload:") and body["layers"] == layers and body["vocab"] == VOCAB
    text = "bad cafe, a deaf bee"[:18].replace(",", " ")
    trace = httpx.get(f"{server.url}/api/trace.json", params={"arch": arch, "checkpoint": body["checkpoint"],
                                                              "text": text}).json()
    ids = torch.tensor([VOCAB.index(c) for c in text])
    with torch.no_grad():
        h = core(F.one_hot(ids, len(VOCAB)).float())[0]
        logits = readout(h)
    probs = np.array([s["probs"] for s in trace["steps"]])
    np.testing.assert_allclose(probs, torch.softmax(logits, -1).numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose([s["loss"] for s in trace["steps"][:-1]],
                               F.cross_entropy(logits[:-1], ids[1:], reduction="none").numpy(), rtol=1e-4)
    np.testing.assert_allclose([s["h"][-1] for s in trace["steps"]], h.numpy(), rtol=1e-4, atol=1e-6)
    page = httpx.get(server.url + body["bench_url"])
    assert page.status_code == 200 and body["checkpoint"] in page.text  # the form keeps the upload


def test_the_vocabulary_may_come_from_the_query(server):
    core, readout = _model(nn.GRU, seed=1)
    r = _upload(server, _file(core, readout, vocab=None), "gru", vocab=json.dumps(VOCAB))
    assert r.status_code == 201, r.text
    r = _upload(server, _file(core, readout, vocab=None), "gru")
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "knob_upload_vocab_missing"


def _error(r: httpx.Response) -> str:
    assert r.status_code == 422, (r.status_code, r.text)
    detail = r.json()["detail"][0]
    assert detail["msg"]
    return detail["type"]


def test_bad_files_are_422_naming_what_is_wrong(server):
    core, readout = _model(nn.LSTM)
    good = _file(core, readout)
    pickled = io.BytesIO()
    torch.save({**core.state_dict()}, pickled)
    assert _error(_upload(server, pickled.getvalue(), "lstm")) == "knob_upload_format"
    assert _error(_upload(server, good[: len(good) // 2], "lstm")) == "knob_upload_format"  # truncated
    assert _error(_upload(server, b"", "lstm")) == "knob_upload_format"
    assert _error(_upload(server, good, "gru")) == "knob_upload_shape"  # an LSTM's 4 gates are not a GRU's 3
    assert _error(_upload(server, _file(core, nn.Linear(12, 4)), "lstm")) == "knob_upload_shape"  # 4 outputs, not 9
    assert _error(_upload(server, _file(core, readout, extra=torch.zeros(3)), "lstm")) == "knob_upload_extra"
    nan = _model(nn.LSTM)[0]
    nan.weight_hh_l0.data[0, 0] = float("nan")
    assert _error(_upload(server, _file(nan, readout), "lstm")) == "knob_upload_not_finite"
    assert _error(_upload(server, _file(core, readout, vocab=["ab", "c"]), "lstm")) == "knob_upload_vocab_format"
    deep = _model(nn.LSTM, layers=4)
    assert _error(_upload(server, _file(*deep), "lstm")) == "knob_upload_layers"
    first, again = _upload(server, good, "lstm"), _upload(server, good, "lstm")
    assert first.json()["checkpoint"] == again.json()["checkpoint"]  # named by content: one copy
    r = _upload(server, pickled.getvalue(), "lstm", lang="ko")
    assert "safetensors" in r.json()["detail"][0]["msg"] and "피클" in r.json()["detail"][0]["msg"]


def test_an_oversized_file_is_413_before_it_is_read_in_the_pages_language(server):
    r = _upload(server, b"\0" * (20 * 2**20 + 1), "lstm", lang="ko")
    assert r.status_code == 413 and r.headers["content-language"] == "ko"
    body = r.json()
    assert body["limit_bytes"] == 20 * 2**20 and "20 MB" in body["detail"] and "요청 본문" in body["detail"]
    assert "content-security-policy" in r.headers  # the limit answers from outside the app: headers too
    # a knob body keeps its own, small limit
    r = httpx.post(f"{server.url}/api/trace", content=b"{" + b" " * 20000 + b"}",
                   headers={"content-type": "application/json", "accept-language": "en"})
    assert r.status_code == 413 and r.json()["limit_bytes"] == 16384 and "16 KB" in r.json()["detail"]


def test_an_unknown_upload_is_a_422(server):
    r = httpx.get(f"{server.url}/api/trace.json", params={"arch": "lstm", "checkpoint": "upload:0123", "text": "ab"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "knob_memory_gone"


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_lab_pages_saving_snippet_writes_a_file_the_server_takes(server, lang, tmp_path, monkeypatch):
    """The snippet under "Bring your own model" on /lab, run as shown: what it saves uploads as a GRU."""
    page = httpx.get(f"{server.url}/lab", params={"lang": lang})
    found = re.search(r'<pre class="upload-snippet"><code>(.*?)</code></pre>', page.text, re.S)
    assert found, "the snippet is missing from /lab"
    code = html.unescape(found.group(1))
    assert "save_file" in code and 'metadata={"vocab": json.dumps(chars)}' in code
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(code, "lab-snippet.py", "exec"), scope)  # noqa: S102 (the page's own snippet)
    raw = (tmp_path / "my_gru.safetensors").read_bytes()
    r = _upload(server, raw, "gru", lang=lang)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["arch"], body["layers"], body["hidden_size"]) == ("gru", 1, 64)
    assert body["vocab"] == sorted(set("hello, hello world"))
