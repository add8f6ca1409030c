"""A trace is a pure function of its knobs: its GET answers carry an ETag, and a browser that asks
again with If-None-Match gets 304 and no body (a reopened lesson costs headers, not the data)."""

from __future__ import annotations

import pytest

KNOBS = {"arch": "gru", "text": "revalidate me", "hidden_size": 8}


@pytest.mark.parametrize("path,extra", [("/api/trace.json", {}), ("/api/trace.json", {"params": "false"}),
                                        ("/api/trace/params", {}), ("/api/trace/summary", {}),
                                        ("/api/ar", {"checkpoint": "charlm-gru", "text": "오늘 아침", "tau": 2})])
def test_a_repeated_get_is_304_without_a_body(client, path, extra):
    params = {**KNOBS, **extra} if path != "/api/ar" else extra
    first = client.get(path, params=params)
    assert first.status_code == 200 and first.headers["cache-control"] == "no-cache"
    tag = first.headers["etag"]
    assert tag.startswith('W/"')
    again = client.get(path, params=params, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    other = client.get(path, params={**params, "seed": 1} if path != "/api/ar" else {**params, "tau": 3},
                       headers={"If-None-Match": tag})
    assert other.status_code == 200 and other.headers["etag"] != tag  # other knobs, other data
