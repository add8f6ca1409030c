"""Bytes on the wire: gzip above a threshold, Cache-Control on static files, and the checks around the
test run itself (no deprecation warnings, a set-up that says what it needs)."""

from __future__ import annotations

import gzip
import importlib
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from app.http import vendor_versions

ROOT = Path(__file__).resolve().parents[2]
GZIP = {"Accept-Encoding": "gzip"}
KNOBS = {"arch": "lstm", "text": "hello, hello world", "hidden_size": 16}


def _gunzipped(response) -> bytes:
    """The body as sent (the test client decodes gzip for us; this checks that it was gzip)."""
    assert response.headers.get("content-encoding") == "gzip", dict(response.headers)
    assert "accept-encoding" in response.headers.get("vary", "").lower()
    return response.content


def test_json_csv_and_html_above_the_threshold_are_gzipped(client):
    trace = client.post("/api/trace", json=KNOBS, headers=GZIP)
    assert trace.json()["vocab"] and _gunzipped(trace)
    assert _gunzipped(client.get("/api/trace.csv", params=KNOBS, headers=GZIP)).startswith(b"t,token")
    assert _gunzipped(client.get("/api/architectures", headers=GZIP))
    page = client.get("/bench", headers=GZIP)
    assert page.status_code == 200 and b"<html" in _gunzipped(page)


