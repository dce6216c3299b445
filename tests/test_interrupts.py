"""spikecore.interrupts: INT, TERM and HUP become one exception; the fault-injection hook."""
from __future__ import annotations

import os
import signal

import pytest

from spikecore.errors import ValidationError
from spikecore.interrupts import Interrupted, checkpoint, deferred, exit_code, fault_signal, handle_interrupts


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_each_signal_raises_interrupted_with_128_plus_its_number(sig, code):
    before = signal.getsignal(sig)
    with pytest.raises(Interrupted) as e:
        with handle_interrupts():
            os.kill(os.getpid(), sig)
    assert isinstance(e.value, KeyboardInterrupt)     # every `except KeyboardInterrupt` cleanup runs
    assert e.value.exit_code == code == exit_code(e.value) and e.value.name == sig.name
    assert signal.getsignal(sig) is before                # the caller's handler is back


def test_a_second_signal_does_not_cut_the_cleanup_short():
    cleaned = []
    with pytest.raises(Interrupted) as e:
        with handle_interrupts():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
            finally:
                os.kill(os.getpid(), signal.SIGINT)      # a second Ctrl-C while cleaning up
                cleaned.append(True)
    assert cleaned and e.value.signum == signal.SIGTERM


def test_a_signal_after_defer_is_reported_not_raised():
    with handle_interrupts() as state:
        state.defer()
        os.kill(os.getpid(), signal.SIGHUP)
        late = state.late_signal()
    assert late is not None and late.exit_code == 129


def test_plain_ctrl_c_exits_130():
    assert exit_code(KeyboardInterrupt()) == 130


def test_checkpoint_sends_the_signal_asked_for_at_its_stage_only(monkeypatch):
    monkeypatch.setenv("SPIKECORE_FAULT", "compile:HUP, save:SIGTERM")
    assert fault_signal("compile") == signal.SIGHUP and fault_signal("save") == signal.SIGTERM
    with handle_interrupts():
        checkpoint("run")                           # not named: nothing happens
        with pytest.raises(Interrupted) as e:
            checkpoint("compile")
    assert e.value.signum == signal.SIGHUP


@pytest.mark.parametrize("text", ["run", "fly:TERM", "run:TERMINATE"])
def test_a_malformed_fault_is_an_error_naming_the_variable(monkeypatch, text):
    monkeypatch.setenv("SPIKECORE_FAULT", text)
    with pytest.raises(ValidationError, match="SPIKECORE_FAULT"):
        checkpoint("run")


def test_a_signal_inside_a_deferred_cleanup_is_raised_when_it_ends():
    steps = []
    with handle_interrupts():
        with pytest.raises(Interrupted) as e:
            with deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                steps.append("after the signal")       # the clean-up goes on
            steps.append("not reached")
    assert steps == ["after the signal"] and e.value.exit_code == 143


def test_outside_handle_interrupts_a_deferred_block_holds_ctrl_c_until_its_end():
    """Library use (no handle_interrupts): Python's own SIGINT handling, but only after the
    block, and the caller's handlers are back."""
    steps = []
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    with pytest.raises(KeyboardInterrupt) as e:
        with deferred():
            os.kill(os.getpid(), signal.SIGINT)
            steps.append("after the signal")
        steps.append("not reached")
    assert steps == ["after the signal"] and not isinstance(e.value, Interrupted)
    assert {s: signal.getsignal(s) for s in before} == before
