"""The model registry and the contract each model fulfils (spikecore/models)."""
import math

import numpy as np
import pytest

from spikecore import Network
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.models import MODELS, MODES, NeuronModel, describable_models, get_model, model_for, model_for_nir
from spikecore.models import lif_cuba


def test_every_model_is_registered_under_its_own_name_with_known_modes():
    assert set(MODELS) >= {"lif_delta", "lif_cuba", "lif_coba", "loihi_lif"}   # and any model added since
    for name, m in MODELS.items():
        assert isinstance(m, NeuronModel) and m.name == name
        assert m.modes <= set(MODES) and m.modes


def test_loihi_lif_is_describable_and_runs_only_in_loihi_arithmetic():
    """Users write networks in Loihi's integers (tests/models/test_loihi_lif.py); the float modes refuse it."""
    m = get_model("loihi_lif", describable=True)
    assert m.supports("loihi") and m.supports("lava") and not m.supports("grid") and not m.supports("brian2")
    assert "loihi_lif" in describable_models()
    Network("n").population("p", 2, "loihi_lif", {"du": 0, "dv": 0, "vth": 10})


def test_a_mode_refuses_a_model_naming_it_and_where_it_runs():
    with pytest.raises(UnsupportedFeature, match=r"model 'lif_coba' \(population p\).*one of lif_cuba, lif_delta; "
                                                 r"lif_coba runs in: grid, loihi, brian2, lava"):
        model_for("lif_coba", "nir", "population p")
    with pytest.raises(UnsupportedFeature, match=r"brian2.*model 'hodgkin_huxley'.*one of adex, adex_cond, alif, alif_current, "
                                                 r"equations, izhikevich, "
                                                 r"lif_coba, lif_cuba, lif_delta\)"):
        model_for("hodgkin_huxley", "brian2")     # not registered: the registered ones that run there
    assert model_for("lif_cuba", "precise") is MODELS["lif_cuba"]
    assert get_model("lif_cuba").require("precise") is MODELS["lif_cuba"]
    with pytest.raises(UnsupportedFeature, match=r"native --timing precise.*model 'lif_coba' \(population q\) "
                                                 r"\(lif_coba runs in: grid, loihi, brian2, lava, nest\)"):
        get_model("lif_coba").require("precise", "population q")


def test_receptor_state_variables_are_the_models():
    assert get_model("lif_delta").receptor_var("default") is None
    assert get_model("lif_cuba").receptor_var("exc") == "syn_exc"
    assert get_model("lif_coba").receptor_var("exc") == "g_exc"
    assert get_model("lif_coba").receptor_of_var("g_inh", ["exc", "inh"]) == "inh"
    assert get_model("lif_coba").brian2_unit("g_exc") == "siemens"
    assert get_model("lif_cuba").brian2_unit("syn_exc") == "volt"


@pytest.mark.parametrize("tau_syn", [5e-3, 20e-3, 20e-3 * (1 + 1e-14), 50e-3])
def test_one_step_propagator_is_the_kernel_at_dt(tau_syn):
    dt, tau_mem = 1e-4, 20e-3
    coef = lif_cuba.synaptic_coefficient(dt, tau_mem, tau_syn)
    assert coef == pytest.approx(float(lif_cuba.synaptic_kernel(dt, tau_mem, tau_syn)), rel=1e-9)
    # and it is the exact solution: integrate the ODE finely
    n = 20000
    h = dt / n
    v, s = 0.0, 1.0
    for _ in range(n):   # midpoint rule on tau_mem dv/dt = -v + s, s' = -s/tau_syn
        s_mid = s * math.exp(-h / 2 / tau_syn)
        v += h * (-(v + h / 2 * (-v + s) / tau_mem) + s_mid) / tau_mem
        s *= math.exp(-h / tau_syn)
    assert coef == pytest.approx(v, rel=1e-6)


def test_kernel_peak_is_the_maximum_of_the_kernel():
    t = np.linspace(0, 0.2, 200001)
    for tau_syn in (5e-3, 20e-3, 40e-3):
        k = lif_cuba.synaptic_kernel(t, 20e-3, tau_syn)
        assert lif_cuba.kernel_peak(0.2, 20e-3, tau_syn) == pytest.approx(float(k.max()), rel=1e-8)


def test_maths_asked_of_the_models():
    p = {"tau_mem": 0.02, "v_leak": -0.06, "r": 1e8, "c_m": 2e-10, "g_l": 1e-8}
    assert get_model("lif_delta").membrane_decay(p, 1e-4) == math.exp(-1e-4 / 0.02)
    assert get_model("lif_coba").membrane_decay(p, 1e-4) is None
    assert get_model("lif_coba").tau_mem(p) == pytest.approx(0.02)
    assert get_model("lif_cuba").drive(p) == (-0.06, 1e8)
    assert get_model("lif_coba").drive(p) == (0.0, 1.0)
    assert get_model("lif_delta").synaptic_coefficient(p, {}, 1e-4) is None
    assert get_model("lif_cuba").receptor_decay({"tau_syn": 5e-3}, 1e-4) == math.exp(-1e-4 / 5e-3)


def test_nir_import_models():
    assert model_for_nir("delta").name == "lif_delta"
    assert model_for_nir("current").name == "lif_cuba"


def test_backends_refuse_a_model_they_do_not_run_by_asking_it():
    from backends import get_backend
    from hwmodels import loihi

    net = Network("n", dt="0.1 ms")
    net.population("p", 2, "lif_cuba", {"tau_mem": "20 ms", "v_leak": "-60 mV", "v_threshold": "-50 mV",
                                         "v_reset": "-60 mV", "tau_syn": {"exc": "5 ms"}})
    quantized = loihi.quantize(net.to_ir())
    assert quantized.populations["p"].model == "loihi_lif"
    with pytest.raises(UnsupportedFeature, match=r"brian2.*model 'loihi_lif' \(population p\).*loihi_lif runs in: loihi"):
        get_backend("brian2").compile(quantized)
    from spikecore.io.nir import to_nir
    with pytest.raises(UnsupportedFeature, match="loihi_lif"):
        to_nir(quantized)
