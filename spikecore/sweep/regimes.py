"""Brunel (2000)'s four regimes of the sparse E/I network, named from a run's measures.

Brunel, J. Comput. Neurosci. 8:183 (2000), Fig. 8 and its caption: synchronous
regular (SR: "almost fully synchronized network, neurons firing regularly at high
rates"), asynchronous irregular (AI: "stationary global activity, irregularly firing
neurons"), synchronous irregular fast (SI fast: "fast oscillation of the global
activity, neurons firing irregularly at a rate that is lower than the global
frequency") and synchronous irregular slow (SI slow: "slow oscillation of the global
activity, neurons firing irregularly at very low rates").

The thresholds below were fixed before the paper check (examples/brunel_phase.md)
was run, from the measures' definitions (spikecore.sweep.measures), not from its
outcome:

* ``SYNC_MIN`` 0.25: synchronous when the shared modulation of the population rate
  has a standard deviation of at least a quarter of the mean rate. A stationary
  activity has only finite-size covariance left; a visible global oscillation (the
  paper's panels A, B, D) moves the rate by a large fraction of its mean.
* ``CV_REGULAR_MAX`` 0.5: regular firing when the mean CV of the ISIs is below 0.5
  (a Poisson train has 1; the irregular regimes of the paper sit near or above 1,
  a neuron locked to the global oscillation near 0).
* ``FAST_MIN_HZ`` 80 Hz: the fast oscillation's frequency is set by the delay
  (about 1/(4 D) to 1/(2 D), 170-330 Hz at D = 1.5 ms; the paper's panel B is near
  180 Hz), the slow one by the membrane time constant (a few tens of Hz at tau =
  20 ms). 80 Hz sits between the two with a factor of two to spare on each side.

The measures are those of the excitatory population (the larger one, which the
paper's rasters show).
"""
from __future__ import annotations

SYNC_MIN = 0.25
CV_REGULAR_MAX = 0.5
FAST_MIN_HZ = 80.0

REGIMES = ("SR", "AI", "SI fast", "SI slow", "AR", "silent")


def classify(measures: dict) -> str:
    """The regime of one population's measures (keys rate_hz, cv_isi, sync, freq_hz).

    silent: no spikes in the window; AR (asynchronous regular) is the fifth
    possibility of the two binary criteria, absent from the paper's figure.
    """
    rate, cv, sync, freq = (measures.get(k) for k in ("rate_hz", "cv_isi", "sync", "freq_hz"))
    if not rate or sync is None:
        return "silent"
    regular = cv is not None and cv < CV_REGULAR_MAX
    if sync < SYNC_MIN:
        return "AR" if regular else "AI"
    if regular:
        return "SR"
    return "SI fast" if freq is not None and freq >= FAST_MIN_HZ else "SI slow"
