"""Headless Chromium driven while its pages stay open, for tests that act on a page and then watch it
react (save a file, see the page reload). The Chrome DevTools Protocol runs over a pipe
(``--remote-debugging-pipe``: JSON messages ending in NUL, read by Chromium on descriptor 3, written on
descriptor 4), so the standard library is enough. Every wait has a deadline."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.integration.browser import headless_command
from tests.integration.client import wait_until

# Puts the two pipe ends on descriptors 3 and 4 in the child, then becomes Chromium (a trampoline rather
# than preexec_fn, which is unsafe in a process with threads: a LiveServer's loop runs on one). The
# set_inheritable calls matter when a dup already landed on 3 or 4: dup2 onto itself changes nothing.
_ON_3_AND_4 = (
    "import os, sys; a, b = (os.dup(int(n)) for n in sys.argv[1:3]); os.dup2(a, 3); os.dup2(b, 4); "
    "os.set_inheritable(3, True); os.set_inheritable(4, True); os.execv(sys.argv[3], sys.argv[3:])"
)


class DevToolsError(Exception):
    """Chromium answered a command with an error, or a script threw."""


class Browser:
    """A headless Chromium with ``profile``; ``open(url)`` gives a Page. Use it as a context manager."""

    def __init__(self, profile: Path) -> None:
        to_chromium, self._commands = os.pipe()
        self._answers, from_chromium = os.pipe()
        command = headless_command(profile, "--remote-debugging-pipe", "about:blank")
        self.process = subprocess.Popen(
            [sys.executable, "-c", _ON_3_AND_4, str(to_chromium), str(from_chromium), *command],
            pass_fds=(to_chromium, from_chromium),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chromium)
        os.close(from_chromium)
        self._buffer = b""
        self._last_id = 0

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None, timeout: float = 30
    ) -> Any:
        """Send a command and return its result. Raises DevToolsError for an error answer."""
        self._last_id += 1
        message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._next_message(deadline)
            if answer.get("id") == self._last_id:  # events and stale answers pass by
                if "error" in answer:
                    raise DevToolsError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def _next_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._answers], [], [], remaining)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                raise ConnectionError(f"Chromium exited ({self.process.poll()})")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def open(self, url: str) -> Page:
        """A new tab showing ``url`` (its load may still be under way)."""
        target = self.call("Target.createTarget", {"url": url})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        return Page(self, session)

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError, TimeoutError, DevToolsError):
                self.call("Browser.close", timeout=10)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        os.close(self._commands)
        os.close(self._answers)


class Page:
    """One tab: evaluate JavaScript in it, or wait until an expression holds."""

    def __init__(self, browser: Browser, session: str) -> None:
        self._browser = browser
        self._session = session

    def evaluate(self, expression: str) -> Any:
        """The JSON value of ``expression`` in the page (promises awaited). Raises DevToolsError if it throws."""
        params = {"expression": expression, "returnByValue": True, "awaitPromise": True}
        result = self._browser.call("Runtime.evaluate", params, self._session)
        if "exceptionDetails" in result:
            raise DevToolsError(result["exceptionDetails"].get("exception", {}).get("description", str(result)))
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 10) -> Any:
        """Poll ``expression`` until it is truthy and return its value; a page between two documents (a
        reload) that cannot evaluate yet counts as not yet. Raises TimeoutError after ``timeout``."""
        values: list[Any] = []

        def holds() -> object:
            try:
                values.append(self.evaluate(expression))
            except DevToolsError:
                return False
            return values[-1]

        if not wait_until(holds, timeout, interval=0.02):
            raise TimeoutError(f"still false after {timeout} s: {expression} (last value {values[-1:]})")
        return values[-1]
