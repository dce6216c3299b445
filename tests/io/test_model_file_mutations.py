"""Property test: mutated model files are refused in one line or run, never crash.

Valid model files (the examples, shrunk, and a small one that uses every section)
are mutated and given to ``spikecore run``. Mutations that always break a file
(a required key deleted, a key misspelt or written twice, a value of the wrong
type or dimension) must exit 2 with one line naming the field and write nothing;
mutations that may keep it valid (another valid key, unusual units, huge and tiny
numbers) must exit 0 or 2. Never a traceback, never "internal error".

The CLI's ``main`` is called in-process (the same error handling as the real
command) for speed; a few cases are checked against a real process.
"""
import contextlib
import io
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikecore.cli import main

ROOT = Path(__file__).resolve().parents[2]
RUN_ARGS = ("--duration", "2ms", "--no-plot")

SMALL = """\
spikecore: 1
name: small
seed: 3
dt: 0.1 ms
duration: 20 ms
populations:
  a:
    size: 6
    model: lif_cuba
    params: {tau_mem: 20 ms, v_leak: -60 mV, v_threshold: -50 mV, v_reset: -65 mV, t_refrac: 1 ms,
             tau_syn: {exc: 5 ms, inh: 10 ms}}
    initial: {v: {distribution: normal, mean: -58 mV, std: 2 mV, low: -65 mV, high: -50 mV}}
  b:
    size: 4
    model: lif_coba
    params: {c_m: 200 pF, g_l: 10 nS, v_leak: -60 mV, v_threshold: -50 mV, v_reset: -60 mV,
             tau_syn: {exc: 5 ms}, e_rev: {exc: 0 mV}}
    initial: {v: {array: [-60, -59, -58, -57], unit: mV}}
  d:
    size: 3
    model: lif_delta
    params: {tau_mem: 10 ms, v_leak: 0 mV, v_threshold: 20 mV, v_reset: 10 mV}
sources:
  st: {type: spike_times, spike_times: [[1 ms, 1.5 ms], [0.5 ms]]}
  noise: {type: poisson, size: 3, rate: 500 Hz, start: 0.2 ms, stop: 1.5 ms}
currents:
  step: {target: a, steps: [[0 ms, 0 pA], [0.5 ms, 300 pA]], neurons: [0, 1]}
  dc: {target: d, amplitude: 100 pA}
projections:
  st_a: {pre: st, post: a, connector: {type: from_indices, i: [0, 1], j: [0, 5]}, weight: 2 mV, receptor: exc}
  noise_d: {pre: noise, post: d, connector: {type: one_to_one}, weight: 5 mV, delay: 0.2 ms}
  a_a: {pre: a, post: a, connector: {type: fixed_probability, p: 0.5, allow_self: false},
        weight: {distribution: normal, mean: -1 mV, std: 1 mV, high: 0 mV},
        delay: {distribution: uniform, low: 0.1 ms, high: 0.5 ms}, receptor: inh}
  a_b: {pre: a, post: b, connector: {type: fixed_indegree, k: 2}, weight: 3 nS, delay: 0.3 ms, receptor: exc}
  d_a: {pre: d, post: a, connector: {type: sparse, shape: [3, 6], i: [0, 2], j: [1, 3], data: [1.5, 2.0], unit: mV},
        receptor: exc}
  b_d: {pre: b, post: d, connector: {type: all_to_all}, weight: 1 mV,
        delay: {distribution: normal, mean: 1 ms, std: 0.5 ms, low: 0.1 ms}}
monitors:
  spk: {type: spikes, target: a}
  vm: {type: state, target: b, variables: [v, g_exc], neurons: [0], interval: 0.2 ms}
"""


