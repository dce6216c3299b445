import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spikecore import units as u
from spikecore.errors import UnitError


def test_parse_and_scale():
    assert u.to_si("20 ms", u.TIME, "tau") == pytest.approx(0.02)
    assert u.to_si("-49mV", u.VOLTAGE, "v") == pytest.approx(-0.049)
    assert u.to_si("6 nS", u.CONDUCTANCE, "g") == pytest.approx(6e-9)
    assert u.to_si("200 pF", u.CAPACITANCE, "c") == pytest.approx(2e-10)
    assert u.to_si("100 Mohm", u.RESISTANCE, "r") == pytest.approx(1e8)
    assert u.to_si("20 kHz", u.FREQUENCY, "rate") == pytest.approx(2e4)
    assert u.to_si(20 * u.ms, u.TIME, "tau") == pytest.approx(0.02)


def test_arithmetic_dimensions():
    tau = 200 * u.pF / (10 * u.nS)
    assert isinstance(tau, u.Quantity) and tau.dim == u.TIME
    assert (u.mV / u.mV) == 1.0
    assert (5 * u.nA * 100 * u.Mohm).dim == u.VOLTAGE
    with pytest.raises(UnitError):
        _ = 1 * u.ms + 1 * u.mV


@pytest.mark.parametrize("value,dim", [("20 mV", u.TIME), (0.02, u.TIME), ("abc", u.TIME),
                                       ("20 furlongs", u.TIME), (float("nan") * u.ms, u.TIME)])
def test_wrong_or_missing_units_rejected(value, dim):
    with pytest.raises(UnitError) as e:
        u.to_si(value, dim, "params.tau_mem")
    assert "params.tau_mem" in str(e.value)


def test_array_only_when_allowed():
    with pytest.raises(UnitError):
        u.to_si(np.array([1.0, 2.0]) * u.ms, u.TIME, "x")
    assert np.allclose(u.to_si(np.array([1.0, 2.0]) * u.ms, u.TIME, "x", allow_array=True), [1e-3, 2e-3])


@given(st.floats(allow_nan=False, allow_infinity=False, width=64),
       st.sampled_from([u.TIME, u.VOLTAGE, u.CURRENT, u.CONDUCTANCE, u.CAPACITANCE, u.RESISTANCE, u.FREQUENCY]))
def test_format_parse_round_trip_is_exact(x, dim):
    assert u.to_si(u.format_si(x, dim), dim, "x") == x


def test_brian2_quantities_accepted():
    import brian2

    assert u.to_si(20 * brian2.ms, u.TIME, "tau") == pytest.approx(0.02)
    with pytest.raises(UnitError):
        u.to_si(20 * brian2.mV, u.TIME, "tau")
    assert math.isclose(u.to_si(3 * brian2.nS, u.CONDUCTANCE, "g"), 3e-9)
