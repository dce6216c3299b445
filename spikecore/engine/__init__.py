"""The native engine: a Cython kernel (``_core.pyx``, typed contract in ``_core.pxd``)
and its Python wrapper (``simulator.py``), which validates and lays out the IR.
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

from .simulator import GridSimulator  # noqa: E402

__all__ = ["GridSimulator"]
