"""Every file a command reads or writes goes through here: inputs opened once, outputs written whole.

Takes the paths given on a command line; produces

- :func:`open_input` — an input opened **exactly once** (``-`` and ``/dev/stdin`` are standard
  input; FIFOs and process substitution work as files do). Its size is known from ``fstat`` when it
  is a regular file and ``None`` otherwise (progress is then indeterminate); nothing ever opens the
  path a second time, so a pipe is never drained by a second reader.
- :func:`refuse_clobber` — an error when an output would replace an input (same device and inode,
  whatever the spelling: ``./``, symbolic links, hard links).
- :func:`output` / :func:`write_output` — an output written to a temporary file in the target's
  folder, flushed, ``fsync``-ed and renamed into place only when complete. An interrupted or failed
  run leaves the previous file untouched and no temporary behind; two runs writing one file never
  interleave (the last complete one wins). A target that is not a regular file (``/dev/stdout``, a
  FIFO, ``/dev/null``) is written directly, as there is nothing to rename over.
- :class:`FileError` — a file problem that is the environment's, not a bug (missing file, full
  disk, I/O error, permission): the command prints it and exits 2. :func:`os_error` turns an
  ``OSError`` into one.

Reading and writing *formats* (CSV, JSON…) is not here: :mod:`tinnhiem.csvio` reads CSV from the
stream :func:`open_input` returns, :mod:`tinnhiem.report` and :mod:`tinnhiem.stream` make the text.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

STDIN_NAMES = ("-", "/dev/stdin")
#: UTF-8 can encode every character but a lone surrogate — what Python makes of a file name that is not
#: UTF-8 (``r\\xff.csv``); such a name is written as ``\\udcff`` rather than crash the report.
_UNENCODABLE = "backslashreplace"


@dataclass(frozen=True)
class FileError(Exception):
    """A file that cannot be read or written, for a reason of the environment (exit 2)."""

    message: str
    hint: str | None = None

    def render(self) -> str:
        return f"tinnhiem: error: {self.message}" + (f"\nhelp: {self.hint}" if self.hint else "")


_HINTS = {
    errno.ENOSPC: "the disk is full: free some space or write elsewhere",
    errno.EDQUOT: "the disk quota is exhausted: free some space or write elsewhere",
    errno.EACCES: "you may not access this file: check its permissions",
    errno.EPERM: "you may not access this file: check its permissions",
    errno.EROFS: "this file system is read-only: write elsewhere",
    errno.EIO: "the device reported an input/output error: check the disk or the network share",
}


def os_error(exc: OSError, doing: str) -> FileError:
    """``exc`` as a :class:`FileError` (``doing``: e.g. "cannot write out.csv")."""
    reason = exc.strerror or type(exc).__name__
    return FileError(f"{doing}: {reason}", _HINTS.get(exc.errno or 0))


# ---- inputs --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """An input opened once: its binary stream, its size when it is a regular file, its identity."""

    path: str
    stream: BinaryIO
    size: int | None
    identity: tuple[int, int] | None  # (device, inode) of a regular file

    def close(self) -> None:
        if self.path not in STDIN_NAMES or self.stream is not sys.stdin.buffer:
            self.stream.close()


def open_input(path: str, what: str) -> Input:
    """Open ``path`` (``-``: standard input) for reading, once; raise :class:`FileError` if it cannot be."""
    if path == "-":
        fh = sys.stdin.buffer
        st = os.fstat(fh.fileno()) if _has_fileno(fh) else None
    else:
        try:
            fh = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by Input.close
        except FileNotFoundError:
            raise FileError(f"no such {what} file: {path}") from None
        except IsADirectoryError:
            raise FileError(f"{path} is a directory, not a {what} file") from None
        except OSError as exc:
            raise os_error(exc, f"cannot read the {what} file {path}") from None
        st = os.fstat(fh.fileno())
        if stat.S_ISDIR(st.st_mode):
            fh.close()
            raise FileError(f"{path} is a directory, not a {what} file")
    regular = st is not None and stat.S_ISREG(st.st_mode)
    return Input(path, fh, st.st_size if regular and st else None, (st.st_dev, st.st_ino) if regular and st else None)


def _has_fileno(fh: object) -> bool:
    try:
        fh.fileno()  # type: ignore[attr-defined]
        return True
    except (OSError, AttributeError, io.UnsupportedOperation):
        return False


# ---- outputs -------------------------------------------------------------------------------------------


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def refuse_clobber(output: str | None, inputs: Iterable[str | os.PathLike[str] | None]) -> None:
    """Raise :class:`FileError` when ``output`` is the same file as one of ``inputs`` (which are kept)."""
    if output is None or output == "-":
        return
    target = _identity(output)
    if target is None:
        return
    for given in inputs:
        if given is None or str(given) in STDIN_NAMES:
            continue
        if _identity(str(given)) == target:
            raise FileError(f"--output {output} is the input {given}: writing it would destroy the input",
                            "write the report to another file")


@contextlib.contextmanager
def output(path: str | None, *, newline: str = "") -> Iterator[TextIO]:
    """A text stream for an output (None or ``-``: standard output), replaced into place only when complete.

    UTF-8; ``newline=""`` writes the text as given. An exception (or Ctrl-C) inside the block removes
    the temporary file and leaves ``path`` as it was."""
    if path is None or path == "-":
        with _stdout(newline) as fh:
            yield fh
        return
    if _is_special(path):
        try:
            fh = open(path, "w", encoding="utf-8", errors=_UNENCODABLE, newline=newline)  # noqa: SIM115
        except OSError as exc:
            raise os_error(exc, f"cannot write {path}") from None
        with fh:
            yield fh
            fh.flush()
        return
    target = Path(os.path.realpath(path))  # through a symbolic link: replace the file it names
    folder = target.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise os_error(exc, f"cannot write {path}") from None
    done = False
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors=_UNENCODABLE, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
        done = True
    finally:
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


@contextlib.contextmanager
def _stdout(newline: str) -> Iterator[TextIO]:
    """Standard output as a buffered UTF-8 text stream of our own. A buffered writer writes every byte
    or raises: with ``PYTHONUNBUFFERED=1`` Python's own ``sys.stdout`` writes straight to the file
    descriptor and may stop after part of a large write to a pipe whose reader left (``| head``),
    without an error — a report cut short that looks complete."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        yield sys.stdout  # not a file descriptor (a test's capture): Python's stream is all there is
        sys.stdout.flush()
        return
    sys.stdout.flush()
    raw = io.FileIO(fd, "w", closefd=False)
    fh = io.TextIOWrapper(io.BufferedWriter(raw, 1 << 16), encoding="utf-8", errors=_UNENCODABLE, newline=newline)
    try:
        yield fh
        fh.flush()
    finally:
        with contextlib.suppress(OSError, ValueError):
            fh.detach()  # leave the descriptor open: it is the process's stdout


def write_output(path: str | None, text: str, *, newline: str = "") -> None:
    """Write the whole ``text`` to ``path`` (None: standard output) as :func:`output` does."""
    try:
        with output(path, newline=newline) as fh:
            fh.write(text)
    except BrokenPipeError:
        raise  # the reader went away (``| head``): not an error of ours (see tinnhiem.cli.main)
    except OSError as exc:
        raise os_error(exc, f"cannot write {path or 'the output'}") from None


def _is_special(path: str) -> bool:
    """True for a target that exists and is not a regular file (a device, a FIFO): written in place."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return not stat.S_ISREG(st.st_mode)


def _mode_for(target: Path) -> int:
    """The permissions of the file being replaced, or those a new file would get (umask applied)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask
