"""Ctrl-C while Z3 solves: stop the solver at once and let the command exit 130.

Takes nothing; :func:`install` (called by the commands that solve, from the main thread) and
:func:`checked` (every ``check`` of the checker, ``diff`` and ``mutate`` goes through it); produces
a ``KeyboardInterrupt`` in the main thread within moments of Ctrl-C, whatever the solver is doing.

Why: Z3 installs its own SIGINT handler while it solves and answers ``unknown`` with the reason
``canceled`` — the same reason as a timeout — so an interrupted ``check`` used to end as "unknown,
exit 3". Here Z3's handler is switched off (``ctrl_c=false``); Python's own handler stays, and
Python writes the signal to a wake-up pipe even while the main thread is inside Z3; a watcher thread
reads it and interrupts every context that has solved (``Z3_interrupt`` is made for that). The
check returns, and the interpreter raises ``KeyboardInterrupt`` on its next instruction. A Ctrl-C
that lands inside a finalizer (where Python would print "Exception ignored" and a traceback) is
raised again in the main thread instead.
"""

from __future__ import annotations

import _thread
import ctypes
import os
import signal
import sys
import threading
import weakref

import z3

_contexts: weakref.WeakSet[z3.Context] = weakref.WeakSet()
_interrupted = threading.Event()
_raised = threading.Event()
_installed = False


def install() -> None:
    """Route Ctrl-C to the solver (once per process; only from the main thread)."""
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return  # SIGINT ignored or handled by the embedding program: leave it alone
    read, write = os.pipe()
    os.set_blocking(write, False)
    try:
        signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    except ValueError:
        os.close(read)
        os.close(write)
        return
    z3.set_param("ctrl_c", False)
    threading.Thread(target=_watch, args=(read,), name="tinnhiem-ctrl-c", daemon=True).start()
    previous = sys.unraisablehook

    def unraisable(info: sys.UnraisableHookArgs) -> None:
        # Ctrl-C that lands inside a finalizer (a Z3 term being freed) is "ignored" by Python, with a
        # traceback on stderr; instead, raise it again in the main thread, at the next instruction
        if isinstance(info.exc_value, KeyboardInterrupt):
            _interrupted.set()
            threading.Timer(0.05, _again).start()  # not from here: it would land in this hook
            return
        previous(info)

    sys.unraisablehook = unraisable
    _installed = True


def _again() -> None:
    """Raise Ctrl-C in the main thread once more, unless a check has already raised it."""
    if not _raised.is_set():
        _thread.interrupt_main()


def _watch(fd: int) -> None:
    while True:
        data = os.read(fd, 64)
        if not data:
            return
        if signal.SIGINT in data:
            _interrupted.set()
            for ctx in list(_contexts):
                ctx.interrupt()


def interrupted() -> bool:
    """Whether Ctrl-C was pressed: an exception that follows it (ctypes turns a ``KeyboardInterrupt``
    raised while it converts arguments into ``ArgumentError``) is the interruption, not a bug."""
    return _interrupted.is_set()


def is_interruption(exc: BaseException) -> bool:
    """Whether ``exc`` is Ctrl-C in disguise: ctypes turns a ``KeyboardInterrupt`` raised while it
    converts a Z3 call's arguments into ``ArgumentError("argument 1: KeyboardInterrupt")``, sometimes
    before the watcher thread has seen the signal (so :func:`interrupted` alone can still be false)."""
    if _interrupted.is_set():
        return True
    if isinstance(exc, ctypes.ArgumentError) and "KeyboardInterrupt" in str(exc):
        return True
    return _interrupted.wait(0.2)  # the watcher is a thread: give it a moment to see the signal


def checked(solver: z3.Solver, answer_of: object) -> z3.CheckSatResult:
    """The answer of ``answer_of()`` (a call that checks ``solver``), or ``KeyboardInterrupt`` when
    Ctrl-C stopped it — never an ``unknown`` that is really an interruption."""
    _contexts.add(solver.ctx)
    answer = answer_of()  # type: ignore[operator]
    if _interrupted.is_set():
        _raised.set()
        raise KeyboardInterrupt
    return answer
