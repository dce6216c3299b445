"""Shared fixtures: small networks built in code, and the examples directory."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def examples_dir():
    return EXAMPLES


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory):
    """A real local Dask cluster: two worker processes on localhost, one thread each
    (spikecore.sweep.cluster), shared by the sweep and precision tests; their caches
    live under a temporary directory (``cluster.cache_root``)."""
    from spikecore.sweep.cluster import open_client

    root = tmp_path_factory.mktemp("worker-caches")
    cluster = open_client(jobs=2, cache_root=root)
    cluster.cache_root = root
    yield cluster
    cluster.close()


# A small Brunel-like E/I network as a model file, for sweep tests (a fraction of a second per run).
SMALL_MODEL = """\
spikecore: 1
name: small_ei
seed: 7
dt: 0.1 ms
duration: 200 ms
populations:
  exc:
    size: 160
    model: lif_delta
    params: &p {tau_mem: 20 ms, v_leak: 0 mV, v_threshold: 20 mV, v_reset: 10 mV, t_refrac: 2 ms}
    initial: &i
      v: {distribution: uniform, low: 0 mV, high: 20 mV}
  inh:
    size: 40
    model: lif_delta
    params: *p
    initial: *i
sources:
  ext_exc: {type: poisson, size: 160, rate: 20 kHz}
  ext_inh: {type: poisson, size: 40, rate: 20 kHz}
projections:
  ext_e: {pre: ext_exc, post: exc, connector: {type: one_to_one}, weight: 0.1 mV, delay: 0.1 ms}
  ext_i: {pre: ext_inh, post: inh, connector: {type: one_to_one}, weight: 0.1 mV, delay: 0.1 ms}
  exc_exc: {pre: exc, post: exc, connector: {type: fixed_indegree, k: 16}, weight: 0.2 mV, delay: 1.5 ms}
  exc_inh: {pre: exc, post: inh, connector: {type: fixed_probability, p: 0.1}, weight: 0.2 mV, delay: 1.5 ms}
  inh_exc: {pre: inh, post: exc, connector: {type: fixed_indegree, k: 4}, weight: -1 mV, delay: 1.5 ms}
  inh_inh: {pre: inh, post: inh, connector: {type: fixed_indegree, k: 4}, weight: -1 mV, delay: 1.5 ms}
"""


@pytest.fixture
def small_model_file(tmp_path):
    path = tmp_path / "small_ei.yaml"
    path.write_text(SMALL_MODEL)
    return path


@pytest.fixture
def small_model():
    import yaml

    from spikecore.sweep.grid import plain_model
    return plain_model(yaml.safe_load(SMALL_MODEL))
