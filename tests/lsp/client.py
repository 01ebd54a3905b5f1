"""A minimal LSP client for the tests: ``python -m tinnhiem lsp`` as a subprocess, JSON-RPC over stdio.

Takes nothing but the folder to run in; produces a :class:`LspClient` that frames messages with
``Content-Length`` headers itself (no client library, so the server is tested against the wire
format an editor uses), reads the server's messages on a thread into a queue, and waits for each
answer or notification with a bounded timeout: a hung server fails the test, it never hangs CI.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

TIMEOUT = 30.0


class ServerGone(AssertionError):
    pass


class LspClient:
    def __init__(self, cwd: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen([sys.executable, "-m", "tinnhiem", "lsp"], cwd=cwd, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.notifications: list[dict[str, Any]] = []
        self.next_id = 0
        self.stderr_lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()

    # ---- wire format
    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        try:
            while True:
                headers: dict[str, str] = {}
                while True:
                    line = out.readline()
                    if not line:
                        self.messages.put(None)
                        return
                    line = line.strip()
                    if not line:
                        break
                    key, _, value = line.decode("ascii").partition(":")
                    headers[key.strip().lower()] = value.strip()
                body = out.read(int(headers["content-length"]))
                self.messages.put(json.loads(body.decode("utf-8")))
        except Exception:  # noqa: BLE001 - a broken stream ends the conversation
            self.messages.put(None)

    def _drain_stderr(self) -> None:
        err = self.proc.stderr
        assert err is not None
        for line in err:
            self.stderr_lines.append(line.decode("utf-8", "replace"))

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        stdin = self.proc.stdin
        assert stdin is not None
        stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body)
        stdin.flush()

    def _next(self, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the language server did not answer in time\n" + "".join(self.stderr_lines[-20:]))
        try:
            msg = self.messages.get(timeout=remaining)
        except queue.Empty:
            raise TimeoutError("the language server did not answer in time\n" + "".join(self.stderr_lines[-20:])) from None
        if msg is None:
            raise ServerGone("the language server closed its output\n" + "".join(self.stderr_lines[-20:]))
        return msg

    def send_bytes(self, data: bytes) -> None:
        """Raw bytes on the server's stdin: for framing an editor would never send."""
        stdin = self.proc.stdin
        assert stdin is not None
        stdin.write(data)
        stdin.flush()

    # ---- requests and notifications
    def response(self, rid: int | str | None, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The whole response (``result`` or ``error``) whose id is ``rid`` (None: an error about no message in particular)."""
        deadline = time.monotonic() + timeout
        while True:
            msg = self._next(deadline)
            if "method" not in msg and "id" in msg and msg["id"] == rid:
                return msg
            self._handle(msg)

    def call(self, method: str, params: Any, timeout: float = TIMEOUT) -> dict[str, Any]:
        """Send a request and return its whole response, an error as much as a result."""
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.response(self.next_id, timeout)

    def request(self, method: str, params: Any, timeout: float = TIMEOUT) -> Any:
        msg = self.call(method, params, timeout)
        if "error" in msg:
            raise AssertionError(f"{method} failed: {msg['error']}")
        return msg.get("result")

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def _handle(self, msg: dict[str, Any]) -> None:
        if "method" in msg and "id" in msg:  # a request from the server (e.g. registerCapability): accept it
            self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
        elif "method" in msg:
            self.notifications.append(msg)

    def wait_notification(self, method: str, where: Any = None, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The first notification ``method`` (already received or to come) whose params satisfy ``where``."""
        deadline = time.monotonic() + timeout
        while True:
            for i, n in enumerate(self.notifications):
                if n["method"] == method and (where is None or where(n["params"])):
                    return self.notifications.pop(i)["params"]
            self._handle(self._next(deadline))

    def stderr(self) -> str:
        """What the server wrote on stderr (complete once it has exited)."""
        if self.proc.poll() is not None:
            self._stderr_thread.join(timeout=10)
        return "".join(self.stderr_lines)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
