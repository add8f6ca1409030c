"""413 in the request's language, as JSON: the body limit (FastAPI's max_body_size, from Content-Length
before a byte is read, or counted as a chunked body arrives) answers with Starlette's plain-text
"Content Too Large" from outside every user middleware, so this wraps the whole stack and rewrites
that one answer: {"detail": <sentence>, "limit_bytes": n} with Content-Language.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import request_lang
from app.i18n import load_strings


class LocalizedTooLarge:
    def __init__(self, app: ASGIApp, limit_for: dict[str, int], default_limit: int) -> None:
        self.app, self.limit_for, self.default_limit = app, limit_for, default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def rewrite(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 413:
                replaced = True
                lang = request_lang(Request(scope))
                limit = self.limit_for.get(scope["path"], self.default_limit)
                sentence = load_strings(lang)["err_too_large"].format(limit=_size(limit))
                body = json.dumps({"detail": sentence, "limit_bytes": limit}, ensure_ascii=True).encode()
                headers = [(k, v) for k, v in Headers(raw=message["headers"]).raw
                           if k.lower() not in (b"content-type", b"content-length", b"content-encoding")]
                headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"content-language", lang.encode())]
                await send({**message, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            if replaced:  # the original body: already answered
                return
            await send(message)

        await self.app(scope, receive, rewrite)


def _size(n: int) -> str:
    return f"{n / 2**20:g} MB" if n >= 2**20 else f"{n / 1024:g} KB"
