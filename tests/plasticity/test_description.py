"""A projection's ``plasticity:``: checked, in SI in the IR, through model files, refused where unsupported."""
import numpy as np
import pytest

import spikecore as sc
from spikecore import io as scio
from spikecore.errors import UnsupportedFeature, ValidationError

STDP = {"rule": "stdp_pair", "tau_plus": "16.8 ms", "tau_minus": "33.7 ms", "A_plus": "0.1 mV",
        "A_minus": "0.12 mV", "w_min": "0 mV", "w_max": "2 mV", "pairing": "nearest"}

LIF = {"tau_mem": "10 ms", "v_leak": "-70 mV", "v_threshold": "-55 mV", "v_reset": "-70 mV", "t_refrac": "2 ms"}


def _net(plasticity=STDP, weight="1 mV"):
    net = sc.Network(seed=1, dt="0.1 ms")
    net.add(sc.SpikeSource(times=["1 ms", "5 ms"], indices=[0, 1], size=2, name="src"))
    net.population("post", 2, "lif_delta", LIF)
    net.project("src", "post", sc.AllToAll(), weight=weight, delay="1 ms", name="syn", plasticity=plasticity)
    return net


def test_ir_holds_si_parameters():
    e = _net().to_ir().projections["syn"]
    assert e.plasticity["rule"] == "stdp_pair"
    assert e.plasticity["tau_minus"] == pytest.approx(0.0337)
    assert e.plasticity["A_plus"] == pytest.approx(1e-4)
    assert e.plasticity["pairing"] == "nearest"
    assert e.plasticity["dendritic_delay_fraction"] == 0.0


def test_static_projection_has_none():
    assert _net(None).to_ir().projections["syn"].plasticity is None


@pytest.mark.parametrize("change, field", [
    ({"w_min": "3 mV"}, "plasticity.w_min"),
    ({"tau_plus": "0 ms"}, "plasticity.tau_plus"),
    ({"tau_minus": "-5 ms"}, "plasticity.tau_minus"),
    ({"A_plus": "0.1 nS"}, "plasticity.A_plus"),
    ({"colour": "red"}, "plasticity.colour"),
    ({"rule": "hebb"}, "plasticity.rule"),
    ({"pairing": "triplets"}, "plasticity.pairing"),
    ({"dendritic_delay_fraction": 2}, "plasticity.dendritic_delay_fraction"),
])
def test_bad_input_names_the_field(change, field):
    with pytest.raises(ValidationError, match=f"projections.syn.{field}"):
        _net({**STDP, **change})


def test_multiplicative_amplitudes_are_fractions():
    e = _net({**STDP, "weight_dependence": "multiplicative", "A_plus": 0.01, "A_minus": 0.012}).to_ir()
    assert e.projections["syn"].plasticity["A_plus"] == 0.01
    with pytest.raises(ValidationError, match="plasticity.A_plus"):
        _net({**STDP, "weight_dependence": "multiplicative"})


def test_weights_of_both_signs_are_refused():
    with pytest.raises(ValidationError, match="projections.syn.weight"):
        _net(weight=["1 mV", "-1 mV", "1 mV", "1 mV"]).to_ir()


def test_model_file_round_trip(tmp_path):
    path = tmp_path / "net.yaml"
    _net().save(path)
    text = path.read_text()
    assert "plasticity" in text and "stdp_pair" in text
    back = scio.load_network(path).to_ir().projections["syn"].plasticity
    assert back == pytest.approx(_net().to_ir().projections["syn"].plasticity) or back == _net().to_ir().projections["syn"].plasticity


def test_precise_mode_refuses():
    with pytest.raises(UnsupportedFeature, match="plasticity .projection syn"):
        _net().run("10 ms", timing="precise")


def test_loihi_mode_goes_through_the_loihi_plan_and_nir_refuses():
    # Loihi mode runs plastic networks through the learning emulator (issue 19): this one is
    # refused by the fixed-point plan's strict policy (its refractory period), not for plasticity
    with pytest.raises(UnsupportedFeature, match="native --format loihi.*refractory period"):
        _net().run("10 ms", format="loihi")
    from spikecore.io.nir import to_nir
    pytest.importorskip("nir")
    with pytest.raises(UnsupportedFeature, match="plasticity .projection syn"):
        to_nir(_net())


def test_lava_deploys_plasticity_only_with_its_approximations_listed():
    from backends import get_backend
    from spikecore.errors import BackendUnavailable
    try:
        be = get_backend("lava")
    except BackendUnavailable as e:
        pytest.skip(str(e))
    with pytest.raises(UnsupportedFeature, match="in projection syn"):
        be.compile(_net().to_ir())      # policy strict: Lava's learning rules approximate stdp_pair


@pytest.mark.parametrize("backend", ["nest"])
def test_backends_without_plasticity_refuse(backend):
    from backends import get_backend
    from spikecore.errors import BackendUnavailable
    try:
        be = get_backend(backend)
    except BackendUnavailable as e:
        pytest.skip(str(e))
    with pytest.raises(UnsupportedFeature, match="plasticity .projection syn"):
        be.compile(_net().to_ir())
