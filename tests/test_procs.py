"""spikecore.procs: run directories named after their owner, guarded children, clean-up after a crash.

Processes here are real (fork, sh, sleep); the only timeouts are hang guards.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from spikecore import procs
from spikecore.interrupts import Interrupted, handle_interrupts

ROOT = Path(__file__).resolve().parents[1]
HANG_GUARD_S = 120

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl are Linux's")


def _gone(pid: int) -> bool:
    """True once ``pid`` has ended (reaping it if it is our child)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def _wait_gone(pid: int) -> bool:
    deadline = time.monotonic() + HANG_GUARD_S
    while not _gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _segment(tag: str) -> Path:
    """A file in /dev/shm, as shm_open makes them, that nobody maps."""
    path = procs.SHM_DIR / f"{procs.SHM_PREFIX}spikecoretest_{tag}_{uuid.uuid4().hex[:8]}"
    path.write_bytes(b"\0" * 64)
    return path


def _dead_owner() -> str:
    """The owner tag of a process that has exited."""
    p = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    tag = procs.owner_tag(p.pid)
    p.communicate(b"")
    return tag


def _sleep_forever(started=None):
    if started is not None:
        started.set()
    time.sleep(3600)


def test_run_dir_names_its_owner_and_goes_on_every_exit_path(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    with pytest.raises(RuntimeError):
        with procs.run_dir("lava") as d:
            assert d.parent == tmp_path and d.name.startswith(f"spikecore-lava-{procs.owner_tag()}-")
            (d / "spikes_a.bin").write_bytes(b"partial")
            raise RuntimeError("boom")
    assert not d.exists()
    assert procs.stale_run_dirs(str(tmp_path)) == []


def test_clean_stale_removes_a_dead_owners_leftovers_and_keeps_a_live_ones(tmp_path):
    dead = tmp_path / f"spikecore-lava-{_dead_owner()}-abc"
    live = tmp_path / f"spikecore-lava-{procs.owner_tag()}-def"
    legacy = tmp_path / "spikecore-lava-x9dj9a97"        # no owner in the name: not ours to judge
    for d in (dead, live, legacy):
        d.mkdir()
        (d / "spikes_a.bin").write_bytes(b"partial")
    dead_seg, live_seg, mapped_seg = _segment("dead"), _segment("live"), _segment("mapped")
    # a dead run's worker that survived it (here: a sleeper, in its own group, with a child)
    worker = subprocess.Popen(["sh", "-c", "sleep 3600 & wait"], start_new_session=True)
    procs.record(dead, procs.SHM_RECORD, [dead_seg.name, mapped_seg.name, "../etc/passwd"])
    procs.record(dead, procs.CHILDREN_RECORD, [f"{worker.pid} {procs.start_time(worker.pid)}"])
    procs.record(live, procs.SHM_RECORD, [live_seg.name])
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import mmap, sys
        f = open({str(mapped_seg)!r}, "r+b"); m = mmap.mmap(f.fileno(), 64); f.close()
        print("mapped", flush=True); sys.stdin.read()""")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "mapped"
        assert procs.stale_run_dirs(str(tmp_path)) == [dead]
        done = procs.clean_stale(str(tmp_path))
        assert done == {"directories": 1, "processes": 1, "segments": 1}
        assert not dead.exists() and live.exists() and legacy.exists()
        assert not dead_seg.exists() and live_seg.exists()
        assert mapped_seg.exists()                 # recorded by the dead run, but a live process maps it
        assert _wait_gone(worker.pid)
    finally:
        holder.communicate("")
        worker.kill()
        worker.wait()
        for seg in (dead_seg, live_seg, mapped_seg):
            seg.unlink(missing_ok=True)


def test_forked_children_get_their_own_group_and_end_with_the_block():
    ctx = mp.get_context("fork")
    with pytest.raises(RuntimeError):
        with procs.forked_children():
            started = ctx.Event()
            child = ctx.Process(target=_sleep_forever, args=(started,))
            child.start()
            assert started.wait(HANG_GUARD_S)          # the fork hook has run
            assert os.getpgid(child.pid) == child.pid      # out of the terminal's process group
            raise RuntimeError("boom")
    assert _gone(child.pid)
    outside = ctx.Process(target=_sleep_forever)      # no guard outside the block
    outside.start()
    try:
        assert os.getpgid(outside.pid) == os.getpgid(0)
    finally:
        outside.kill()
        outside.join()


GUARDED_PARENT = textwrap.dedent("""
    import multiprocessing as mp, time
    from spikecore import procs
    with procs.forked_children():
        child = mp.get_context("fork").Process(target=time.sleep, args=(3600,))
        child.start()
        print(child.pid, flush=True)
        time.sleep(3600)
""")


def test_a_forked_child_dies_with_its_parent_even_by_sigkill():
    parent = subprocess.Popen([sys.executable, "-c", GUARDED_PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert not _gone(child)
    parent.kill()
    parent.wait()
    assert _wait_gone(child), "the guarded child outlived its SIGKILLed parent"


def test_run_in_group_kills_the_whole_group_when_interrupted(tmp_path):
    pids = tmp_path / "pids"
    # a shell with a background grandchild, as make runs compilers; once both exist it sends
    # SIGTERM to this process, which is waiting for it
    cmd = ["sh", "-c", f"sleep 3600 & echo $$ $! > {pids}; kill -TERM $PPID; wait"]
    with pytest.raises(Interrupted) as e:
        with handle_interrupts():
            procs.run_in_group(cmd, stdin=subprocess.DEVNULL)
    assert e.value.exit_code == 143
    shell, grandchild = map(int, pids.read_text().split())
    assert _wait_gone(shell) and _wait_gone(grandchild)


def test_run_in_group_returns_the_exit_code_and_the_child_leads_its_group(tmp_path):
    out = tmp_path / "ids"
    code = procs.run_in_group(["sh", "-c", f"echo $$ $(ps -o pgid= -p $$) > {out}; exit 3"])
    assert code == 3
    pid, pgid = map(int, out.read_text().split())
    assert pid == pgid


def test_reap_children_ends_every_child_and_its_group_but_the_callers():
    callers = subprocess.Popen(["sleep", "3600"])         # there before the command: not its to end
    keep = procs.children()
    lone = subprocess.Popen(["sleep", "3600"])
    grouped = subprocess.Popen(["sh", "-c", "sleep 3600 & wait"], start_new_session=True)
    try:
        procs.reap_children(keep=keep, grace=5)
        assert _gone(lone.pid) and _gone(grouped.pid)
        assert lone.poll() is not None and grouped.poll() is not None
        assert not _gone(callers.pid)
    finally:
        callers.kill()
        callers.wait()