def _shrunk_example(name: str) -> dict:
    d = json.loads(json.dumps(yaml.safe_load((ROOT / "examples" / f"{name}.yaml").read_text())))  # unshare aliases
    for section in ("populations", "sources"):
        for entry in (d.get(section) or {}).values():
            if "size" in entry:
                entry["size"] = max(1, entry["size"] // 200)
    return d


MODELS = {"small": yaml.safe_load(SMALL), **{n: _shrunk_example(n) for n in ("cuba", "coba", "brunel")}}

# ----------------------------------------------------------------------------- the schema, as the test knows it
MODEL_PARAMS = {"lif_delta": ("tau_mem", "v_leak", "v_threshold", "v_reset"),
                "lif_cuba": ("tau_mem", "v_leak", "v_threshold", "v_reset", "tau_syn"),
                "lif_coba": ("c_m", "g_l", "v_leak", "v_threshold", "v_reset", "tau_syn", "e_rev")}
SECTIONS = ("populations", "sources", "currents", "projections", "monitors")
RECEPTOR_PARAMS = ("tau_syn", "e_rev")
QUANTITY = re.compile(r"^(-?[0-9.]+(?:e-?\d+)?) ?([a-zA-Z]+)$")


def _at(d, path):
    for k in path:
        d = d[k]
    return d


def required(d: dict, path: tuple) -> bool:
    """Deleting the key at ``path`` always makes the file invalid."""
    *parent, key = path
    node = _at(d, parent)
    if isinstance(node, dict) and "distribution" in node:
        return key in (("distribution", "mean", "std") if node["distribution"] == "normal"
                       else ("distribution", "low", "high"))
    if isinstance(node, dict) and "array" in node:
        return key == "array"
    if len(path) == 3 and path[0] == "populations":
        return key in ("size", "model")
    if len(path) == 4 and path[0] == "populations" and path[2] == "params":
        return key in MODEL_PARAMS[_at(d, path[:2])["model"]]
    if len(path) == 3 and path[0] == "sources":
        return key in {"spike_times": ("type", "spike_times"), "poisson": ("type", "size", "rate")}[node["type"]]
    if len(path) == 3 and path[0] == "currents":
        return key in ("target", "amplitude", "steps")
    if len(path) == 3 and path[0] == "projections":
        return key in ("pre", "post", "connector") or (key == "weight" and node["connector"]["type"] != "sparse")
    if len(path) == 4 and path[0] == "projections" and path[2] == "connector":
        return key in {"fixed_probability": ("type", "p"), "fixed_indegree": ("type", "k"),
                       "from_indices": ("type", "i", "j"), "sparse": ("type", "shape", "i", "j")}.get(
                           node["type"], ("type",))
    if len(path) == 3 and path[0] == "monitors":
        return key in ("type", "target")
    return False


def is_name(path: tuple) -> bool:
    """Keys the user names (elements, receptors): renaming one may be valid."""
    return (len(path) == 2 and path[0] in SECTIONS) or (len(path) >= 2 and path[-2] in RECEPTOR_PARAMS)


def key_paths(d, path=()):
    """Every (path to a key) in the mapping tree."""
    if isinstance(d, dict):
        for k, v in d.items():
            yield path + (k,)
            yield from key_paths(v, path + (k,))
    elif isinstance(d, list):
        for k, v in enumerate(d):
            yield from key_paths(v, path + (k,))


def value_paths(d, path=()):
    """Every path to a value (mapping entries and list items)."""
    for p in key_paths(d, path):
        yield p
    if isinstance(d, dict):
        for k, v in d.items():
            yield from (q for q in _list_items(v, path + (k,)))


def _list_items(v, path):
    if isinstance(v, list):
        for k, x in enumerate(v):
            yield path + (k,)
            yield from _list_items(x, path + (k,))
    elif isinstance(v, dict):
        for k, x in v.items():
            yield from _list_items(x, path + (k,))


def quantity_paths(d):
    return [p for p in set(value_paths(d)) if isinstance(_at(d, p), str) and QUANTITY.match(_at(d, p))]


def field_named(path) -> str:
    """The part of the path an error about it must name: its last key (or the list it is in)."""
    return str([k for k in path if isinstance(k, str)][-1])


# ----------------------------------------------------------------------------- running the CLI
def run_cli(text: str, mode=()):
    """(exit code, stderr lines, whether --out holds anything) of ``spikecore run``."""
    with tempfile.TemporaryDirectory() as tmp:
        model, out = Path(tmp) / "m.yaml", Path(tmp) / "out"
        model.write_text(text)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["run", str(model), *RUN_ARGS, *mode, "--out", str(out)])
        written = out.exists() and any(out.iterdir())
    return code, [ln for ln in err.getvalue().splitlines() if ln.strip()], written


