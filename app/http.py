"""HTTP around the routes: gzip, and static files with Cache-Control and a gzipped copy made once.

- Responses from `gzip_min_bytes` on are gzipped (HTML, JSON, CSV ...) at level 1: on trace JSON it
  gives 0.44 of the size where level 6 gives 0.40, for a fifth of the CPU (a class of 60 downloading
  one 2.5 MB trace costs 2 s of CPU at level 1, 13 s at level 6).
- Event streams are gzipped too (`gzip_streams`), each event flushed on its own (Starlette >= 1.5
  flushes every streamed chunk: events arrive one by one, never as one late blob).
- Static files: a gzipped copy is made once per file and version and served to everyone (the vendor
  files' were made at set-up with zopfli, app.precompress).
  /vendor/<package>@<version>/ (the version from package-lock.json) is cached for a year; the
  unversioned /vendor/<package>/ for a day; /static/ is revalidated on every use (ETag, 304).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import lru_cache
from pathlib import Path

import anyio.to_thread
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import Scope

from app.precompress import precompressed

ROOT = Path(__file__).resolve().parent.parent
GZIP_LEVEL = 1  # dynamic responses (see the module docstring)
IMMUTABLE = "public, max-age=31536000, immutable"  # a versioned URL never changes
ONE_DAY = "public, max-age=86400"
REVALIDATE = "no-cache"  # use it, but ask first (a 304 costs headers only)
_COMPRESSIBLE = ("text/", "application/json", "application/javascript", "application/xml", "image/svg+xml")
_LARGEST = 32 * 2**20  # files above this are sent as they are


def gzip_exclusions(streams: bool) -> tuple[str, ...]:
    """Starlette's excluded types (already compressed media, and event streams), less the event stream
    when streams are to be gzipped."""
    if not streams:
        return DEFAULT_EXCLUDED_CONTENT_TYPES
    return tuple(t for t in DEFAULT_EXCLUDED_CONTENT_TYPES if t != "text/event-stream")


@lru_cache(maxsize=64)
def _gzipped(path: str, mtime_ns: int, size: int) -> bytes:
    """A file's gzip (keyed by its mtime and size, so an updated file is compressed anew): the set-up's
    zopfli copy when it is newer than the file (app.precompress), else level 9."""
    ready = precompressed(Path(path))
    try:
        if ready.stat().st_mtime_ns >= mtime_ns:
            return ready.read_bytes()
    except OSError:
        pass
    return gzip.compress(Path(path).read_bytes(), compresslevel=9, mtime=0)


class CachedStaticFiles(StaticFiles):
    """StaticFiles with a Cache-Control header and a gzipped copy of each compressible file."""

    def __init__(self, *, cache_control: str, gzip_min_bytes: int | None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.cache_control, self.gzip_min_bytes = cache_control, gzip_min_bytes

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code not in (200, 304):
            return response
        response.headers["Cache-Control"] = self.cache_control
        if response.status_code != 200 or not isinstance(response, FileResponse) or self.gzip_min_bytes is None:
            return response
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        stat = response.stat_result
        compressible = (response.media_type or "").startswith(_COMPRESSIBLE)
        if (not compressible or stat is None or not self.gzip_min_bytes <= stat.st_size <= _LARGEST
                or "gzip" not in headers.get("accept-encoding", "") or "range" in headers):
            return response
        body = await anyio.to_thread.run_sync(_gzipped, str(response.path), stat.st_mtime_ns, stat.st_size)
        keep = {k: response.headers[k] for k in ("content-type", "etag", "last-modified", "cache-control")
                if k in response.headers}
        return Response(body, headers={**keep, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})


def vendor_versions(lock: Path = ROOT / "package-lock.json") -> dict[str, str]:
    """npm package -> version, as package-lock.json pins it ({} without a lock file)."""
    try:
        packages = json.loads(lock.read_text(encoding="utf-8"))["packages"]
    except (OSError, KeyError, ValueError):
        return {}
    prefix = "node_modules/"
    return {k[len(prefix):]: v["version"] for k, v in packages.items() if k.startswith(prefix) and "version" in v}


def weak_etag(body: bytes | str) -> str:
    """W/"<hash>": weak, because gzip changes the bytes on the wire, not what they mean."""
    raw = body.encode() if isinstance(body, str) else body
    return 'W/"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'


def wants_gzip(request: Request, size: int) -> bool:
    """Whether GZipMiddleware would gzip an answer of `size` bytes to this request (a route that keeps a
    gzipped copy sends that instead, and the middleware passes an answer already encoded through)."""
    header = request.headers.get("accept-encoding", "")
    return "gzip" in header and size >= request.app.state.settings.gzip_min_bytes


def revalidated(request: Request, body: bytes | str, media_type: str, etag: str | None = None,
                headers: dict[str, str] | None = None) -> Response:
    """A GET answer a browser keeps and revalidates: a trace is a pure function of its knobs, so a page
    loaded again (a student on bad wifi reopening a lesson) gets 304 and headers, not the data again.
    etag: the body's weak_etag when the caller keeps it (a cached trace hashes each part once)."""
    raw = body.encode() if isinstance(body, str) else body
    tag = etag or weak_etag(raw)
    cache = {"ETag": tag, "Cache-Control": "no-cache", **(headers or {})}
    if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=cache)
    return Response(raw, media_type=media_type, headers=cache)
