"""Conformance of the models beyond LIF (MODEL_SCENARIOS): each scenario's own checks, and the
reference backend's spikes at the same steps (no tolerance) and traces within a relative 1e-9,
on every installed backend that runs the model; the others refuse it (UnsupportedFeature, shown as
a skip with the reason). Their network is separate from the deterministic suite's, whose spikes
tests/regression/golden.json fingerprints."""
from __future__ import annotations

import numpy as np
import pytest

from conformance_scenarios import DT, MODEL_SCENARIOS, build_suite
from conftest import ScenarioView, spike_steps

IDS = [s.name for s in MODEL_SCENARIOS]


def _result(variant, scenario):
    variant.require(scenario.features)
    return variant.run(("model_scenario", scenario.name), lambda: build_suite([scenario]))


@pytest.mark.parametrize("scenario", MODEL_SCENARIOS, ids=IDS)
def test_expected_behaviour(backend, scenario):
    scenario.checks(ScenarioView(_result(backend, scenario), scenario.name))


@pytest.mark.parametrize("scenario", MODEL_SCENARIOS, ids=IDS)
def test_same_spikes_and_traces_as_reference(backend, scenario):
    got = ScenarioView(_result(backend, scenario), scenario.name)
    ref = backend.reference()
    if ref is None:
        pytest.skip("the reference backend is not installed")
    want = ScenarioView(_result(ref, scenario), scenario.name)
    assert sorted(got.populations()) == sorted(want.populations())
    for pop in want.populations():
        s_got, i_got = spike_steps(got, pop, DT)
        s_want, i_want = spike_steps(want, pop, DT)
        assert s_want.size > 0
        if not (np.array_equal(s_got, s_want) and np.array_equal(i_got, i_want)):
            a, b = set(zip(s_got.tolist(), i_got.tolist())), set(zip(s_want.tolist(), i_want.tolist()))
            raise AssertionError(f"{scenario.name}/{pop}: {backend.id} and {ref.id} differ; only in "
                                 f"{backend.id}: {sorted(a - b)[:5]}, only in {ref.id}: {sorted(b - a)[:5]}")
    for mon, tr in want.traces.items():
        for var, block in tr["variables"].items():
            scale = np.max(np.abs(block)) if block.size else 0.0
            np.testing.assert_allclose(got.traces[mon]["variables"][var], block, rtol=1e-9, atol=1e-9 * scale,
                                       err_msg=f"{scenario.name}/{mon}.{var}")
