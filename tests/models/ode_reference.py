"""The exact-model references of the model tests: an ODE integrated from spike to spike."""
from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp


def spike_times(rhs, event, y0, t_max: float, n: int, after_spike) -> np.ndarray:
    """The first ``n`` times (before ``t_max``) at which ``event`` rises through 0 on the
    solution of ``rhs`` from ``y0`` at t = 0: DOP853 (rtol = atol = 1e-10) from each event
    to the next, restarted from ``after_spike(t_event, y_event)`` -> (t, y)."""
    event.terminal, event.direction = True, 1
    t, y, out = 0.0, list(y0), []
    while len(out) < n:
        sol = solve_ivp(rhs, (t, t_max), y, method="DOP853", rtol=1e-10, atol=1e-10, events=event)
        if not sol.t_events[0].size:
            break
        ts = float(sol.t_events[0][0])
        out.append(ts)
        t, y = after_spike(ts, sol.y_events[0][0])
    return np.array(out)
