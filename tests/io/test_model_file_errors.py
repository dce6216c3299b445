"""Model files: every mistake is refused in one line naming its field (or key and line).

Unknown keys in any mapping suggest the nearest valid one; a key given twice is
refused with its line; values of the wrong type name their field instead of
surfacing as an internal error.
"""
import pytest

from spikecore.errors import ModelFileError
from spikecore.io import load_network

BASE = """\
spikecore: 1
name: m
dt: 0.1 ms
populations:
  exc: {size: 20, model: lif_cuba, params: {tau_mem: 20 ms, v_leak: -60 mV, v_threshold: -50 mV, v_reset: -60 mV, tau_syn: {exc: 5 ms}}}
sources:
  noise: {type: poisson, size: 5, rate: 10 Hz}
  st: {type: spike_times, spike_times: [[1 ms], [2 ms]]}
currents:
  c: {target: exc, amplitude: 150 pA}
projections:
  p1: {pre: exc, post: exc, connector: {type: fixed_probability, p: 0.2}, weight: 0.5 mV, delay: 1 ms, receptor: exc}
monitors:
  spk: {type: spikes, target: exc}
  vm: {type: state, target: exc, variables: [v], neurons: [0], interval: 1 ms}
"""


def load(tmp_path, text, suffix=".yaml"):
    path = tmp_path / f"m{suffix}"
    path.write_text(text)
    return load_network(path)


def test_base_model_is_valid(tmp_path):
    load(tmp_path, BASE).to_ir()


