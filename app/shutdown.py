"""Graceful shutdown for open streams: on SIGTERM (or SIGINT) a stream goes on for `timeout_s`, then ends
with a `reconnect` event whose `retry` field tells EventSource to come back later (it resumes after its
Last-Event-ID, on this server once it is back or on another behind the same address).

uvicorn waits for every open connection before it stops, and a slow stream of 256 steps at 2 s a step
would hold it for 17 minutes. uvicorn does not tell the application that it was asked to stop until
the connections have closed, so the lifespan chains a handler in front of uvicorn's own signal handler
(installed before the lifespan starts, and restored by uvicorn when it exits).
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable

RECONNECT_AFTER_MS = 10_000  # what the final event asks EventSource to wait before reconnecting


class Shutdown:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.begun = False
        self.closing = asyncio.Event()  # set timeout_s after begin(): open streams end now

    def begin(self) -> None:
        """The server was asked to stop (call on the event loop's thread)."""
        if not self.begun:
            self.begun = True
            asyncio.get_running_loop().call_later(self.timeout_s, self.closing.set)

    def watch_signals(self) -> Callable[[], None]:
        """Chain begin() in front of the running server's SIGINT/SIGTERM handlers; returns the undo.
        Only a Python handler is chained (a default action would end the process anyway), and only
        from the main thread (where signal handlers live)."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        loop = asyncio.get_running_loop()
        chained = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue

            def handler(signum, frame, previous=previous):
                loop.call_soon_threadsafe(self.begin)
                previous(signum, frame)

            signal.signal(sig, handler)
            chained[sig] = (handler, previous)

        def undo() -> None:
            for sig, (handler, previous) in chained.items():
                if signal.getsignal(sig) is handler:
                    signal.signal(sig, previous)

        return undo
