"""threads="all" on the grid engine (spikecore/engine/thread_choice.py): all the cores only
where the estimated work per window pays for the threads' meetings, fewer otherwise; the
choice and its reason reach the Result; results do not depend on it."""
import numpy as np
import pytest

import spikecore as sc
from backends import get_backend
from spikecore.engine import GridSimulator, thread_choice
from spikecore.engine.delivery import likely_buckets
from spikecore.engine.simulator import part_shares, thread_ranges
from spikecore.engine.thread_choice import (MIN_WORK_PER_EXTRA_THREAD_NS, choose_threads, estimated_step_work_ns,
                                            estimated_window)
from spikecore.errors import ValidationError

PARAMS = dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="20 mV", v_reset="10 mV", t_refrac="2 ms")


def network(n, delay="0.1 ms", k=20, poisson=0):
    net = sc.Network("threads", seed=3, dt="0.1 ms")
    net.add(sc.Population(n, "lif_delta", PARAMS, {"v": sc.Uniform("0 mV", "20 mV")}, name="p"))
    net.add(sc.Projection("p", "p", sc.FixedIndegree(k), weight="0.1 mV", delay=delay, name="rec"))
    if poisson:
        net.add(sc.PoissonSource(poisson, "20 kHz", name="ext"))
        net.add(sc.Projection("ext", "p", sc.OneToOne(), weight="0.1 mV", delay="0.1 ms", name="drive"))
    return net.to_ir()


def test_small_work_per_window_runs_one_thread_and_says_why():
    g = network(2000)                       # one-step delay: the threads would meet every step
    ch = choose_threads(g, "all", cores=2)
    assert ch.threads == 1 and ch.cores == 2 and ch.window_steps == 1
    assert ch.window_work_us == pytest.approx(estimated_step_work_ns(g) / 1e3)
    assert ch.window_work_us * 1e3 < MIN_WORK_PER_EXTRA_THREAD_NS
    assert ch.reason.startswith("1 of 2 cores: about") and "per window of 1 step" in ch.reason