def dump(d: dict) -> str:
    return yaml.safe_dump(d, sort_keys=False, default_flow_style=False, width=1000)


def assert_refused(text: str, needle: str):
    code, lines, written = run_cli(text)
    assert code == 2, (needle, lines, text)
    assert len(lines) == 1 and needle in lines[0], (needle, lines, text)
    assert "internal error" not in lines[0] and not written


def assert_handled(text: str, mode=()):
    code, lines, written = run_cli(text, mode)
    assert code in (0, 2), (lines, text)
    assert not any("internal error" in ln or "Traceback" in ln for ln in lines), (lines, text)
    if code == 2:
        assert len(lines) == 1 and not written, (lines, text)


# ----------------------------------------------------------------------------- mutations that always break a file
@st.composite
def broken_files(draw):
    name = draw(st.sampled_from(sorted(MODELS)))
    d = json.loads(json.dumps(MODELS[name]))
    kind = draw(st.sampled_from(["delete", "misspell", "duplicate", "wrong_type", "wrong_dimension"]))
    if kind == "delete":
        path = draw(st.sampled_from([p for p in key_paths(d) if required(d, p)]))
        del _at(d, path[:-1])[path[-1]]
        return dump(d), str(path[-1])
    if kind == "misspell":
        path = draw(st.sampled_from([p for p in key_paths(d) if not is_name(p) and not isinstance(p[-1], int)]))
        key = path[-1]
        typo = draw(st.sampled_from([key + "x", key[:-1] if len(key) > 1 else key + key, "X" + key]))
        parent = _at(d, path[:-1])
        parent[typo] = parent.pop(key)
        return dump(d), typo
    if kind == "duplicate":
        lines = dump(d).splitlines()
        keyed = [k for k, ln in enumerate(lines) if re.match(r"^\s*[A-Za-z_]\w*:( |$)", ln)]
        k = draw(st.sampled_from(keyed))
        key = lines[k].split(":")[0].strip()
        return "\n".join(lines[:k + 1] + [lines[k]] + lines[k + 1:]) + "\n", f"duplicate key '{key}' on line {k + 2}"
    if kind == "wrong_type":
        path = draw(st.sampled_from(sorted(set(value_paths(d)), key=repr)))
        old = _at(d, path)
        new = draw(st.sampled_from(["abc", 7, [1]])) if isinstance(old, dict) else {"x": 1}
        _at(d, path[:-1])[path[-1]] = new
        return dump(d), field_named(path)
    path = draw(st.sampled_from(sorted(quantity_paths(d), key=repr)))
    number, unit = QUANTITY.match(_at(d, path)).groups()
    _at(d, path[:-1])[path[-1]] = f"{number} {'mV' if unit.endswith('s') else 'ms'}"
    return dump(d), field_named(path)


# ----------------------------------------------------------------------------- mutations that may keep it valid
OTHER_KEYS = [("t_refrac", "2 ms"), ("delay", "2 ms"), ("allow_self", False), ("interval", "1 ms"), ("neurons", [0]),
              ("start", "1 ms"), ("stop", "5 ms"), ("seed", 7), ("receptor", "exc"), ("low", "-70 mV"),
              ("high", "0 mV"), ("initial", {}), ("params", {}), ("unit", "mV"), ("synapse", "current"),
              ("variables", ["v"]), ("size", 2), ("r", "50 Mohm"), ("name", "renamed")]
UNITS = {"s": ("s", 1.0), "ms": ("s", 1e-3), "us": ("s", 1e-6), "V": ("V", 1.0), "mV": ("V", 1e-3),
         "uV": ("V", 1e-6), "A": ("A", 1.0), "nA": ("A", 1e-9), "pA": ("A", 1e-12), "S": ("S", 1.0),
         "nS": ("S", 1e-9), "uS": ("S", 1e-6), "F": ("F", 1.0), "pF": ("F", 1e-12), "nF": ("F", 1e-9),
         "Hz": ("Hz", 1.0), "kHz": ("Hz", 1e3), "ohm": ("ohm", 1.0), "Mohm": ("ohm", 1e6), "kohm": ("ohm", 1e3)}
SCALES = [0.0, -1.0, 1e-30, 1e-12, 1e12, 1e30]
TIMING_FIELDS = ("dt", "duration")   # the run's own step and length: scaled, they only make it slow