@pytest.mark.parametrize("old,new,match", [
    ("amplitude: 150 pA}", "amplitude: 150 pA, neuronz: [0]}", r"currents\.c\.neuronz.*did you mean 'neurons'"),
    ("rate: 10 Hz}", "rate: 10 Hz, rat: 5 Hz}", r"sources\.noise\.rat:.*did you mean 'rate'"),
    ("spike_times: [[1 ms], [2 ms]]}", "spike_times: [[1 ms], [2 ms]], sise: 3}", r"sources\.st\.sise.*'size'"),
    ("variables: [v],", "variabels: [v],", r"monitors\.vm\.variabels.*did you mean 'variables'"),
    ("{type: spikes, target: exc}", "{type: spikes, target: exc, neurons: [0]}", r"monitors\.spk\.neurons"),
    ("p: 0.2}", "p: 0.2, allow_slef: false}", r"p1\.connector\.allow_slef.*did you mean 'allow_self'"),
    ("weight: 0.5 mV", "weight: {distribution: normal, meen: 0.5 mV, std: 1 mV}",
     r"p1\.weight\.meen.*did you mean 'mean'"),
    ("weight: 0.5 mV", "weight: {distributon: normal, mean: 0.5 mV, std: 1 mV}",
     r"p1\.weight\.distributon.*did you mean 'distribution'"),
    ("weight: 0.5 mV", "weight: {array: [1], unti: mV}", r"p1\.weight\.unti.*did you mean 'unit'"),
    ("receptor: exc}", "receptor: exc, receptors: exc}", r"p1\.receptors.*did you mean 'receptor'"),
    ("  exc: {size: 20,", "  exc: {sizes: 20, size: 20,", r"populations\.exc\.sizes.*did you mean 'size'"),
    ("params: {tau_mem", "params: {tau_mme: 2 ms, tau_mem", r"exc\.params\.tau_mme.*did you mean 'tau_mem'"),
    ("dt: 0.1 ms", "dt: 0.1 ms\nsed: 3", r"^\S+: sed: .*did you mean 'seed'"),
    ("{type: spikes,", "{typ: spikes,", r"monitors\.spk\.typ.*did you mean 'type'"),
    # wrong types
    ("params: {tau_mem: 20 ms, v_leak: -60 mV, v_threshold: -50 mV, v_reset: -60 mV, tau_syn: {exc: 5 ms}}",
     "params: abc", r"populations\.exc\.params: got 'abc', expected a mapping"),
    ("tau_syn: {exc: 5 ms}}}", "tau_syn: {exc: 5 ms}}, initial: [1]}", r"populations\.exc\.initial: got \[1\]"),
    ("  p1: {pre: exc, post: exc, connector: {type: fixed_probability, p: 0.2}, weight: 0.5 mV, delay: 1 ms, "
     "receptor: exc}", "  p1: hello", r"projections\.p1: got 'hello', expected a mapping"),
    ("{type: fixed_probability, p: 0.2}", "{type: sparse, shape: [20, 20], i: [0]}", r"p1\.connector\.j"),
    ("{type: fixed_probability, p: 0.2}", "{type: sparse, shape: [20, 20], i: [0], j: [30]}",
     r"p1\.connector\.j: got 'indices in \[30, 30\]'"),
    ("{type: fixed_probability, p: 0.2}", "{type: sparse, shape: [20, 20], i: [0], j: [1], data: [a]}",
     r"p1\.connector\.data"),
    ("{type: fixed_probability, p: 0.2}", "{type: from_indices, i: [0, 1.5], j: [0, 1]}", r"p1\.connector\.i"),
    ("p: 0.2}", "p: 1.5}", r"projections\.p1\.connector\.p: got 1\.5"),
    ("p: 0.2}", "p: abc}", r"projections\.p1\.connector\.p: got 'abc'"),
    ("p: 0.2}", "p: 0.2, allow_self: maybe}", r"projections\.p1\.connector\.allow_self"),
    ("{type: fixed_probability, p: 0.2}", "{type: fixed_indegree, k: 2.5}", r"p1\.connector\.k: got 2\.5"),
    ("{type: fixed_probability, p: 0.2}", "{type: fixed_total_number, n: 5, allow_multapse: false}",
     r"p1\.connector\.allow_multapse.*did you mean 'allow_multapses'"),
    ("{type: fixed_probability, p: 0.2}", "{type: fixd_probability, p: 0.2}",
     r"connector\.type.*did you mean 'fixed_probability'"),
    ("pre: exc,", "pre: [exc],", r"projections\.p1\.pre: got \['exc'\]"),
    ("receptor: exc}", "receptor: [exc]}", r"projections\.p1\.receptor"),
    ("spike_times: [[1 ms], [2 ms]]", "spike_times: abc", r"sources\.st\.spike_times: got 'abc'"),
    ("spike_times: [[1 ms], [2 ms]]", "spike_times: [{a: 1}]", r"sources\.st\.spike_times\[0\]"),
    ("type: poisson", "type: poison", r"sources\.noise\.type.*did you mean 'poisson'"),
    ("rate: 10 Hz", "rate: {distribution: uniform, low: 1 Hz, high: 2 Hz}", r"sources\.noise\.rate"),
    ("amplitude: 150 pA", "steps: abc", r"currents\.c\.steps"),
    ("amplitude: 150 pA", "amplitude: 150 pA, neurons: [0.5]", r"currents\.c\.neurons"),
    ("variables: [v]", "variables: {v: 1}", r"monitors\.vm\.variables"),
    ("neurons: [0]", "neurons: [a]", r"monitors\.vm\.neurons"),
    ("name: m", "name: [m]", r"name: got \['m'\]"),
    ("spikecore: 1", "spikecore: true", r"spikecore: got True"),
    ("model: lif_cuba", "model: [lif_cuba]", r"populations\.exc\.model"),
    ("weight: 0.5 mV", "weight: {array: [a, b]}", r"p1\.weight\.array"),
    ("weight: 0.5 mV", "weight: {array: [1], unit: 3}", r"p1\.weight\.unit"),
    ("weight: 0.5 mV", "weight: {x: 1}", r"p1\.weight: got \{'x': 1\}"),
    ("receptor: exc}", "receptor: exc, streams: per_targets}",
     r"projections\.p1\.streams: got 'per_targets', expected one of projection, per_target"),
    ("receptor: exc}", "receptor: exc, stream: per_target}", r"projections\.p1\.stream.*did you mean 'streams'"),
    (BASE[BASE.index("monitors:"):], "monitors: abc\n", r"monitors: got 'abc', expected a mapping"),
])
def test_unknown_keys_and_wrong_types_name_the_field(tmp_path, old, new, match):
    """Unknown keys are refused with the nearest known one; wrong types name the field."""
    assert old in BASE
    with pytest.raises(ModelFileError, match=match) as e:
        load(tmp_path, BASE.replace(old, new, 1)).to_ir()
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("text,line", [
    ("name: a\nname: b\n", 2),
    ("populations:\n  a:\n    size: 3\n    model: lif_delta\n    params:\n      tau_mem: 20 ms\n      v_leak: 0 mV\n"
     "      v_threshold: 1 mV\n      v_reset: 0 mV\n      tau_mem: 200 s\n", 10),
    ("populations: {a: {size: 1, model: lif_delta, size: 2}}\n", 1),
    ("populations: {}\npopulations: {}\n", 2),
])
def test_a_duplicated_yaml_key_is_refused_with_key_and_line(tmp_path, text, line):
    with pytest.raises(ModelFileError, match=rf"duplicate key '\w+' on line {line}"):
        load(tmp_path, text)


def test_merged_keys_may_be_overridden_but_not_repeated(tmp_path):
    text = ("populations:\n  a:\n    size: 3\n    model: lif_delta\n    params: &p {tau_mem: 20 ms, v_leak: 0 mV, "
            "v_threshold: 1 mV, v_reset: 0 mV}\n  b:\n    size: 3\n    model: lif_delta\n    params:\n"
            "      <<: *p\n      tau_mem: 10 ms\n")
    net = load(tmp_path, text)
    assert net.populations["b"].si_params["tau_mem"] == pytest.approx(0.01)
    with pytest.raises(ModelFileError, match="duplicate key 'tau_mem' on line 12"):
        load(tmp_path, text + "      tau_mem: 5 ms\n")


def test_a_duplicated_json_key_is_refused(tmp_path):
    with pytest.raises(ModelFileError, match="duplicate key 'name'"):
        load(tmp_path, '{"name": "a", "populations": {}, "name": "b"}', ".json")


def test_python_tags_stay_refused(tmp_path):
    with pytest.raises(ModelFileError, match="malformed YAML"):
        load(tmp_path, 'name: !!python/object/apply:os.system ["true"]\n')