def test_a_longer_window_gives_the_threads_enough_work():
    g = network(2000, delay="1.5 ms")       # the same network meeting every 15 steps
    assert estimated_window(g) == 15
    ch = choose_threads(g, "all", cores=2)
    assert ch.threads == 2 and ch.reason.startswith("all 2 cores:")
    many = choose_threads(g, "all", cores=64)
    work = 15 * estimated_step_work_ns(g)
    assert many.threads == 1 + int(work // MIN_WORK_PER_EXTRA_THREAD_NS) < 64


def test_poisson_drive_counts_as_work():
    quiet, driven = network(6000), network(6000, poisson=6000)
    assert estimated_step_work_ns(driven) > estimated_step_work_ns(quiet) + 6000 * 3
    assert choose_threads(quiet, "all", cores=2).threads == 1
    assert choose_threads(driven, "all", cores=2).threads == 2


def test_bucket_delivery_charges_each_extra_thread_the_delay_group_items_it_walks():
    # rows of 400 synapses over 40 delay steps: in bucket delivery each thread of a team appends and
    # drains an item per delay group of its part of a spike's row, about as many as one thread
    g = network(4000, delay=sc.Uniform("0.1 ms", "4 ms"), k=400, poisson=4000)
    items = thread_choice.bucket_items_per_window(g, 1, 2)
    assert 0.9 * 4000 * 10 * 1e-4 * 40 < items < 4000 * 10 * 1e-4 * 40
    assert thread_choice.bucket_items_per_window(g, 1, 1) > items    # (whole rows: more groups hit)
    ring, bucket = (choose_threads(g, "all", cores=2, buckets=b) for b in (False, True))
    work = estimated_step_work_ns(g)
    assert MIN_WORK_PER_EXTRA_THREAD_NS < work < MIN_WORK_PER_EXTRA_THREAD_NS + thread_choice.ITEM_NS * items
    assert ring.threads == 2 and bucket.threads == 1
    assert "delay-group items it walks in bucket delivery" in bucket.reason
    # auto: this ring (4000 channels x 41 slots) is small, so ring mode, and two threads
    assert not likely_buckets(g, "auto") and likely_buckets(g, "bucket") and not likely_buckets(g, "ring")
    assert choose_threads(g, "all", cores=2, buckets=likely_buckets(g, "auto")).threads == 2
    assert GridSimulator(g, threads="all", delivery="bucket").threads == 1
    # a delay of one step: one group per row, whatever the parts
    one = network(4000, k=400, poisson=4000)
    assert thread_choice.bucket_items_per_window(one, 1, 2) == pytest.approx(4000 * 10 * 1e-4)
    assert choose_threads(one, "all", cores=2, buckets=True).threads == 2


def test_a_number_is_taken_as_given():
    g = network(200)
    ch = choose_threads(g, 3)
    assert ch.threads == 3 and ch.reason == "as requested" and ch.window_steps is None
    assert choose_threads(g, "2").threads == 2
    with pytest.raises(ValidationError, match="threads"):
        choose_threads(g, 0)


def test_the_engine_runs_the_chosen_threads_and_the_result_reports_them():
    g = network(500)
    sim = GridSimulator(g, threads="all")
    assert sim.threads == sim.thread_choice.threads == choose_threads(g, "all").threads
    assert sim.arrays["part"].size == len(g.populations) * (sim.parts + 1)
    assert sim.parts == len(part_shares(sim.threads)) and sim.kernel.n_parts == sim.parts
    res = get_backend("native").compile(g, threads="all").run(0.02)
    info = res.summary()["native"]["threads"]
    assert info["requested"] == "all" and info["threads"] == sim.threads and info["reason"]
    assert f"threads: {sim.threads} (" in res.table()
    one = get_backend("native").compile(g, threads=1).run(0.02)
    assert one.summary()["native"]["threads"]["reason"] == "as requested"
    for pop in res.spikes:
        np.testing.assert_array_equal(res.spikes[pop][1], one.spikes[pop][1])


def test_sparse_fold_counts_lie_on_cache_lines_of_their_own_thread(monkeypatch):
    """Each part's counts of touched channels (sc_net.touched_n) are padded by 64 bytes, the
    part-partitioned state starts on a cache line, the ranges' boundaries on 16 neurons. Two
    threads have a part each (part_shares), or share four of 35, 15, 15 and 35 %
    (thread_choice.TWO_THREAD_SHARES = (7, 3, 3, 7))."""
    net = sc.Network("cuba_like", seed=3, dt="0.1 ms")
    net.add(sc.Population(300, "lif_cuba", dict(PARAMS, tau_syn={"exc": "5 ms", "inh": "10 ms"}),
                          {"v": sc.Uniform("0 mV", "20 mV")}, name="p"))
    net.add(sc.Projection("p", "p", sc.FixedIndegree(10), weight="1 mV", delay="0.3 ms", receptor="exc",
                          name="rec"))
    assert part_shares(2) == (1, 1) and GridSimulator(net.to_ir(), threads=2).parts == 2
    monkeypatch.setattr(thread_choice, "TWO_THREAD_SHARES", (7, 3, 3, 7))
    sim = GridSimulator(net.to_ir(), threads=2)
    assert sim.ring_len == 4 and sim.parts == 4 and sim.arrays["touched_n"].size == 4 * (8 + 8)
    for k in ("v", "syn", "ring", "free_at", "touched_n"):
        assert sim.arrays[k].ctypes.data % 64 == 0, k
    assert list(sim.arrays["part"]) == [0, 112, 144, 192, 300]
    # each part has marks of its own (SC_MARK): a line of shared marks held both threads' channels
    assert sim.arrays["mark"].size == 4 * sim.ring_len * sim.arrays["touched"].size // sim.ring_len
    assert list(thread_ranges([3200, 800, 5, 17], 3)[:, 1:3].ravel()) == [1072, 2128, 272, 528, 0, 0, 0, 16]
    assert list(thread_ranges([3200], (7, 3, 3, 7))[0]) == [0, 1120, 1600, 2080, 3200]
    assert part_shares(1) == (1,) and part_shares(2) == (7, 3, 3, 7) and part_shares(3) == (1,) * 6


def test_state_arrays_start_on_a_cache_line_with_one_thread_too():
    """The arrays the vectorised updates stream (v, syn, ring, free_at, drive, xstate, mark,
    touched) start on a 64-byte line whatever the thread count: numpy aligns to 16 bytes only,
    and a one-thread simulator whose arrays landed off a line ran CUBA up to 1.5x slower."""
    net = sc.Network("cuba_like", seed=3, dt="0.1 ms")
    net.add(sc.Population(300, "lif_cuba", dict(PARAMS, tau_syn={"exc": "5 ms", "inh": "10 ms"}),
                          {"v": sc.Uniform("0 mV", "20 mV")}, name="p"))
    net.add(sc.Projection("p", "p", sc.FixedIndegree(10), weight="1 mV", delay="0.3 ms", receptor="exc",
                          name="rec"))
    for threads in (1, 1, 1, 2):
        sim = GridSimulator(net.to_ir(), threads=threads)
        for k in ("v", "syn", "ring", "free_at", "drive", "xstate", "mark", "touched"):
            assert sim.arrays[k].size == 0 or sim.arrays[k].ctypes.data % 64 == 0, (threads, k)


def test_phase_profile_counts_each_threads_windows():
    """Kernel.profile_windows records, per thread and window, the ns of its own steps, its wait
    at the barrier, the drawing ahead during the wait and the delivery; it stops at the cap."""
    net = sc.Network("profiled", seed=3, dt="0.1 ms")
    net.add(sc.Population(300, "lif_cuba", dict(PARAMS, tau_syn={"exc": "5 ms", "inh": "10 ms"}),
                          {"v": sc.Uniform("0 mV", "20 mV")}, name="p"))
    net.add(sc.PoissonSource(300, "800 Hz", name="drive"))
    net.add(sc.Projection("drive", "p", sc.OneToOne(), weight="3 mV", delay="0.1 ms", receptor="exc", name="d"))
    net.add(sc.Projection("p", "p", sc.FixedIndegree(10), weight="1 mV", delay="0.3 ms", receptor="exc",
                          name="rec"))
    for threads in (1, 2):
        sim = GridSimulator(net.to_ir(), threads=threads)
        sim.kernel.profile_windows(40)
        sim.run_steps(300)                      # 100 windows of 3 steps: the profile keeps 40
        ph = sim.kernel.phase_profile()
        assert ph.shape == (threads, 40, 4)
        assert (ph >= 0).all() and (ph[:, :, 0] > 0).all()
        assert (ph[:, :, 2] <= ph[:, :, 1]).all()           # drawing ahead is part of the wait
        if threads == 1:
            assert (ph[:, :, 2] == 0).all()                 # one thread never draws ahead
        sim.kernel.profile_windows(0)
        sim.run_steps(30)
        assert sim.kernel.phase_profile().shape == (threads, 0, 4)
