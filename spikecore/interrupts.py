"""Interrupts: SIGINT, SIGTERM and SIGHUP end a command the same way, and a hook to inject them.

``handle_interrupts()`` (the CLI wraps every command in it) turns the first of
these signals into an ``Interrupted`` exception -- a KeyboardInterrupt, so every
``finally`` and ``except KeyboardInterrupt`` on the way up runs as for Ctrl-C --
and ignores any further one while that unwinding cleans up (a second Ctrl-C must
not cut a cleanup short and leave the orphans it was about to reap; SIGKILL still
ends everything). The command then exits with ``Interrupted.exit_code``,
128 + the signal number: 130 (INT), 143 (TERM), 129 (HUP).

Fault injection for tests: with ``SPIKECORE_FAULT=STAGE:SIGNAL`` (e.g.
``run:TERM``, ``compile:KILL``; several separated by commas) in the environment,
``checkpoint(STAGE)`` sends SIGNAL to this process. Code calls ``checkpoint`` at
the named stages of a command (``STAGES``): building the network, compiling it
for a backend, running it, saving the result. Without the variable it costs one
dictionary lookup. Child processes and temporary files are spikecore.procs.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading

from .errors import ValidationError

#: the signals a command turns into a clean shutdown
HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
FAULT_ENV = "SPIKECORE_FAULT"
#: where checkpoint() is called: build (description -> IR), compile (backend build: Lava's
#: compiler and runtime start-up, Brian2's code generation and make), run (the simulation,
#: with every worker process started), save (the result's files staged, not yet in place)
STAGES = ("build", "compile", "run", "save")
EXIT_BASE = 128


class Interrupted(KeyboardInterrupt):
    """The command was interrupted by ``signum``; it exits with 128 + signum."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return EXIT_BASE + self.signum


def exit_code(exc: BaseException) -> int:
    """128 + the signal for an Interrupted, 130 for any other KeyboardInterrupt (Ctrl-C)."""
    return exc.exit_code if isinstance(exc, Interrupted) else EXIT_BASE + signal.SIGINT


def signal_name(exc: BaseException) -> str:
    return exc.name if isinstance(exc, Interrupted) else "SIGINT"


class InterruptState:
    """What ``handle_interrupts`` saw. The first signal raises Interrupted at once, unless a
    ``deferred()`` block is running (it raises at the block's end) or ``defer()`` was called
    (it is only noted, for ``late_signal``); later signals are ignored."""

    def __init__(self):
        self.signum: int | None = None
        self.raised = False
        self.deferred = False
        self.shielded = 0

    def defer(self) -> None:
        """From now on a signal is only noted (for the clean-up at the end of a command)."""
        self.deferred = True

    def late_signal(self) -> Interrupted | None:
        """The signal that arrived but was never raised, if any."""
        return Interrupted(self.signum) if self.signum is not None and not self.raised else None

    def raise_pending(self) -> None:
        if self.signum is not None and not (self.raised or self.deferred or self.shielded):
            self.raised = True
            raise Interrupted(self.signum)

    def _on_signal(self, signum, frame):
        if self.signum is not None:
            return                      # already shutting down: let the clean-up finish
        self.signum = signum
        self.raise_pending()


_active: list = []     # the InterruptState of the handle_interrupts block running now, if any


@contextlib.contextmanager
def deferred():
    """A block that a signal must not cut short (a clean-up, the renames of a swap): one
    arriving inside takes effect at its end.

    Within ``handle_interrupts`` the block is shielded and the signal raised as Interrupted
    at its end. Elsewhere, in the main thread, SIGINT/SIGTERM/SIGHUP are held by handlers of
    our own and delivered again, to the handlers they had, at its end (a handler installed
    outside Python cannot be restored, and is left alone). Other threads get no signals.
    """
    state = _active[-1] if _active else None
    if state is not None:
        state.shielded += 1
        try:
            yield
        finally:
            state.shielded -= 1
        state.raise_pending()
        return
    if threading.current_thread() is not threading.main_thread():
        yield   # Python delivers signals to the main thread only
        return
    caught, previous = [], {}
    for sig in HANDLED:
        handler = signal.getsignal(sig)
        if handler is None:
            continue
        previous[sig] = handler
        signal.signal(sig, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(caught):
            signal.raise_signal(sig)


@contextlib.contextmanager
def handle_interrupts():
    """Within the block, the first SIGINT/SIGTERM/SIGHUP raises Interrupted; later ones are ignored.

    Yields an ``InterruptState``. Only the main thread can install handlers; elsewhere
    the block runs with the handlers as they are.
    """
    state = InterruptState()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous = {s: signal.signal(s, state._on_signal) for s in HANDLED}
    _active.append(state)
    try:
        yield state
    finally:
        _active.remove(state)
        for s, h in previous.items():
            signal.signal(s, h)


def _parse_faults(text: str) -> dict:
    faults = {}
    for item in filter(None, (x.strip() for x in text.split(","))):
        stage, _, name = item.partition(":")
        if stage not in STAGES:
            raise ValidationError(FAULT_ENV, item, "STAGE:SIGNAL with STAGE one of " + ", ".join(STAGES))
        sig = getattr(signal, "SIG" + name.upper().removeprefix("SIG"), None)
        if not isinstance(sig, signal.Signals):
            raise ValidationError(FAULT_ENV, item, "STAGE:SIGNAL with a signal name such as INT, TERM, HUP or KILL")
        faults[stage] = sig
    return faults


def fault_signal(stage: str):
    """The signal $SPIKECORE_FAULT asks for at ``stage``, or None."""
    text = os.environ.get(FAULT_ENV)
    return _parse_faults(text).get(stage) if text else None


def checkpoint(stage: str) -> None:
    """A named stage of a command: sends the signal $SPIKECORE_FAULT asks for at ``stage``, if any."""
    sig = fault_signal(stage)
    if sig is not None:
        os.kill(os.getpid(), sig)   # a Python handler runs at the next bytecode, i.e. here
