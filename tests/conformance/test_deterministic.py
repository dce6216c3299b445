"""Deterministic scenarios: the same spikes at the same time step on every backend.

Tolerance: none for spikes (identical (step, neuron) sets); state traces within
a relative 1e-9 of the reference's (Brian2's sympy-generated update expressions
round differently from the native engine's propagators, ~1e-15 relative per
step). Each scenario also has checks that need no reference (expected spike
steps, clamped values): see conformance_scenarios.py.
"""
from __future__ import annotations

import numpy as np
import pytest

from conformance_scenarios import DT, SCENARIOS, SCENARIO_NAMES
from conftest import ScenarioView, spike_steps


CHECKED = [s for s in SCENARIOS if s.checks is not None]


@pytest.mark.parametrize("scenario", CHECKED, ids=[s.name for s in CHECKED])
def test_expected_behaviour(backend, scenario, request):
    """The scenario's own checks (spike steps, clamping, strict threshold ...) hold on this backend."""
    backend.known_difference(request, scenario.name, "checks")
    scenario.checks(ScenarioView(backend.suite(scenario), scenario.name))


def _views(backend, scenario):
    got = ScenarioView(backend.suite(scenario), scenario.name)
    ref = backend.reference()
    if ref is None:
        pytest.skip("the reference backend is not installed")
    return got, ScenarioView(ref.suite(scenario), scenario.name), ref


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_NAMES)
def test_same_spikes_as_reference(backend, scenario, request):
    backend.known_difference(request, scenario.name, "spikes")
    got, want, ref = _views(backend, scenario)
    assert sorted(got.populations()) == sorted(want.populations())
    for pop in want.populations():
        s_got, i_got = spike_steps(got, pop, DT)
        s_want, i_want = spike_steps(want, pop, DT)
        if not (np.array_equal(s_got, s_want) and np.array_equal(i_got, i_want)):
            a, b = set(zip(s_got.tolist(), i_got.tolist())), set(zip(s_want.tolist(), i_want.tolist()))
            raise AssertionError(f"{scenario.name}/{pop}: {backend.id} and {ref.id} differ; only in "
                                 f"{backend.id}: {sorted(a - b)[:5]}, only in {ref.id}: {sorted(b - a)[:5]}")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_NAMES)
def test_same_traces_as_reference(backend, scenario, request):
    backend.known_difference(request, scenario.name, "traces")
    got, want, ref = _views(backend, scenario)
    for mon, tr in want.traces.items():
        mine = got.traces[mon]
        np.testing.assert_array_equal(np.rint(mine["times"] / DT), np.rint(tr["times"] / DT))
        for var, block in tr["variables"].items():
            scale = np.max(np.abs(block)) if block.size else 0.0
            np.testing.assert_allclose(mine["variables"][var], block, rtol=1e-9, atol=1e-9 * scale,
                                       err_msg=f"{scenario.name}/{mon}.{var}")
