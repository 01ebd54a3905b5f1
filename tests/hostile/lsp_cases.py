"""Family 5, the language server: a few conversations a hostile client or document could hold.

Takes the test client of :mod:`tests.lsp.client` (``python -m tinnhiem lsp`` over stdio, bounded
waits), started here with the suite's environment (``TINNHIEM_SECRET`` set, ``TINNHIEM_DEBUG``
unset); produces a :class:`~tests.hostile.harness.Result` per conversation: the server's exit status
after ``shutdown``/``exit`` (expected 0), every message it sent (as stdout), its stderr, and the
scenario's own problems. Every case ends with a good request that must still be answered.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.hostile.harness import Case, Result, environment
from tests.lsp.client import LspClient

WAIT = 15.0
PARSE_ERROR, INVALID_PARAMS = -32700, -32602
POLICY = 'policy demo {\n  name "Demo"\n}\n\nlevels {\n  commune "Cấp xã"\n}\n'
FMT = {"tabSize": 2, "insertSpaces": True}


class Client(LspClient):
    """The test client, with the suite's environment, and a log of every message the server sent."""

    def __init__(self, cwd: Path) -> None:  # same as LspClient.__init__, with env=environment()
        self.proc = subprocess.Popen([sys.executable, "-m", "tinnhiem", "lsp"], cwd=cwd, env=environment(),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.notifications: list[dict[str, Any]] = []
        self.next_id = 0
        self.stderr_lines: list[str] = []
        self.log: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()

    def _next(self, deadline: float) -> dict[str, Any]:
        msg = super()._next(deadline)
        self.log.append(msg)
        return msg


def frame(body: bytes, length: bytes | None = None) -> bytes:
    return b"Content-Length: " + (str(len(body)).encode() if length is None else length) + b"\r\n\r\n" + body


def at(uri: str, line: int = 0, character: int = 0) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}


def open_doc(c: Client, uri: str, text: str) -> list[dict[str, Any]]:
    c.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "tinnhiem", "version": 1, "text": text}})
    return c.wait_notification("textDocument/publishDiagnostics", lambda p: p["uri"] == uri, timeout=WAIT)["diagnostics"]


def still_answers(c: Client, folder: Path) -> list[str]:
    uri = (folder / "demo.policy").as_uri()
    open_doc(c, uri, POLICY)
    hover = c.request("textDocument/hover", at(uri, 5, 4), timeout=WAIT)
    if hover is None or "commune" not in hover["contents"]["value"]:
        return [f"a good hover after the hostile input was not answered properly: {hover!r}"]
    return []


def code_of(msg: dict[str, Any]) -> int | None:
    return msg.get("error", {}).get("code") if isinstance(msg.get("error"), dict) else None


Scenario = Callable[[Client, Path], list[str]]


def bad_content_length(length: bytes) -> Scenario:
    def run(c: Client, folder: Path) -> list[str]:
        body = json.dumps({"jsonrpc": "2.0", "id": 77, "method": "textDocument/hover", "params": at("file:///x.policy")}).encode()
        c.send_bytes(frame(body, length))
        got = c.response(None, timeout=WAIT)
        return [] if code_of(got) == PARSE_ERROR else [f"Content-Length {length[:20]!r}: expected a parse error, got {got}"]
    return run


def invalid_params(method: str, params: Any) -> Scenario:
    def run(c: Client, folder: Path) -> list[str]:
        got = c.call(method, params, timeout=WAIT)
        return [] if code_of(got) == INVALID_PARAMS else [f"{method} with {params!r}: expected -32602, got {got}"]
    return run


def nul_uri(c: Client, folder: Path) -> list[str]:
    uri = folder.as_uri() + "/a%00b.policy"
    diags = open_doc(c, uri, POLICY)
    problems = [] if diags and "NUL" in diags[0]["message"] else [f"no NUL diagnostic for {uri}: {diags}"]
    got = c.call("textDocument/hover", at(uri, 5, 4), timeout=WAIT)
    if code_of(got) != INVALID_PARAMS:
        problems.append(f"hover on a %00 URI: expected -32602, got {got}")
    return problems


