"""`python -m app.precompress`: the vendor scripts and styles gzipped once, at set-up, with zopfli (5
iterations), which makes a gzip stream any browser reads, 4 % smaller than level 9: plotly.js's
cartesian bundle goes out as 476.9 kB rather than 496.2 kB, the bulk of a first load. It takes
seconds per file, too slow for a first request, so app.http serves the `<file>.gz` written here when
it is newer than its file, and gzips at level 9 itself otherwise.
"""

from __future__ import annotations

import gzip
from pathlib import Path

COMPRESSIBLE = (".js", ".css", ".svg")  # what pages load (source maps are not)
SMALLEST = 4096  # below this a gzip saves too little to be worth a file


def precompressed(path: Path) -> Path:
    return path.with_name(path.name + ".gz")


def compress(raw: bytes) -> bytes:
    try:
        import zopfli.gzip
    except ImportError:  # not installed: level 9 (still a valid, if larger, copy)
        return gzip.compress(raw, compresslevel=9, mtime=0)
    return zopfli.gzip.compress(raw, numiterations=5)


def precompress(directories: list[Path]) -> list[tuple[Path, int, int]]:
    """(file, its size, its gzip's size) for each file compressed anew; an up-to-date copy is kept."""
    done = []
    for directory in directories:
        for path in sorted(p for p in directory.rglob("*") if p.suffix in COMPRESSIBLE and p.is_file()):
            target = precompressed(path)
            size = path.stat().st_size
            if size < SMALLEST or (target.exists() and target.stat().st_mtime_ns >= path.stat().st_mtime_ns):
                continue
            body = compress(path.read_bytes())
            target.write_bytes(body)
            done.append((path, size, len(body)))
    return done


def main() -> None:
    from app.main import VENDOR

    done = precompress([Path(d) for d in VENDOR.values() if Path(d).is_dir()])
    if done:
        print(f"gzipped {len(done)} vendor files: {sum(d[1] for d in done):,} -> {sum(d[2] for d in done):,} bytes")


if __name__ == "__main__":
    main()
