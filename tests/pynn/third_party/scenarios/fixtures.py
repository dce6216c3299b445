"""Stands in for PyNN's test/system/scenarios/fixtures.py: ``run_with_simulators`` ignores
the simulators a scenario names and runs it on spikecore (spikecore.pynn, what
``import pyNN.spikecore`` gives once the shim is installed). Which scenarios apply, and
why the others do not, is APPLICABLE.md; conftest.py skips those with its reason."""
import pytest

import spikecore.pynn


def run_with_simulators(*sim_names):
    return pytest.mark.parametrize("sim", [pytest.param(spikecore.pynn, id="spikecore")])
