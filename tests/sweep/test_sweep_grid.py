"""--set axes over model-file values, the grid and point seeds (spikecore.sweep.grid)."""
import pytest

from spikecore.errors import ValidationError
from spikecore.io.model_files import network_from_dict
from spikecore.sweep.grid import grid, model_keys, parse_set, point_model, point_seed


def test_range_list_and_units(small_model):
    a = parse_set("populations.exc.params.v_leak=-5mV:5mV:3", small_model)
    assert a.values == ("-5.0 mV", "0.0 mV", "5.0 mV") and a.unit == "mV" and a.shown == (-5.0, 0.0, 5.0)
    assert a.si == pytest.approx((-5e-3, 0.0, 5e-3))
    b = parse_set("sources.ext_exc.rate=15kHz, 20000 Hz,25 kHz", small_model)
    assert b.unit == "kHz" and b.shown == (15.0, 20.0, 25.0)
    c = parse_set("projections.exc_inh.connector.p=0.1:0.3:3", small_model)
    assert c.shown == (0.1, 0.2, 0.3) and c.unit == ""        # rounded, not 0.20000000000000004
    d = parse_set("projections.exc_exc.connector.k=8,16", small_model)
    assert d.values == (8, 16)


def test_tied_keys_move_together_and_anchors_are_not_shared(small_model):
    a = parse_set("projections.inh_exc.weight+projections.inh_inh.weight=-0.5mV,-2mV", small_model)
    v = parse_set("populations.exc.params.v_reset=5mV,8mV", small_model)
    pts = grid([a, v], small_model["seed"])
    assert len(pts) == 4 and [p.shown for p in pts] == [(-0.5, 5.0), (-0.5, 8.0), (-2.0, 5.0), (-2.0, 8.0)]
    m = point_model(small_model, [a, v], pts[3])
    assert m["projections"]["inh_exc"]["weight"] == m["projections"]["inh_inh"]["weight"] == "-2.0 mV"
    # exc and inh share their params through a YAML anchor in the file: only exc moves
    assert m["populations"]["exc"]["params"]["v_reset"] == "8.0 mV"
    assert m["populations"]["inh"]["params"]["v_reset"] == "10 mV"
    assert m["seed"] == pts[3].seed and small_model["projections"]["inh_exc"]["weight"] == "-1 mV"
    network_from_dict(m)


def test_seeds_are_deterministic_distinct_and_unit_independent(small_model):
    a = parse_set("populations.exc.params.v_leak=-5mV,5mV", small_model)
    same = parse_set("populations.exc.params.v_leak=-5000uV,5000uV", small_model)
    pts = grid([a], 7, seeds=3)
    assert [p.seed for p in pts] == [p.seed for p in grid([same], 7, seeds=3)]
    assert len({p.seed for p in pts}) == 6 and [p.replicate for p in pts] == [0, 1, 2, 0, 1, 2]
    assert [p.seed for p in grid([a], 8, seeds=3)] != [p.seed for p in pts]
    assert pts[0].seed == point_seed(7, [("populations.exc.params.v_leak", -5e-3)], 0)


def test_keys_are_the_files_single_values(small_model):
    keys = model_keys(small_model)
    assert "populations.exc.initial.v.low" in keys and "sources.ext_exc.rate" in keys
    assert "seed" not in keys and "populations.exc.params" not in keys


@pytest.mark.parametrize("text, message", [
    ("populations.exc.params.v_lek=1mV:2mV:2", "populations.exc.params.v_leak' (the nearest)"),
    ("projections.exc_ex.weight=1mV", "projections.exc_exc.weight' (the nearest)"),
    ("populations.exc.params=1", "populations.exc.params."),
    ("populations.exc.params.v_leak", "KEY=START:STOP:N"),
    ("=1mV", "KEY=START:STOP:N"),
    ("populations.exc.params.v_leak=", "values"),
    ("populations.exc.params.v_leak=1mV:2mV:0", "at least one value"),
    ("populations.exc.params.v_leak=1mV:1mV:3", "an empty range"),
    ("populations.exc.params.v_leak=1mV:2mV:1", "START equal to STOP"),
    ("populations.exc.params.v_leak=1mV:2mV", "START:STOP:N"),
    ("populations.exc.params.v_leak=1mV:2mV:x", "whole number"),
    ("populations.exc.params.v_leak=1mV,,2mV", "none empty"),
    ("populations.exc.params.v_leak=1mV,1mV", "distinct values"),
    ("populations.exc.params.v_leak=1:2:2", "with a unit"),
    ("populations.exc.params.v_leak=1ms:2ms:2", "in V"),
    ("populations.exc.params.v_leak=abc", "a quantity in V"),
    ("projections.exc_inh.connector.p=0.1mV,0.2", "without a unit"),
    ("projections.exc_exc.connector.k=1.5,2", "an integer"),
    ("projections.inh_exc.weight+sources.ext_exc.rate=1,2", "same kind"),
    ("populations.exc.model=1:2:2", "a list of names"),
])
def test_bad_sets_are_one_line_errors(small_model, text, message):
    with pytest.raises(ValidationError) as e:
        parse_set(text, small_model)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_key_on_two_axes_and_bad_seed_counts(small_model):
    a = parse_set("populations.exc.params.v_leak=1mV,2mV", small_model)
    with pytest.raises(ValidationError, match="each key on one axis"):
        grid([a, a], 7)
    with pytest.raises(ValidationError, match="--seeds"):
        grid([a], 7, seeds=0)