def importing(target: str, setup: Callable[[Path], None] | None = None) -> Scenario:
    """A document importing ``target``: a diagnostic on the import; hover and definition on it answer; no secret anywhere."""
    def run(c: Client, folder: Path) -> list[str]:
        if setup is not None:
            setup(folder)
        uri = (folder / "sub" / "doc.policy").as_uri()
        (folder / "sub").mkdir(exist_ok=True)
        text = POLICY + f'import "{target}" as x\n'
        diags = open_doc(c, uri, text)
        problems = [] if diags else [f"no diagnostic for an import of {target}"]
        for method in ("textDocument/hover", "textDocument/definition"):
            got = c.call(method, at(uri, 7, 10), timeout=WAIT)
            if "error" in got and code_of(got) != INVALID_PARAMS:
                problems.append(f"{method} on the import of {target}: {got}")
        got = c.call("textDocument/formatting", {"textDocument": {"uri": uri}, "options": FMT}, timeout=WAIT)
        if "error" in got:
            problems.append(f"formatting a document importing {target}: {got}")
        return problems
    return run


def foreign_uri(uri: str) -> Scenario:
    def run(c: Client, folder: Path) -> list[str]:
        problems = []
        for method, params in (("textDocument/hover", at(uri)), ("textDocument/definition", at(uri)),
                               ("textDocument/formatting", {"textDocument": {"uri": uri}, "options": FMT})):
            got = c.call(method, params, timeout=WAIT)
            if "error" in got and code_of(got) != INVALID_PARAMS:
                problems.append(f"{method} on {uri}: {got}")
        return problems
    return run


def huge_document(c: Client, folder: Path) -> list[str]:
    uri = (folder / "huge.policy").as_uri()
    diags = open_doc(c, uri, POLICY + "scope x at commune: " + "a " * 1_000_000 + "\n")
    problems = [] if diags else ["no diagnostic for a 2 MB line with an error"]
    if any(len(d["message"]) > 4096 for d in diags):
        problems.append("a diagnostic message longer than 4 KB")
    return problems


def driver(scenario: Scenario) -> Callable[[Case, Path], Result]:
    def run(case: Case, folder: Path) -> Result:
        (folder / "demo.policy").write_text(POLICY, encoding="utf-8")
        start = time.monotonic()
        c = Client(folder)
        problems: list[str] = []
        rc: int | None = None
        try:
            c.request("initialize", {"processId": None, "rootUri": folder.as_uri(), "capabilities": {}}, timeout=WAIT)
            c.notify("initialized", {})
            problems += scenario(c, folder)
            problems += still_answers(c, folder)
            c.request("shutdown", None, timeout=WAIT)
            c.notify("exit", None)
            rc = c.proc.wait(timeout=WAIT)
        except (AssertionError, TimeoutError, OSError, KeyError, TypeError, subprocess.TimeoutExpired) as exc:
            problems.append(f"the conversation broke off: {type(exc).__name__}: {str(exc)[:300]}")
        finally:
            c.close()
            rc = c.proc.returncode if rc is None else rc
        out = "\n".join(json.dumps(m, ensure_ascii=False) for m in c.log)
        r = Result(rc, out.encode(), c.stderr().encode(), time.monotonic() - start)
        for p in problems:
            r.add("other", p)
        return r
    return run


def lsp() -> list[Case]:
    fam = "lsp"
    scenarios: dict[str, tuple[Scenario, str]] = {
        "content-length-abc": (bad_content_length(b"abc"), "a Content-Length that is not a number"),
        "invalid-params-hover-null": (invalid_params("textDocument/hover", None), ""),
        "uri-percent-00": (nul_uri, "a URI with %00"),
        "import-proc-self-environ": (importing("/proc/self/environ"), "an import of /proc/self/environ: refused, never shown"),
        "import-dotdot-etc-passwd": (importing("../../../../../../../etc/passwd"), "an import of ../../etc/passwd"),
        "import-symlink-to-environ": (importing("env.policy", lambda d: (d / "sub").mkdir(exist_ok=True) or
                                                os.symlink("/proc/self/environ", d / "sub" / "env.policy")),
                                      "an import of a symlink env.policy → /proc/self/environ"),
        "uri-proc-self-environ": (foreign_uri("file:///proc/self/environ"), "requests on file:///proc/self/environ, never opened"),
        "huge-document-line": (huge_document, "a 2 MB line with a syntax error"),
    }

    def passwd_not_shown(case: Case, r: Result, folder: Path) -> list[str]:
        both = (r.stdout + r.stderr).decode("utf-8", "replace")
        return ["a line of /etc/passwd was sent to the client"] if "root:x:0:0" in both else []

    return [Case(fam, name, ["lsp"], frozenset({0}), driver=driver(sc), why=why or name, checks=(passwd_not_shown,), timeout=60.0)
            for name, (sc, why) in scenarios.items()]
