"""The language server against a hostile or broken client: it never dies and always answers.

Takes a temporary folder with one policy; starts ``python -m tinnhiem lsp`` (:mod:`tests.lsp.client`)
and sends what no well-behaved editor sends: requests whose params are missing, null or of the wrong
type; ``Content-Length`` headers that are huge (``1000000000000``), not a number (``abc``) or
absent; bodies that are not JSON, not JSON-RPC, invalid UTF-8, 8 MiB of nothing or nested 100,000
deep; document URIs with ``%00`` or a raw NUL, with another scheme, of a file never opened, or of a
device that never ends (``/dev/zero``, also as an import). Each request gets a response with its
id (a JSON-RPC error where it was wrong: -32602 for bad params), each unreadable message an error
with id null, each bad notification at most a diagnostic; after each, the server still answers a
good request; at the end it has printed no traceback and exits as LSP says. Every wait is bounded
(``WAIT`` seconds): a wedged server fails the test instead of hanging it. Last, in process: a
failing handler's exception becomes a JSON-RPC error, and the frame reader finds the next message
after a refused one.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lsp.client import LspClient

WAIT = 10.0
INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL_ERROR, PARSE_ERROR = -32600, -32601, -32602, -32603, -32700
POLICY = 'policy demo {\n  name "Demo"\n}\n\nlevels {\n  commune "Cấp xã"\n}\n'


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "demo.policy").write_text(POLICY, encoding="utf-8")
    return tmp_path


@pytest.fixture
def client(folder: Path) -> Iterator[LspClient]:
    c = LspClient(folder)
    try:
        c.request("initialize", {"processId": None, "rootUri": folder.as_uri(), "capabilities": {}}, timeout=WAIT)
        c.notify("initialized", {})
        yield c
    finally:
        c.close()


def position(line: int = 0, character: int = 0) -> dict[str, int]:
    return {"line": line, "character": character}


def at(uri: str, line: int = 0, character: int = 0) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": position(line, character)}


def frame(body: bytes, length: bytes | None = None) -> bytes:
    """``body`` with a ``Content-Length`` header saying ``length`` (by default: the truth)."""
    return b"Content-Length: " + (str(len(body)).encode() if length is None else length) + b"\r\n\r\n" + body


def still_answers(client: LspClient, folder: Path) -> None:
    """A good request after the bad one: a hover on a name of an open document, with its text."""
    uri = (folder / "demo.policy").as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "tinnhiem", "version": 1, "text": POLICY}})
    hover = client.request("textDocument/hover", at(uri, 5, 4), timeout=WAIT)
    assert hover is not None and "**level** `commune`" in hover["contents"]["value"]


def error_of(msg: dict[str, Any]) -> int:
    assert "error" in msg and "result" not in msg, msg
    assert isinstance(msg["error"]["message"], str) and msg["error"]["message"], msg
    assert "Traceback" not in json.dumps(msg), msg
    return int(msg["error"]["code"])


def ends_cleanly(client: LspClient) -> str:
    """Shutdown (then a request is an error) and exit: status 0; what the server printed, which has no
    traceback and no MemoryError."""
    assert client.request("shutdown", None, timeout=WAIT) is None
    assert error_of(client.call("textDocument/hover", at("file:///x.policy"), timeout=WAIT)) == INVALID_REQUEST
    client.notify("exit", None)
    assert client.proc.wait(timeout=WAIT) == 0
    err = client.stderr()
    assert "Traceback" not in err and "MemoryError" not in err, err
    assert all(line.startswith("tinnhiem lsp: ") for line in err.splitlines()), err
    return err


# ---- (a) invalid params: an error response with the request's id ------------------------------------

FMT = {"tabSize": 2, "insertSpaces": True}
BAD_PARAMS: list[Any] = [None, {}, [], "file:///x.policy", {"position": position()}, {"textDocument": "file:///x.policy"}]
BAD_POSITIONS: list[Any] = [  # hover, definition
    {"textDocument": {"uri": "file:///x.policy"}},  # no position
    {"textDocument": "file:///x.policy", "position": position()},
    {"textDocument": {"uri": "file:///x.policy"}, "position": {"line": "x", "character": 0}},
    {"textDocument": {"uri": "file:///x.policy"}, "position": {"line": -1, "character": 0}},
    {"textDocument": {"uri": "file:///x.policy"}, "position": {"line": 10**30, "character": 0}},
    {"textDocument": {"uri": "file:///x.policy"}, "position": None},
]
BAD_URIS: list[Any] = [5, None, "", "not a uri", ["file:///x.policy"]]
BAD_OPTIONS: list[Any] = [None, {"tabSize": "two", "insertSpaces": True}, {"tabSize": 2}]  # formatting


def bad_params(method: str) -> list[Any]:
    """Params that no client should send with ``method``."""
    if method == "textDocument/formatting":
        return [*BAD_PARAMS, *({"textDocument": {"uri": "file:///x.policy"}, "options": o} for o in BAD_OPTIONS),
                *({"textDocument": {"uri": u}, "options": FMT} for u in BAD_URIS)]
    return [*BAD_PARAMS, *BAD_POSITIONS, *(at(u) for u in BAD_URIS)]


def test_invalid_params_get_an_error_with_the_requests_id(client: LspClient, folder: Path) -> None:
    for method in ("textDocument/hover", "textDocument/definition", "textDocument/formatting"):
        for params in bad_params(method):
            msg = client.call(method, params, timeout=WAIT)
            assert error_of(msg) == INVALID_PARAMS, (method, params, msg)
        still_answers(client, folder)
    ends_cleanly(client)


def test_invalid_notifications_and_odd_requests_do_not_stop_the_server(client: LspClient, folder: Path) -> None:
    for method in ("textDocument/didOpen", "textDocument/didChange", "textDocument/didSave", "textDocument/didClose"):
        for params in (None, {}, {"textDocument": 7}, {"textDocument": {"uri": "file:///x.policy", "version": "one"}}):
            client.notify(method, params)
    assert error_of(client.call("tinnhiem/noSuchMethod", {}, timeout=WAIT)) == METHOD_NOT_FOUND
    uri = (folder / "demo.policy").as_uri()
    opened = {"textDocument": {"uri": uri, "languageId": "tinnhiem", "version": 1, "text": POLICY}}
    assert error_of(client.call("textDocument/didOpen", opened, timeout=WAIT)) == INVALID_REQUEST  # a notification sent with an id
    client.send({"jsonrpc": "2.0", "id": "a-string-id", "method": "textDocument/hover", "params": None})
    assert error_of(client.response("a-string-id", timeout=WAIT)) == INVALID_PARAMS
    client.send({"jsonrpc": "2.0", "id": 1.5, "method": "textDocument/hover", "params": at("file:///x.policy")})
    assert error_of(client.response(None, timeout=WAIT)) == INVALID_REQUEST  # an id that is neither a number nor a string
    still_answers(client, folder)
    ends_cleanly(client)


# ---- (b, c) framing: Content-Length bounded and numeric --------------------------------------------

HOVER_BODY = json.dumps({"jsonrpc": "2.0", "id": 999, "method": "textDocument/hover", "params": at("file:///x.policy")}).encode()


LENGTHS = [b"1000000000000", b"16777217", b"abc", b"-5", b"1e3", b"", b"9" * 5000]


def test_a_content_length_that_is_too_big_not_a_number_or_missing_is_refused(client: LspClient, folder: Path) -> None:
    for length in LENGTHS:  # each refused; the next well-framed message is read again
        client.send_bytes(frame(HOVER_BODY, length))
        assert error_of(client.response(None, timeout=WAIT)) == PARSE_ERROR, length[:20]
        still_answers(client, folder)
    client.send_bytes(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" + HOVER_BODY)
    assert error_of(client.response(None, timeout=WAIT)) == PARSE_ERROR
    still_answers(client, folder)
    client.send_bytes(b"X" * 300_000)  # a header line that never ends
    assert error_of(client.response(None, timeout=WAIT)) == PARSE_ERROR
    still_answers(client, folder)
    assert not any(m.get("id") == 999 for m in client.notifications)  # no refused message was served
    err = ends_cleanly(client)
    assert err.count("Content-Length") >= len(LENGTHS) + 2, err  # one line for each, saying what was refused


def test_a_huge_content_length_then_end_of_input_exits_cleanly(folder: Path) -> None:
    c = LspClient(folder)
    try:
        c.send_bytes(frame(HOVER_BODY, b"1000000000000"))
        assert error_of(c.response(None, timeout=WAIT)) in (PARSE_ERROR, INVALID_REQUEST)
        assert c.proc.stdin is not None
        c.proc.stdin.close()
        assert c.proc.wait(timeout=WAIT) == 0
        err = c.stderr()
        assert "Traceback" not in err and "MemoryError" not in err, err
        assert len(err.splitlines()) == 1 and "Content-Length" in err, err
    finally:
        c.close()


# ---- garbage bodies: an error with id null, or with the id when there is one ------------------------

GARBAGE: list[tuple[bytes, int]] = [
    (b'{"jsonrpc": "2.0", "id": 3, "method": ', PARSE_ERROR),
    (b"\xff\xfe\x00garbage", PARSE_ERROR),
    (b"[" * 100_000 + b"]" * 100_000, PARSE_ERROR),
    (b'"' + b"x" * (8 << 20) + b'"', INVALID_REQUEST),
    (b"[]", INVALID_REQUEST),
    (b"42", INVALID_REQUEST),
    (b'{"method": "textDocument/hover"}', INVALID_REQUEST),
    (b'{"jsonrpc": "1.0", "method": "textDocument/hover"}', INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "method": 7}', INVALID_REQUEST),
]


def test_a_body_that_is_not_a_json_rpc_message_gets_an_error(client: LspClient, folder: Path) -> None:
    for body, code in GARBAGE:
        client.send_bytes(frame(body))
        assert error_of(client.response(None, timeout=WAIT)) == code, body[:40]
    client.send_bytes(frame(b'{"id": 12, "method": "textDocument/hover", "params": null}'))  # no "jsonrpc"
    assert error_of(client.response(12, timeout=WAIT)) == INVALID_REQUEST
    still_answers(client, folder)
    ends_cleanly(client)


# ---- (d) URIs: NUL, other schemes, files never opened, devices -------------------------------------


def test_a_uri_with_nul_is_refused(client: LspClient, folder: Path) -> None:
    for name in ("a%00b.policy", "a\x00b.policy"):
        uri = folder.as_uri() + "/" + name
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "tinnhiem", "version": 1, "text": POLICY}})
        diags = client.wait_notification("textDocument/publishDiagnostics", lambda p, u=uri: p["uri"] == u, timeout=WAIT)
        assert diags["diagnostics"] and "NUL" in diags["diagnostics"][0]["message"]
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": POLICY}]})
        for method, params in (("textDocument/hover", at(uri, 5, 4)), ("textDocument/definition", at(uri, 5, 4)),
                               ("textDocument/formatting", {"textDocument": {"uri": uri}, "options": FMT})):
            msg = client.call(method, params, timeout=WAIT)
            assert error_of(msg) == INVALID_PARAMS and "NUL" in msg["error"]["message"], msg
        client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        still_answers(client, folder)
    ends_cleanly(client)


def test_unknown_and_foreign_uris_get_answers(client: LspClient, folder: Path) -> None:
    for uri in ((folder / "never-opened.policy").as_uri(), (folder / "demo.policy").as_uri(), "https://example.com/x.policy",
                "untitled:Untitled-1", "file:///dev/zero", "file:///", "file://host/share/x.policy"):
        assert client.request("textDocument/hover", at(uri), timeout=WAIT) is None
        assert client.request("textDocument/definition", at(uri), timeout=WAIT) is None
        assert client.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": FMT}, timeout=WAIT) is None
    # a document of another scheme, opened: analysed like a file in the working folder
    uri = "untitled:draft.policy"
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "tinnhiem", "version": 1, "text": POLICY}})
    assert client.wait_notification("textDocument/publishDiagnostics", lambda p: p["uri"] == uri, timeout=WAIT)["diagnostics"] == []
    hover = client.request("textDocument/hover", at(uri, 5, 4), timeout=WAIT)
    assert "**level** `commune`" in hover["contents"]["value"]
    assert client.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": FMT}, timeout=WAIT) == []
    # a document importing a device: a diagnostic, and hover on the import, without reading it
    uri, text = (folder / "dev.policy").as_uri(), POLICY + 'import "/dev/zero" as z\n'
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "tinnhiem", "version": 1, "text": text}})
    [diag] = client.wait_notification("textDocument/publishDiagnostics", lambda p: p["uri"] == uri, timeout=WAIT)["diagnostics"]
    assert diag["range"]["start"]["line"] == 7, diag
    hover = client.request("textDocument/hover", at(uri, 7, 10), timeout=WAIT)
    assert "(cannot be read)" in hover["contents"]["value"]
    ends_cleanly(client)


def test_exit_without_shutdown_exits_with_status_1(client: LspClient) -> None:
    client.notify("exit", None)
    assert client.proc.wait(timeout=WAIT) == 1
    assert "Traceback" not in client.stderr()


# ---- handlers: an unexpected exception becomes an error response -----------------------------------


def test_a_failing_handler_raises_a_json_rpc_error_not_its_exception() -> None:
    from pygls.exceptions import JsonRpcInternalError

    from tinnhiem.lsp import guarded

    @guarded("hover")
    def broken(ls: object, params: object) -> None:
        raise KeyError("boom")

    with pytest.raises(JsonRpcInternalError) as info:
        broken(None, None)
    error = info.value.to_response_error()
    assert error.code == INTERNAL_ERROR and error.message == "hover failed: KeyError: 'boom'" and error.data is None


# ---- the frame reader, in process: where the next message starts after a refused one ---------------


def test_the_frame_reader_finds_the_next_message_after_a_refused_one() -> None:
    from tinnhiem.lsp import MAX_HEADER_LINE, FrameReader, FramingError

    def frames(data: bytes) -> list[bytes | str]:
        reader, out = FrameReader(io.BytesIO(data)), []
        while (item := reader.next()) is not None:
            out.append("refused" if isinstance(item, FramingError) else item)
        return out

    assert frames(frame(b"{}") + b"\r\n" + frame(b"[1]")) == [b"{}", b"[1]"]  # a stray blank line between messages
    assert frames(b"content-length:2\r\nContent-Type: x\r\n\r\n{}") == [b"{}"]  # any case, any spacing, other headers
    assert frames(frame(b"{}", b"abc") + frame(b"[1]")) == ["refused", b"[1]"]
    # the next header straddles two reads of a long line
    padding = b"x" * (MAX_HEADER_LINE - 5)  # the read after the refused header ends inside "Content-Length"
    assert frames(frame(padding, b"abc") + frame(b"[1]")) == ["refused", b"[1]"]
    assert frames(b"Content-Length: 10\r\n\r\n{}") == []  # the input ends inside a body
    assert frames(b"no colon here\r\n\r\n" + frame(b"{}")) == ["refused", b"{}"]
    assert frames(b"".join(b"X-Header: %d\r\n" % i for i in range(40)) + b"\r\n" + frame(b"{}")) == ["refused", b"{}"]