@st.composite
def maybe_valid_files(draw):
    name = draw(st.sampled_from(sorted(MODELS)))
    d = json.loads(json.dumps(MODELS[name]))
    kind = draw(st.sampled_from(["other_key", "units", "scale", "integer", "delete_optional"]))
    if kind == "other_key":
        mappings = [p for p in set(value_paths(d)) if isinstance(_at(d, p), dict)] + [()]
        path = draw(st.sampled_from(sorted(mappings, key=repr)))
        key, value = draw(st.sampled_from(OTHER_KEYS))
        _at(d, path)[key] = value
    elif kind in ("units", "scale"):
        paths = [p for p in quantity_paths(d) if p[0] not in TIMING_FIELDS] if kind == "scale" else quantity_paths(d)
        path = draw(st.sampled_from(sorted(paths, key=repr)))
        number, unit = QUANTITY.match(_at(d, path)).groups()
        if kind == "units":
            base, scale = UNITS[unit]
            new_unit = draw(st.sampled_from(sorted(x for x, (b, _) in UNITS.items() if b == base)))
            value = float(number) * scale / UNITS[new_unit][1]
            text = f"{value!r}{draw(st.sampled_from(['', ' ', ' * ']))}{new_unit}"
        else:
            text = f"{float(number) * draw(st.sampled_from(SCALES))!r} {unit}"
        _at(d, path[:-1])[path[-1]] = text
    elif kind == "integer":
        ints = [p for p in set(value_paths(d)) if type(_at(d, p)) is int and p[-1] not in ("size", "shape")
                and (len(p) < 2 or p[-2] != "shape")]
        path = draw(st.sampled_from(sorted(ints, key=repr)))
        _at(d, path[:-1])[path[-1]] = draw(st.sampled_from([0, 1, -1, 2**31, 2**63, 2**70]))
    else:
        path = draw(st.sampled_from([p for p in key_paths(d) if not required(d, p)]))
        del _at(d, path[:-1])[path[-1]]
    return dump(d), draw(st.sampled_from(ENGINE_MODES))


ENGINE_MODES = [(), (), ("--timing", "precise"), ("--threads", "2"), ("--precision", "float32"),
                ("--format", "loihi", "--policy", "approximate")]


FAST = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLOW = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                          HealthCheck.data_too_large])


def test_the_unmutated_models_run():
    for d in MODELS.values():
        code, lines, written = run_cli(dump(d))
        assert code == 0 and written, lines


@FAST
@given(broken_files())
def test_always_invalid_mutations_exit_2_in_one_line_naming_the_field(case):
    assert_refused(*case)


@FAST
@given(maybe_valid_files())
def test_maybe_valid_mutations_exit_0_or_2_never_crash(case):
    assert_handled(*case)


@pytest.mark.slow
@SLOW
@given(broken_files())
def test_always_invalid_mutations_many(case):
    assert_refused(*case)


@pytest.mark.slow
@SLOW
@given(maybe_valid_files())
def test_maybe_valid_mutations_many(case):
    assert_handled(*case)


REAL_PROCESS_CASES = [
    (SMALL.replace("interval: 0.2 ms", "intervall: 0.2 ms"), "monitors.vm.intervall"),
    (SMALL.replace("  dc: {target: d, amplitude: 100 pA}\n",
                   "  dc: {target: d, amplitude: 100 pA}\n  dc: {target: d, amplitude: 1 pA}\n"),
     "duplicate key 'dc' on line 29"),
    (SMALL.replace("rate: 500 Hz", "rate: 500 ms"), "sources.noise.rate"),
]


@pytest.mark.parametrize("text,needle", REAL_PROCESS_CASES)
def test_a_real_process_answers_as_the_in_process_cli(tmp_path, text, needle):
    model = tmp_path / "m.yaml"
    model.write_text(text)
    p = subprocess.run([sys.executable, "-m", "spikecore", "run", str(model), *RUN_ARGS, "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    code, lines, _ = run_cli(text)
    assert p.returncode == code == 2
    real = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(real) == 1 and needle in real[0]
    assert real[0].split("m.yaml: ", 1)[1] == lines[0].split("m.yaml: ", 1)[1]
    assert not (tmp_path / "o").exists()
