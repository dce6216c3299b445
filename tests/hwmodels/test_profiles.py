"""Hardware profiles as data (hwmodels.profiles): built-ins, narrowing, YAML with errors naming the field."""
import pytest

from hwmodels.profiles import PROFILES, get_profile, load_profile, profile_from_dict
from spikecore.errors import ModelFileError, ValidationError


def test_builtin_profiles_hold_the_documented_precisions():
    assert set(PROFILES) == {"ideal", "loihi", "xylo", "spinnaker"}
    assert get_profile("ideal").is_ideal and get_profile("ideal").weight_quantizer() is None
    lo = get_profile("loihi")
    assert (lo.weights.bits, lo.weights.scale, lo.state.bits, lo.state.shift) == (8, "shared_exponent", 24, 6)
    assert (lo.decay.kind, lo.decay.bits, lo.threshold_bits, lo.max_delay_steps) == ("multiplier", 12, 17, 63)
    xy = get_profile("xylo")
    assert (xy.weights.bits, xy.state.bits, xy.state.overflow, xy.decay.kind) == (8, 16, "saturate", "shift")
    sp = get_profile("spinnaker")
    assert (sp.weights.bits, sp.state.bits, sp.max_delay_steps) == (16, 32, 15)


def test_weight_quantizer_narrows_but_never_widens():
    q = get_profile("loihi").weight_quantizer(3)
    assert (q.bits, q.scale, q.rounding) == (3, "shared_exponent", "floor")
    with pytest.raises(ValidationError, match="weight bits"):
        get_profile("loihi").weight_quantizer(9)
    with pytest.raises(ValidationError, match="weight bits"):
        get_profile("loihi").weight_quantizer(0)
    assert get_profile("ideal").weight_quantizer(5).bits == 5     # the textbook quantizer for float profiles
    assert get_profile("xylo").counter(4).max_count == 15


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(ValidationError, match="profile: got 'truenorth'.*ideal, loihi"):
        get_profile("truenorth")


def test_yaml_profile_round_trip(tmp_path):
    path = tmp_path / "mychip.yaml"
    path.write_text("""
name: mychip
description: 6-bit weights, 12-bit wrapping state
weights: {bits: 6, signed: true, scale: channel, rounding: truncate}
state: {bits: 12, overflow: wrap, rounding: floor, shift: 2}
threshold_bits: 10
decay: {kind: shift, bits: 3}
counter: {overflow: wrap}
delay: {max_steps: 7}
""")
    p = get_profile(str(path))
    assert p.name == "mychip" and p.weights.bits == 6 and p.state.overflow == "wrap"
    assert p.decay.kind == "shift" and p.counter_overflow == "wrap" and p.max_delay_steps == 7
    again = profile_from_dict(p.to_dict())
    assert again == p


@pytest.mark.parametrize("text, field", [
    ("name: x\nweights: {bits: 0}", "weights.bits"),
    ("name: x\nweights: {bits: 4, scale: row}", "weights.scale"),
    ("name: x\nweights: {bits: 4, colour: red}", "weights.colour"),
    ("name: x\nstate: {bits: 16, overflow: clip}", "state.overflow"),
    ("name: x\ndecay: {kind: shift}", "decay.bits"),
    ("name: x\ncounter: {overflow: clamp}", "counter.overflow"),
    ("name: x\ndelay: {max_steps: 0}", "delay.max_steps"),
    ("name: x\nspeed: fast", "speed"),
    ("weights: {bits: 4}", "name"),
])
def test_yaml_errors_name_the_field(tmp_path, text, field):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError) as e:
        load_profile(path)
    assert e.value.field.endswith(field)


def test_yaml_file_problems(tmp_path):
    with pytest.raises(ModelFileError, match="no such profile"):
        load_profile(tmp_path / "missing.yaml")
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: [unclosed")
    with pytest.raises(ModelFileError, match="YAML"):
        load_profile(bad)


def test_exact_hook_must_resolve():
    p = profile_from_dict({"name": "hooked", "exact": "hwmodels.no_such_module:quantize"})
    with pytest.raises(ValidationError, match="exact"):
        p.exact_pass()
    q = profile_from_dict({"name": "hooked", "exact": "hwmodels.passes:no_such_function"})
    with pytest.raises(ValidationError, match="no_such_function"):
        q.exact_pass()