def test_small_answers_and_clients_without_gzip_get_plain_bytes(client):
    status = client.get("/api/status", headers=GZIP)
    assert len(status.content) < 1024 and "content-encoding" not in status.headers
    plain = client.post("/api/trace", json=KNOBS, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json()["vocab"]


def test_a_cached_trace_is_gzipped_once_for_every_client(client):
    """A class opening one lesson: the trace and its parts are compressed by the first request only."""
    client.post("/api/trace", json=KNOBS, headers={"Accept-Encoding": "identity"})
    [entry] = client.app.state.traces._cache.values()
    plain_bytes = entry.nbytes
    first = client.post("/api/trace", json=KNOBS, headers=GZIP)
    assert set(entry.gzipped) == {"body"}
    made = entry.gzipped["body"]
    again = client.post("/api/trace", json=KNOBS, headers=GZIP)
    assert entry.gzipped["body"] is made and _gunzipped(again) == _gunzipped(first) == entry.body
    assert gzip.decompress(made) == entry.body
    download = client.get("/api/trace.json", params=KNOBS, headers=GZIP)  # the same bytes: the same copy
    assert _gunzipped(download) == entry.body and download.headers["etag"] and set(entry.gzipped) == {"body"}
    summary = client.get("/api/trace/summary", params=KNOBS, headers=GZIP)
    T = len(entry.payload["steps"])
    assert set(entry.gzipped) == {"body", "summary"} and _gunzipped(summary) == entry.events[2 * T + 1].encode()
    plain = client.get("/api/trace/summary", params=KNOBS, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == summary.content
    unchanged = client.get("/api/trace/summary", params=KNOBS,
                           headers={**GZIP, "If-None-Match": summary.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    # the copies count against the memory budget with their trace
    kept = sum(len(v) for v in entry.gzipped.values())
    assert entry.nbytes == plain_bytes + kept
    assert client.app.state.traces._cached_bytes == entry.nbytes


def test_the_wire_bytes_shrink(live):
    import httpx

    with httpx.Client(base_url=live.url, timeout=30) as http:
        raw = {}
        for encoding in ("identity", "gzip"):
            with http.stream("POST", "/api/trace", json=KNOBS, headers={"Accept-Encoding": encoding}) as r:
                raw[encoding] = sum(len(chunk) for chunk in r.iter_raw())
            with http.stream("GET", "/api/trace/stream", params=KNOBS, headers={"Accept-Encoding": encoding}) as r:
                raw[f"stream-{encoding}"] = sum(len(chunk) for chunk in r.iter_raw())
    assert raw["gzip"] < 0.6 * raw["identity"]
    assert raw["stream-gzip"] < 0.6 * raw["stream-identity"]


@pytest.mark.skipif(not (ROOT / "node_modules" / "htmx.org").is_dir(), reason="npm assets not installed")
def test_vendor_assets_are_gzipped_once_and_cached_long(client):
    versions = vendor_versions()
    plotly = f"/vendor/plotly@{versions['plotly.js-cartesian-dist-min']}/plotly-cartesian.min.js"
    response = client.get(plotly, headers=GZIP)
    assert response.status_code == 200 and response.headers["cache-control"] == "public, max-age=31536000, immutable"
    body = (ROOT / "node_modules" / "plotly.js-cartesian-dist-min" / "plotly-cartesian.min.js").read_bytes()
    assert _gunzipped(response) == body
    assert int(response.headers["content-length"]) < len(body) / 3  # 1.4 MB of JavaScript in well under 500 kB
    unversioned = client.get("/vendor/htmx/htmx.min.js", headers=GZIP)
    assert unversioned.headers["cache-control"] == "public, max-age=86400" and _gunzipped(unversioned)
    assert client.get(f"/vendor/htmx@{versions['htmx.org']}/htmx.min.js").headers["cache-control"].endswith("immutable")
    ranged = client.get(plotly, headers={**GZIP, "Range": "bytes=0-99"})
    assert ranged.status_code == 206 and "content-encoding" not in ranged.headers and len(ranged.content) == 100


def test_static_files_are_revalidated_and_answer_304(client):
    path = "/static/i18n/en/errors.json"
    first = client.get(path, headers=GZIP)
    assert first.status_code == 200 and first.headers["cache-control"] == "no-cache" and first.headers["etag"]
    again = client.get(path, headers={**GZIP, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["cache-control"] == "no-cache"


def test_the_gzipped_copy_follows_the_file(tmp_path):
    from app.http import _gzipped

    asset = tmp_path / "a.js"
    asset.write_text("let a = 1;\n" * 200)
    first = _gzipped(str(asset), asset.stat().st_mtime_ns, asset.stat().st_size)
    asset.write_text("let b = 2;\n" * 300)
    second = _gzipped(str(asset), asset.stat().st_mtime_ns, asset.stat().st_size)
    assert gzip.decompress(second).startswith(b"let b") and first != second


def test_the_set_up_copy_is_served_while_it_is_newer_than_its_file(tmp_path):
    from app.http import _gzipped
    from app.precompress import precompress, precompressed

    asset = tmp_path / "lib.js"
    asset.write_text("function f(a) { return a * 2; }\n" * 400)
    [(path, size, packed)] = precompress([tmp_path])
    copy = precompressed(asset).read_bytes()
    assert path == asset and packed == len(copy) < len(gzip.compress(asset.read_bytes(), 9, mtime=0))
    assert _gzipped(str(asset), asset.stat().st_mtime_ns, size) == copy
    assert precompress([tmp_path]) == []  # up to date: not made again
    os.utime(asset, ns=(precompressed(asset).stat().st_mtime_ns + 10**9,) * 2)  # the file changed since
    stale = _gzipped(str(asset), asset.stat().st_mtime_ns, size)
    assert stale != copy and gzip.decompress(stale) == asset.read_bytes()


def test_plotly_goes_out_as_the_set_up_made_it():
    """scripts/setup.sh runs app.precompress: the largest asset of every page is the zopfli copy."""
    from app.main import VENDOR
    from app.precompress import precompressed

    plotly = VENDOR["/vendor/plotly"] / "plotly-cartesian.min.js"
    copy = precompressed(plotly)
    assert copy.stat().st_mtime_ns >= plotly.stat().st_mtime_ns
    assert gzip.decompress(copy.read_bytes()) == plotly.read_bytes()
    assert len(copy.read_bytes()) < 0.98 * len(gzip.compress(plotly.read_bytes(), 9, mtime=0))


def test_the_test_client_raises_no_deprecation_warning():
    """Starlette's TestClient deprecates httpx in favour of httpx2 (the test extra installs it)."""
    import starlette.testclient

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importlib.reload(starlette.testclient)
    deprecations = [w for w in caught if "Deprecation" in w.category.__name__]  # Starlette's is a UserWarning
    assert not deprecations, [str(w.message) for w in deprecations]


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("runuser") is None, reason="needs root to become another user")
def test_setup_as_a_user_without_chromium_names_the_package_and_stops():
    """No sudo inside the script: it says what to install and stops before it sets anything up."""
    env = {"PATH": "/usr/bin:/bin", "CHROMIUM": "/nonexistent/chromium", "HOME": "/tmp"}
    argv = [shutil.which("runuser"), "-u", "nobody", "--", "bash", "-s", "--", "--browser"]
    run = subprocess.run(argv, env=env, cwd="/tmp",
                         input=(ROOT / "scripts" / "setup.sh").read_text(), capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, (run.stdout, run.stderr)
    assert "sudo apt-get install -y chromium" in run.stderr, run.stderr
    assert run.stdout == "" and "pip" not in run.stderr  # it stopped before installing anything


def test_serve_needs_no_apt():
    serve = (ROOT / "scripts" / "serve.sh").read_text()
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert "--browser" not in serve and "apt" not in serve
    browser_part = setup.split('if [ "$BROWSER" = 1 ]', 1)
    assert len(browser_part) == 2 and "apt-get" not in browser_part[0]  # apt only for the browser tests
