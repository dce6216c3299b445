"""The native engine: a Cython kernel (``_core.pyx``, typed contract in ``_core.pxd``)
and its Python wrapper (``simulator.py``), which validates and lays out the IR. What the
three simulators (grid, precise, Loihi) share: ``base.py`` (the run loop) and
``layout.py`` (NetLayout and the monitors' buffers).
Precise-timing mode (spike times off the grid): ``_precise.pyx`` and ``precise.py``
(``PreciseSimulator``, imported from spikecore.engine.precise).

backends/native.py wraps ``GridSimulator`` in the common backend interface.
"""
import os

# The kernel's threads meet once per window of steps (spikecore.engine.simulator);
# on a machine shared with other work a thread that spins at the barrier steals
# the core its partner needs. Sleeping costs little at that rate. Must be set
# before libgomp loads (with _core); a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__all__ = ["GridSimulator"]


def __getattr__(name):
    # the compiled kernel loads on first use, so that the pure-Python parts (base, layout)
    # serve backends without it
    if name == "GridSimulator":
        from .simulator import GridSimulator
        return GridSimulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
