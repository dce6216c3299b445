"""Sweeps on a real local Dask cluster (separate worker processes on localhost): the same
numbers as serial runs, a killed worker costs nothing but time, a rerun skips stored points."""
import json
import os
import signal
import socket

import pytest

from spikecore.errors import ValidationError
from spikecore.io.results import verify_result_directory
from spikecore.sweep.cluster import open_client, worker_cache_dir
from spikecore.sweep.grid import parse_set
from spikecore.sweep.runner import POINTS_DIR, SweepSpec, plan, point_task, read_table, run_sweep, run_task, table_row


def spec_of(model, sets, **kw):
    return SweepSpec(model, [parse_set(s, model) for s in sets], **kw)


def serial_rows(spec):
    """The table computed here, one point after the other, without Dask."""
    return [table_row(spec.axes, p, run_task(point_task(spec, p))) for p in plan(spec)]


def same_numbers(a, b):
    """Rows equal in every column but the wall time."""
    return [{k: v for k, v in r.items() if k != "wall_s"} for r in a] == \
        [{k: v for k, v in r.items() if k != "wall_s"} for r in b]


def test_sweep_equals_serial_runs_and_a_rerun_skips_stored_points(small_model, dask_cluster, tmp_path):
    spec = spec_of(small_model, ["projections.inh_exc.weight+projections.inh_inh.weight=-0.5mV,-1.5mV",
                                 "sources.ext_exc.rate=15kHz,25kHz"], seeds=2, transient=0.05)
    done = run_sweep(spec, tmp_path, dask_cluster)
    assert done["ran"] == 8 and done["skipped"] == 0
    assert same_numbers(done["rows"], serial_rows(spec))
    assert same_numbers(read_table(tmp_path / "sweep.csv"), done["rows"])   # the file holds the exact floats
    assert len({r["seed"] for r in done["rows"]}) == 8
    # a rerun with one stored point gone runs that one only; with none gone it needs no cluster
    stored = sorted((tmp_path / POINTS_DIR).glob("*.json"))
    assert len(stored) == 8
    stored[3].unlink()
    again = run_sweep(spec, tmp_path, dask_cluster)
    assert again["ran"] == 1 and again["skipped"] == 7 and same_numbers(again["rows"], done["rows"])
    assert run_sweep(spec, tmp_path, None)["ran"] == 0
    # a changed setting is a different point: nothing stored is reused for it
    longer = SweepSpec(spec.model, spec.axes, seeds=2, transient=0.1)
    assert run_sweep(longer, tmp_path / "other", dask_cluster)["ran"] == 8


def test_killing_a_worker_mid_sweep_still_gives_the_complete_identical_table(small_model, dask_cluster, tmp_path):
    spec = spec_of(small_model, ["sources.ext_exc.rate=14kHz:26kHz:4"], seeds=2, duration=0.6)
    client = dask_cluster.client
    killed = []

    def kill_a_busy_worker(point, record):
        if killed:
            return
        busy = {w: keys for w, keys in client.processing().items() if keys}
        if not busy:
            return
        worker = sorted(busy)[0]
        pid = client.run(os.getpid, workers=[worker])[worker]
        os.kill(pid, signal.SIGKILL)
        killed.append((worker, len(busy[worker])))

    done = run_sweep(spec, tmp_path, dask_cluster, on_stored=kill_a_busy_worker)
    assert killed and killed[0][1] >= 1            # a worker died holding at least one point
    assert done["ran"] == 8 and len(done["rows"]) == 8
    assert same_numbers(done["rows"], serial_rows(spec))
    client.wait_for_workers(2, timeout=120)      # the nanny restarts the killed worker


def test_workers_have_one_thread_and_their_own_cache(dask_cluster):
    info = dask_cluster.client.run(lambda: (os.environ.get("OMP_NUM_THREADS"), os.environ.get("SPIKECORE_CACHE")))
    assert all(omp == "1" for omp, _ in info.values())
    caches = [cache for _, cache in info.values()]
    assert len(set(caches)) == len(caches) == 2
    assert all(c.startswith(str(dask_cluster.cache_root / "workers")) for c in caches)
    assert worker_cache_dir("tcp://10.0.0.1:4000").name == "tcp_10.0.0.1_4000"


def test_brian2_points_build_in_their_workers_own_cache(small_model, dask_cluster, tmp_path):
    spec = spec_of(small_model, ["sources.ext_exc.rate=15kHz,25kHz"], duration=0.05, backend="brian2",
                   options={"target": "numpy"})
    done = run_sweep(spec, tmp_path, dask_cluster)
    assert done["ran"] == 2 and all(r["exc.rate_hz"] is not None for r in done["rows"])
    used = [d for d in (dask_cluster.cache_root / "workers").iterdir() if (d / "brian2").is_dir()]
    assert used and all(any((d / "brian2").rglob("*")) for d in used)


def test_an_unreachable_scheduler_is_a_one_line_error():
    with socket.socket() as s:         # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ValidationError) as e:
        open_client(scheduler=f"tcp://127.0.0.1:{port}", connect_timeout=0.5)
    assert "none answered within 0.5 s" in str(e.value) and "\n" not in str(e.value)


def test_lava_is_refused_before_anything_starts(small_model, tmp_path):
    spec = spec_of(small_model, ["sources.ext_exc.rate=15kHz,25kHz"], backend="lava")
    with pytest.raises(ValidationError, match="Lava starts processes of its own"):
        run_sweep(spec, tmp_path, None)
    assert not (tmp_path / "sweep.json").exists()


def test_stored_points_record_their_values_and_seed(small_model, dask_cluster, tmp_path):
    spec = spec_of(small_model, ["populations.exc.params.v_reset=5mV,10mV"], duration=0.1)
    done = run_sweep(spec, tmp_path, dask_cluster)
    records = [json.loads(p.read_text()) for p in (tmp_path / POINTS_DIR).glob("*.json")]
    assert sorted(r["seed"] for r in records) == sorted(p.seed for p in done["points"])
    assert {r["point"]["populations.exc.params.v_reset"] for r in records} == {"5.0 mV", "10.0 mV"}
    assert not list((tmp_path / POINTS_DIR).glob(".*"))         # no temporary files left
    manifest = verify_result_directory(tmp_path)
    assert {f"{POINTS_DIR}/{p.name}" for p in (tmp_path / POINTS_DIR).glob("*.json")} | {"sweep.csv", "sweep.json"} \
        == set(manifest["files"])


def test_a_server_that_is_not_a_scheduler_and_a_malformed_address_are_one_line_errors():
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer_like_a_web_server():
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 4)

    threading.Thread(target=answer_like_a_web_server, daemon=True).start()
    try:
        with pytest.raises(ValidationError) as e:
            open_client(scheduler=f"tcp://127.0.0.1:{server.getsockname()[1]}", connect_timeout=2)
    finally:
        server.close()
    assert "does not speak Dask's protocol" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(ValidationError, match="an address such as tcp://host:8786"):
        open_client(scheduler="localhost-without-port", connect_timeout=0.5)


def test_a_running_scheduler_passes_the_probe(dask_cluster):
    from spikecore.sweep.cluster import probe_scheduler
    probe_scheduler(dask_cluster.address, 5.0)
