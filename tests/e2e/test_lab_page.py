"""The training lab (/lab) in chromium with the network cut off (tests/e2e/conftest.py):

- in Korean: the memory-race preset starts four runs; the loss plot draws four training curves of at
  least two points each and the snapshot plot the gradient against distance; the adding task cannot
  open in the bench, so that button is disabled and says why; one run paused by its button is marked
  paused, then space pauses the others; "stop all" stops every run; no console error; screenshots at
  1280 x 720 and 390 px wide into /tmp/lab-shots/, with nothing wider than the phone's screen;
- in English: the page and its form are in English, and a knob out of range is refused with the
  server's English sentence next to the field, while the runs that had started are stopped again;
- bring your own model, in Korean: a torch.nn.GRU state_dict saved by the test as safetensors is
  uploaded from the file input, summarised, and opens in the bench with the upload chosen; a pickled
  torch.save file is refused with the server's Korean sentence naming safetensors, and a file over the
  limit is refused before it is sent; screenshots of the section at 1280 x 720 and 390 px wide.

Every wait is on the page's state (window.unrolledLab, the plots' data, data-status), never a sleep.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

SHOTS = Path("/tmp/lab-shots")
PLOTTED = "() => window.unrolledLab && window.Plotly && document.getElementById('plot-loss').data"
FOUR_CURVES = """() => {
    const curves = (id, prefix) => (document.getElementById(id).data || [])
        .filter((d) => String(d.meta).startsWith(prefix) && d.x.length >= 2).length;
    return curves('plot-loss', 'train-') === 4 && curves('plot-snapshot', 'snap-') >= 1;
}"""
STATUSES = "() => [...document.querySelectorAll('.run-row')].map((r) => r.dataset.status)"


def open_lab(new_page, server: str, lang: str, width: int = 1280, height: int = 720):
    page, log = new_page(locale="ko-KR" if lang == "ko" else "en-US", width=width, height=height)
    page.goto(f"{server}/lab?lang={lang}")
    page.wait_for_function(PLOTTED, timeout=30_000)
    return page, log


def all_status(page, status: str, timeout: float = 20_000) -> None:
    every = f"() => {{ const s = ({STATUSES})(); return s.length > 0 && s.every((x) => x === {status!r}); }}"
    page.wait_for_function(every, timeout=timeout)


def shoot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_function("() => !window.unrolledLab.pending")
    path = SHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)
    return path


def test_memory_race_in_korean_draws_four_runs_pauses_and_stops(new_page, server):
    page, log = open_lab(new_page, server, "ko")
    assert page.locator("h1").inner_text() == "학습 실험실"
    page.locator('.preset-card[data-preset="memory_race"]').click()
    page.locator("#lab-start").click()
    page.wait_for_function(FOUR_CURVES, timeout=45_000)

    rows = page.locator(".run-row")
    assert rows.count() == 4
    labels = [rows.nth(i).locator(".run-label").inner_text() for i in range(4)]
    assert [label.split(" ")[0] for label in labels] == ["RNN", "IRNN", "LSTM", "GRU"], labels
    assert "lr 0.001" in labels[1]  # the IRNN's learning rate is what differs
    loss = page.evaluate("document.getElementById('plot-loss').data.filter((d) => d.meta === 'baseline').length")
    assert loss == 1  # the adding task's baseline is drawn
    snapshot_points = page.evaluate("Math.max(...document.getElementById('plot-snapshot').data"
                                    ".filter((d) => String(d.meta).startsWith('snap-')).map((d) => d.y.length))")
    assert snapshot_points >= 2

    lstm = rows.nth(2)
    page.wait_for_function("() => window.unrolledLab.runs[2].status === 'running'")
    lstm.locator('[data-act="pause"]').click()
    page.wait_for_function("() => document.querySelectorAll('.run-row')[2].dataset.status === 'paused'")
    assert lstm.locator(".run-status").inner_text() == "일시 정지"
    assert lstm.locator('[data-act="pause"]').inner_text() == "재개"
    assert page.evaluate(STATUSES).count("paused") == 1

    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Space")  # space pauses every run still running
    all_status(page, "paused")
    shot = shoot(page, "lab-ko-1280")

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("() => ['plot-loss', 'plot-grad', 'plot-snapshot'].every((id) => "
                           "document.querySelector(`#${id} .main-svg`).getBoundingClientRect().width <= 390)")
    page.wait_for_function("() => !window.unrolledLab.pending")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    boxes = page.evaluate("['plot-loss', 'plot-grad', 'plot-snapshot'].map((id) => "
                          "document.getElementById(id).getBoundingClientRect().top)")
    assert boxes[0] < boxes[1] < boxes[2]  # the plots stack
    phone = shoot(page, "lab-ko-390")

    # the paused LSTM opens in the bench: numbers in, the readout against the answer out
    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_function("() => !document.querySelectorAll('.run-row [data-act=bench]')[2].disabled")
    with page.context.expect_page() as popup:
        lstm.locator('[data-act="bench"]').click()
    _adding_in_the_bench(popup.value, page.evaluate("window.unrolledLab.runs[2].id"))

    page.locator("#lab-stop-all").click()
    all_status(page, "stopped")
    assert page.locator("#lab-stop-all").is_disabled()
    assert log.console_errors() == []
    assert shot.exists() and phone.exists()


def _adding_in_the_bench(bench, run_id: str) -> None:
    """A paused adding run in the bench: the strip reads numbers (the marked ones starred), the readout
    panel stands where the next-character probabilities would, and stepping to the end shows the squared
    error of the one loss; the gradient views follow that loss back."""
    errors: list[str] = []
    bench.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    bench.on("pageerror", lambda e: errors.append(str(e)))
    bench.set_viewport_size({"width": 1280, "height": 720})
    bench.wait_for_function("() => window.unrolledBench && window.unrolledBench.ready", timeout=30_000)
    meta = bench.evaluate("(({ input_kind, inputs, answer, last_loss, T, knobs }) => "
                          "({ input_kind, inputs, answer, last_loss, T, checkpoint: knobs.checkpoint }))"
                          "(window.unrolledBench.trace.meta)")
    assert meta["input_kind"] == "numbers" and meta["checkpoint"].startswith(f"run:{run_id}@")
    T = meta["T"]
    assert meta["last_loss"] == T - 1 and len(meta["inputs"]) == T
    marked = [t for t, (_, m) in enumerate(meta["inputs"]) if m > 0.5]
    assert len(marked) == 2
    assert abs(meta["answer"][0] - sum(meta["inputs"][t][0] for t in marked)) < 1e-5  # the sum of the marked two
    visible = "(id) => !document.getElementById(`panel-${id}`).hidden"
    assert bench.evaluate(f"['strip', 'hidden', 'gates', 'regression'].every({visible})")
    assert not bench.evaluate(f"['probs', 'equation', 'compare'].some({visible})")
    assert bench.locator('[data-knob="text"]').is_hidden() and bench.locator("#knob-example").is_visible()
    labels = bench.evaluate("document.getElementById('plot-strip').data.find((d) => d.meta === 'hover').text")
    assert labels == [("★" if t in marked else "") + f"{value:.2f}" for t, (value, _) in enumerate(meta["inputs"])]
    bench.evaluate("document.activeElement && document.activeElement.blur()")
    bench.keyboard.press("End")  # forward to the last step: the answer is asked for there
    bench.wait_for_function(f"() => window.unrolledBench.view.step === {T} && !window.unrolledBench.pending")
    last = bench.evaluate(f"window.unrolledBench.trace.steps[{T - 1}]")
    status = bench.locator("#status").inner_text()
    assert "예측" in status and "손실" in status
    describe = bench.locator("#describe-regression").inner_text()
    assert f"{last['prediction'][0]:.3f}" in describe and f"{meta['answer'][0]:.3f}" in describe
    assert abs(last["loss"] - (last["prediction"][0] - meta["answer"][0]) ** 2) < 1e-5
    bench.keyboard.press("b")  # backward: the gradient of that one loss against the steps it reaches
    bench.keyboard.press("End")
    bench.wait_for_function("() => window.unrolledBench.view.phase === 'backward' && window.unrolledBench.ready "
                            "&& !window.unrolledBench.pending")
    row = bench.evaluate("document.getElementById('plot-grad-one-loss').data.find((d) => d.meta === 'grad').y")
    assert len(row) == T and all(v is not None and v > 0 for v in row)  # every step gets some of L_{T-1}
    SHOTS.mkdir(parents=True, exist_ok=True)
    bench.screenshot(path=str(SHOTS / "bench-adding-ko-1280.png"), full_page=True)
    assert errors == []
    bench.close()


def test_english_page_and_a_refused_knob_in_english(new_page, server):
    page, log = open_lab(new_page, server, "en")
    assert page.locator("h1").inner_text() == "Training lab"
    title = page.locator('.preset-card[data-preset="truncation"] .preset-title').inner_text()
    assert title == "How far can truncated BPTT see?"
    page.locator("#lab-editor summary").click()
    assert page.locator(".lab-table thead th").count() == 5  # the knob column and four runs
    assert page.locator("#knob-forget_bias-0").is_disabled()  # the race's first run is a tanh RNN
    page.fill("#knob-lr-0", "100")
    page.locator("#lab-start").click()
    message = page.locator("#lab-message")
    message.wait_for(state="visible", timeout=20_000)
    text = message.inner_text()
    assert "Run 1: Learning rate:" in text and "10" in text, text
    assert page.locator("#knob-lr-0").get_attribute("aria-invalid") == "true"
    page.wait_for_function("() => window.unrolledLab.runs.slice(1).every((r) => r.status === 'stopped')")
    assert page.locator(".run-row").first.get_attribute("data-status") == "failed"
    refused = [e for e in log.console_errors() if "status of 422" not in e]
    assert refused == []


def test_a_paused_copy_run_opens_its_own_weights_in_the_bench(new_page, server):
    page, log = open_lab(new_page, server, "ko")
    page.locator('.preset-card[data-preset="truncation"]').click()
    page.locator("#lab-start").click()
    page.wait_for_function("() => window.unrolledLab.runs.length === 4 "
                           "&& window.unrolledLab.runs[0].series.step.length >= 2", timeout=30_000)
    first = page.locator(".run-row").first
    first.locator('[data-act="pause"]').click()
    page.wait_for_function("() => window.unrolledLab.runs[0].status === 'paused'")
    bench_button = first.locator('[data-act="bench"]')
    page.wait_for_function("() => !document.querySelector('.run-row [data-act=bench]').disabled")
    run_id = page.evaluate("window.unrolledLab.runs[0].id")
    opened: list[str] = []
    page.context.on("request", lambda r: opened.append(r.url) if "/bench?" in r.url else None)
    with page.context.expect_page() as popup:
        bench_button.click()
    bench = popup.value
    bench.wait_for_function("() => window.unrolledBench && window.unrolledBench.ready", timeout=30_000)
    assert any(f"checkpoint=run%3A{run_id}" in url for url in opened), opened
    assert any("arch=gru" in url for url in opened)
    # the bench traces the run's own weights (frozen at the paused step) with the copy task's targets
    bench.wait_for_function("() => window.unrolledBench.trace && window.unrolledBench.trace.steps.length > 0")
    assert bench.evaluate("window.unrolledBench.trace.meta.knobs.checkpoint").startswith(f"run:{run_id}@")
    assert bench.evaluate("window.unrolledBench.trace.steps[0].target") == "_"  # blank: nothing is recalled yet
    assert bench.locator("select[name=checkpoint]").input_value() == f"run:{run_id}"
    page.locator("#lab-stop-all").click()
    all_status(page, "stopped")
    assert log.console_errors() == []


UPLOAD_VOCAB = list("abcdefgh ")
UPLOADED = "() => document.querySelector('#upload-result h3') !== null"
REFUSED = "() => !document.getElementById('upload-message').hidden"


def _tiny_gru(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    core, readout = nn.GRU(len(UPLOAD_VOCAB), 16), nn.Linear(16, len(UPLOAD_VOCAB))
    tensors = {**core.state_dict(), **{f"readout.{k}": v for k, v in readout.state_dict().items()}}
    path = tmp_path / "tiny_gru.safetensors"
    save_file(tensors, str(path), metadata={"vocab": json.dumps(UPLOAD_VOCAB)})
    return path


def test_bring_your_own_model_in_korean_uploads_a_gru_opens_the_bench_and_refuses_a_pickle(new_page, server, tmp_path):
    page, log = open_lab(new_page, server, "ko")
    section = page.locator("#lab-upload")
    assert section.locator("h2").inner_text() == "내 모델 가져오기"
    assert page.locator("#upload-limit").inner_text() == "최대 20 MB"  # from the page config
    assert page.locator("#upload-activation").is_disabled()  # an RNN's knob; the GRU is chosen
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/api/models" in r.url else None)

    page.select_option("#upload-arch", "gru")
    page.set_input_files("#upload-file", str(_tiny_gru(tmp_path)))
    page.locator("#upload-submit").click()
    page.wait_for_function(UPLOADED, timeout=20_000)
    assert sent and sent[-1].endswith("/api/models?arch=gru&lang=ko"), sent
    values = section.locator(".upload-summary dd").all_inner_texts()
    assert values == ["GRU", "1층", "층마다 16개", "글자 9개"], values
    assert page.locator("#upload-message").is_hidden()
    checkpoint = page.evaluate("window.unrolledLab.upload.last.data.checkpoint")
    assert checkpoint.startswith("upload:")

    page.locator("#upload-howto summary").click()  # the saving snippet, open for the screenshot
    assert "save_file" in page.locator(".upload-snippet").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 720})
    wide = SHOTS / "lab-upload-ko-1280.png"
    section.screenshot(path=str(wide))

    with page.context.expect_page() as popup:
        page.locator("#upload-open").click()
    bench = popup.value
    bench_errors: list[str] = []
    bench.on("console", lambda m: bench_errors.append(m.text) if m.type == "error" else None)
    bench.on("pageerror", lambda e: bench_errors.append(str(e)))
    bench.wait_for_function("() => window.unrolledBench && window.unrolledBench.ready", timeout=30_000)
    assert bench.locator("select[name=checkpoint]").input_value() == checkpoint
    assert bench.evaluate("document.documentElement.lang") == "ko"
    bench.wait_for_function("() => window.unrolledBench.trace && window.unrolledBench.trace.steps.length > 0")
    assert bench.evaluate("window.unrolledBench.trace.meta.knobs.checkpoint") == checkpoint
    assert bench_errors == []
    bench.close()

    pickled = tmp_path / "model.pt"
    torch.save(nn.GRU(len(UPLOAD_VOCAB), 16).state_dict(), pickled)
    page.set_input_files("#upload-file", str(pickled))
    assert page.locator("#upload-open").is_visible()  # the last upload's link stays until the next is sent
    page.locator("#upload-submit").click()
    page.wait_for_function(REFUSED, timeout=20_000)
    message = page.locator("#upload-message").inner_text()
    assert "모델을 올리지 못했습니다" in message, message
    assert "safetensors 파일이 아닙니다" in message and "피클" in message, message
    assert page.locator("#upload-result").inner_text() == ""  # the last success is not left standing

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("() => document.documentElement.scrollWidth <= 390")
    box = section.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    phone = SHOTS / "lab-upload-ko-390.png"
    section.screenshot(path=str(phone))

    # over the limit in the page config: refused here, nothing is sent
    big = tmp_path / "big.safetensors"
    with open(big, "wb") as f:
        f.truncate(20 * 2**20 + 1)
    before = len(sent)
    page.set_input_files("#upload-file", str(big))
    page.locator("#upload-submit").click()
    page.wait_for_function("() => document.getElementById('upload-message').textContent.includes('20 MB')")
    assert "파일이 너무 큽니다" in page.locator("#upload-message").inner_text()
    assert len(sent) == before

    unexpected = [e for e in log.console_errors() if "status of 422" not in e]
    assert unexpected == [], unexpected
    assert all("127.0.0.1" not in url for url in log.blocked)
    assert wide.exists() and phone.exists()
