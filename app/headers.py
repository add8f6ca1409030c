"""Security headers on every response: a strict Content-Security-Policy, nosniff and a referrer policy.

The policy (content_security_policy) lets a page run only this server's own script files: no inline
script, no inline event handler, no eval, no plugins, no <base> rewriting, forms posting only here, and
framing only by the origins in UNROLLED_FRAME_ANCESTORS. With UNROLLED_USE_CDN=true it names the two
CDN files themselves (full URLs, not the whole jsDelivr host, which serves any npm package), and
those carry SRI hashes too. A route that needs more (the API docs, app.docs) sets its own header,
which the middleware leaves in place.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.pages import asset_context
from app.settings import Settings

# Styles need 'unsafe-inline' (measured with chromium's CSP reports, style-src 'self' alone): plotly.js
# adds <style> elements and sets style="..." attributes (d3), and without them its plots overlap and take
# each other's clicks; htmx adds a <style> for its indicators. Styles cannot run code. Scripts need no
# 'unsafe-eval': plotly.js's cartesian bundle draws, hovers and exports PNG/SVG without it.
STYLE_SRC = "'self' 'unsafe-inline'"


def content_security_policy(settings: Settings, scripts: tuple[str, ...] = (), workers: str = "") -> str:
    """The policy for a page: `scripts` adds script sources (a hash of one known inline script, for
    instance), `workers` a worker-src (ReDoc's search runs in a blob: worker)."""
    assets = asset_context(settings)
    cdn = tuple(a["cdn"] for a in assets["assets"].values()) if assets["use_cdn"] else ()
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(("'self'", *scripts, *cdn)),
        "style-src": STYLE_SRC,
        "img-src": "'self' data: blob:",  # Plotly's PNG/SVG export draws through data: and blob: images
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": settings.frame_ancestors,
    }
    if workers:
        directives["worker-src"] = workers
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(settings: Settings) -> dict[str, str]:
    return {
        CSP: content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",  # a JSON or CSV answer is never run as a script or a page
        "Referrer-Policy": "same-origin",  # a permalink's knobs never leave for another site
    }


CSP = "Content-Security-Policy"
NOT_DOCUMENTS = ("text/javascript", "application/javascript", "text/css")


class SecurityHeadersMiddleware:
    """Adds the headers to every HTTP response, keeping any a route set itself (a page's own CSP)."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app, self.headers = app, headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # A policy governs documents (and workers): on a script or a style sheet it does nothing, and
                # its 215 bytes on each of a page's 30-odd assets were 7 KB of a first load.
                skip = CSP if headers.get("content-type", "").startswith(NOT_DOCUMENTS) else ""
                for name, value in self.headers.items():
                    if name not in headers and name != skip:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
