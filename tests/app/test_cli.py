"""The three ways to start the app, and settings from the environment."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.cli import build_parser
from app.settings import Settings
from tests.app.conftest import _free_port

ROOT = Path(__file__).resolve().parents[2]


def test_settings_come_from_the_environment_with_the_unrolled_prefix(monkeypatch):
    monkeypatch.setenv("UNROLLED_PORT", "9123")
    monkeypatch.setenv("UNROLLED_WORKERS", "3")
    monkeypatch.setenv("UNROLLED_USE_CDN", "true")
    monkeypatch.setenv("UNROLLED_MAX_TEXT_LENGTH", "64")
    monkeypatch.setenv("PORT", "1")  # unprefixed variables are not ours
    settings = Settings()
    assert (settings.port, settings.workers, settings.use_cdn, settings.max_text_length) == (9123, 3, True, 64)


def test_settings_cannot_loosen_the_request_caps(monkeypatch):
    monkeypatch.setenv("UNROLLED_MAX_HIDDEN_SIZE", "1024")
    with pytest.raises(ValueError, match="max_hidden_size"):
        Settings()


def test_serve_command_parses_host_and_port():
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "8765"])
    assert (args.command, args.host, args.port) == ("serve", "0.0.0.0", 8765)


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "app", "--host", "127.0.0.1", "--port", "{port}"],
        ["unrolled", "serve", "--host", "127.0.0.1", "--port", "{port}"],
        ["-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", "{port}"],
    ],
    ids=["python -m app", "unrolled serve", "uvicorn app.main:app"],
)
def test_each_start_command_serves_the_api(command):
    port = _free_port()
    argv = [part.format(port=port) for part in command]
    if argv[0] == "unrolled":  # the console script, or its entry point where the project is not installed
        script = Path(sys.executable).parent / "unrolled"
        argv = [str(script), *argv[1:]] if script.exists() else ["-c", "from app.cli import main; main()", *argv[1:]]
    if argv[0].startswith("-"):
        argv = [sys.executable, *argv]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/architectures", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.2)
        assert [a["arch"] for a in response.json()["architectures"]] == ["rnn", "lstm", "gru", "sgru", "transformer"]
    finally:
        process.terminate()
        process.wait(timeout=15)
