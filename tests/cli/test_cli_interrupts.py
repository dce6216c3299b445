"""Fault injection: SIGINT, SIGTERM and SIGHUP at each named stage of `spikecore run`, per backend.

Every case runs the CLI as a real process (in its own session, with its own TMPDIR)
into an --out that already holds a result, sends the signal at a stage
(SPIKECORE_FAULT=stage:SIGNAL, spikecore.interrupts.checkpoint) or, in the slow
suite, at a seeded random moment, and checks what a user would: exit status
128 + signal, one line on stderr, no process of the run left (found by a marker in
their environment, which every descendant inherits), no spikecore-* temporary
directory, no new /dev/shm segment that nobody maps, and the earlier result's
files byte for byte. The fast suite runs every native case and a few Brian2 and
Lava ones (Lava starts ~10 processes, Brian2 imports for ~2 s); the rest are slow.
Timeouts are hang guards only.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from spikecore import procs
from spikecore.io.results import verify_result_directory

ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD_S = 600
POLL_S = 0.2         # how often a Lava run's processes are looked at (its segments live for seconds)
STAGES = ("build", "compile", "run", "save")
SIGNALS = ("INT", "TERM", "HUP")
BACKENDS = {
    "native": [],
    "brian2": ["--backend", "brian2"],
    "standalone": ["--backend", "brian2", "--device", "cpp_standalone"],
    "lava": ["--backend", "lava", "--format", "float", "--policy", "approximate"],
}
TINY = """\
spikecore: 1
name: tiny
seed: 1
dt: 0.1 ms
duration: 50 ms
populations:
  exc:
    size: 40
    model: lif_cuba
    params: {tau_mem: 20 ms, v_leak: -49 mV, v_threshold: -50 mV, v_reset: -60 mV, t_refrac: 5 ms,
             tau_syn: {exc: 5 ms}}
    initial:
      v: {distribution: uniform, low: -60 mV, high: -50 mV}
projections:
  ee: {pre: exc, post: exc, connector: {type: fixed_probability, p: 0.1}, weight: 1.62 mV, delay: 0.1 ms,
       receptor: exc}
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and /dev/shm are Linux's")


def _available(backend: str) -> bool:
    from backends import available_backends
    return {"standalone": "brian2"}.get(backend, backend) in available_backends()


# ----------------------------------------------------------------------------- what a run leaves
def _marked(marker: str) -> list:
    """Live processes whose environment carries ``marker`` (zombies are not running)."""
    out = []
    needle = f"SPIKECORE_TEST_RUN={marker}".encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in env.split(b"\0") and state != "Z":
            out.append(int(pid))
    return out


def _segments_of(pids) -> set:
    """The /dev/shm/psm_* names the processes ``pids`` map or hold open."""
    return {name for name in procs.segments_mapped_by(pids) if name.startswith("psm_")}


def _files(directory: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


class Case:
    """One CLI run in its own session, TMPDIR and marker.

    While it runs, the shared-memory segments its processes map are noted (other users of
    this machine may leave segments of their own in /dev/shm: only ours are checked).
    """

    def __init__(self, tmp_path: Path, model: Path, out: Path, backend: str):
        self.tmp = tmp_path / f"tmp-{uuid.uuid4().hex[:6]}"
        self.tmp.mkdir()
        self.marker = uuid.uuid4().hex
        self.argv = [sys.executable, "-m", "spikecore", "run", str(model), "--out", str(out), "--no-plot",
                     *BACKENDS[backend]]
        self.env = {**os.environ, "TMPDIR": str(self.tmp), "SPIKECORE_TEST_RUN": self.marker}
        self.env.pop("SPIKECORE_FAULT", None)
        self.watch_shm = backend == "lava"
        self.segments: set = set()

    def start(self, fault: str | None = None, extra=()) -> subprocess.Popen:
        env = dict(self.env, **({"SPIKECORE_FAULT": fault} if fault else {}))
        # files, not pipes: an orphan that inherited a pipe would keep it open and hang the test
        self.stdout, self.stderr = self.tmp.with_suffix(".out"), self.tmp.with_suffix(".err")
        with open(self.stdout, "w") as out, open(self.stderr, "w") as err:
            return subprocess.Popen([*self.argv, *extra], env=env, cwd=ROOT, start_new_session=True,
                                    stdout=out, stderr=err, text=True)

    def wait(self, p: subprocess.Popen):
        deadline = time.monotonic() + HANG_GUARD_S
        while True:
            try:
                p.wait(timeout=POLL_S if self.watch_shm else HANG_GUARD_S)
                return self.stdout.read_text(), self.stderr.read_text()
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    raise
                self.segments |= _segments_of(_marked(self.marker))

    def run(self, fault: str | None = None, extra=()):
        p = self.start(fault, extra)
        out, err = self.wait(p)
        return p.returncode, out, err

    def assert_clean(self):
        assert _marked(self.marker) == [], "processes of the run outlived it"
        assert [p.name for p in self.tmp.iterdir() if p.name.startswith("spikecore-")] == []
        left = [n for n in self.segments if os.path.exists(f"/dev/shm/{n}")]
        assert not left, f"shared memory left in /dev/shm: {sorted(left)}"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny.yaml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory, model):
    """A finished result, made once per module."""
    out = tmp_path_factory.mktemp("template") / "R"
    p = subprocess.run([sys.executable, "-m", "spikecore", "run", str(model), "--out", str(out), "--no-plot"],
                       cwd=ROOT, capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert p.returncode == 0, p.stderr
    return out


@pytest.fixture
def earlier(tmp_path, template):
    """An --out directory holding a finished result (a copy of the template), and its files' bytes."""
    out = tmp_path / "R"
    shutil.copytree(template, out)
    return out, _files(out)


def check_interrupted(tmp_path, model, earlier, backend, stage, sig):
    if not _available(backend):
        pytest.skip(f"{backend} is not installed")
    out, before = earlier
    case = Case(tmp_path, model, out, backend)
    code, _, err = case.run(f"{stage}:{sig}")
    assert code == 128 + getattr(signal, f"SIG{sig}"), err
    assert err.splitlines() == [f"spikecore run: interrupted by SIG{sig}"]
    case.assert_clean()
    assert _files(out) == before, "the earlier result changed"
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(out.name)) == [out.name], \
        "a staging or old copy of the result was left beside it"


def _cases(backend, fast):
    """(stage, signal) pairs: every one, marked slow unless ``fast`` selects it."""
    out = []
    for k, stage in enumerate(STAGES):
        for sig in SIGNALS:
            marks = () if fast(k, stage, sig) else (pytest.mark.slow,)
            out.append(pytest.param(stage, sig, marks=marks, id=f"{stage}-{sig}"))
    return out


@pytest.mark.parametrize("stage, sig", _cases("native", lambda k, stage, sig: True))
def test_native_run_interrupted(tmp_path, model, earlier, stage, sig):
    check_interrupted(tmp_path, model, earlier, "native", stage, sig)


# one signal per stage in the fast suite, rotating through the three
@pytest.mark.parametrize("stage, sig", _cases("brian2", lambda k, stage, sig: SIGNALS[k % 3] == sig))
def test_brian2_runtime_run_interrupted(tmp_path, model, earlier, stage, sig):
    check_interrupted(tmp_path, model, earlier, "brian2", stage, sig)


@pytest.mark.parametrize("stage, sig", _cases("standalone", lambda k, stage, sig: False))
def test_brian2_standalone_run_interrupted(tmp_path, model, earlier, stage, sig):
    """make and the compiled binary are killed with their process groups (compile, run)."""
    check_interrupted(tmp_path, model, earlier, "standalone", stage, sig)


@pytest.mark.parametrize("stage, sig", _cases("lava", lambda k, stage, sig: False))
def test_lava_run_interrupted(tmp_path, model, earlier, stage, sig):
    check_interrupted(tmp_path, model, earlier, "lava", stage, sig)


def test_kill_term_while_lava_workers_run(tmp_path, model, earlier):
    """The issue's reproduction: `kill -TERM` once Lava's workers run (it orphaned 5 workers,
    11 /dev/shm/psm_* segments and a spikecore-lava-* directory, exiting 143)."""
    if not _available("lava"):
        pytest.skip("lava is not installed")
    out, before = earlier
    case = Case(tmp_path, model, out, "lava")
    p = case.start(extra=["--duration", "5s"])
    workers = []
    while p.poll() is None and len(workers) < 6:      # main, resource tracker, 2 managers, workers
        workers = _marked(case.marker)
        case.segments |= _segments_of(workers)
        time.sleep(POLL_S)
    assert p.poll() is None, "the run ended before its workers started"
    p.send_signal(signal.SIGTERM)
    _, err = case.wait(p)
    assert p.returncode == 143 and err.splitlines() == ["spikecore run: interrupted by SIGTERM"], err
    assert case.segments, "no shared memory was seen in use: the check below would be empty"
    case.assert_clean()
    assert _files(out) == before


# ----------------------------------------------------------------------------- SIGKILL: cleaned up after
def _owned_by(tmp: Path, pid: int) -> list:
    return [p for p in tmp.iterdir() if p.name.startswith("spikecore-") and f"-{pid}." in p.name]


@pytest.mark.parametrize("backend", ["lava", pytest.param("standalone", marks=pytest.mark.slow)])
def test_a_sigkilled_runs_leftovers_are_removed_by_the_next_run(tmp_path, model, backend):
    """SIGKILL cannot be handled: the next Lava or standalone run removes what the dead one left
    (its run directory, the segments it recorded, its surviving children) and keeps a live run's."""
    if not _available(backend):
        pytest.skip(f"{backend} is not installed")
    out = tmp_path / "R"
    dead = Case(tmp_path, model, out, "lava")         # a Lava run leaves a run directory
    p = dead.start("run:KILL")
    dead.wait(p)
    assert p.returncode == -signal.SIGKILL
    left = _owned_by(dead.tmp, p.pid)
    assert left, "the killed run left no run directory to clean up"
    recorded = set((left[0] / "shm").read_text().split())
    assert recorded
    # a run directory of a live process (this one) sharing the temporary directory
    live = dead.tmp / f"spikecore-lava-{procs.owner_tag()}-live"
    live.mkdir()
    (live / "spikes_a.bin").write_bytes(b"in use")

    nxt = Case(tmp_path, model, out, backend)
    nxt.tmp.rmdir()
    nxt.tmp = dead.tmp                                 # the same temporary directory
    nxt.env["TMPDIR"] = str(dead.tmp)
    code, _, err = nxt.run(extra=["--duration", "5ms"])
    assert code == 0, err
    assert _owned_by(dead.tmp, p.pid) == []
    assert live.exists() and (live / "spikes_a.bin").read_bytes() == b"in use"
    assert _marked(dead.marker) == [] and _marked(nxt.marker) == []
    left = [n for n in recorded | dead.segments if os.path.exists(f"/dev/shm/{n}")]
    assert not left, f"shared memory of the killed run left in /dev/shm: {sorted(left)}"


# ----------------------------------------------------------------------------- random moments (slow)
# model, extra arguments, latest moment (s): runs long enough that most moments interrupt them
RANDOM_RUNS = {"native": ("examples/cuba.yaml", ["--duration", "100s"], 4.0),
               "brian2": (None, ["-O", "target=numpy", "--duration", "5s"], 6.0),
               "standalone": (None, ["--duration", "200s"], 20.0),
               "lava": (None, ["--duration", "2s"], 8.0)}


@pytest.mark.slow
@pytest.mark.parametrize("backend", list(RANDOM_RUNS))
def test_signals_at_seeded_random_moments(tmp_path, model, earlier, backend):
    if not _available(backend):
        pytest.skip(f"{backend} is not installed")
    rng = random.Random(f"interrupts-{backend}")
    path, extra, span = RANDOM_RUNS[backend]
    out, before = earlier
    interrupted = 0
    for draw in range(4):
        sig = rng.choice(SIGNALS)
        delay = rng.uniform(0.3, span)
        case = Case(tmp_path, ROOT / path if path else model, out, backend)
        p = case.start(extra=extra)
        until = time.monotonic() + delay
        while time.monotonic() < until and p.poll() is None:
            if case.watch_shm:
                case.segments |= _segments_of(_marked(case.marker))
            time.sleep(POLL_S)
        p.send_signal(getattr(signal, f"SIG{sig}"))
        _, err = case.wait(p)
        where = f"draw {draw}: SIG{sig} after {delay:.2f} s, exit {p.returncode}: {err[-2000:]}"
        case.assert_clean()
        if p.returncode == 0:                     # it finished first: a complete new result
            assert {"summary.json", "spikes.npz"} <= set(_files(out)), where
            before = _files(out)
        elif p.returncode == -getattr(signal, f"SIG{sig}"):
            pass                                  # still starting Python, before any handler: nothing began
        else:
            assert p.returncode == 128 + getattr(signal, f"SIG{sig}"), where
            assert err.splitlines() == [f"spikecore run: interrupted by SIG{sig}"], where
            if _files(out) != before:
                # the signal came after the new result was swapped in (while the table or the
                # paths were printed): a complete new result, never a mixed or partial one
                verify_result_directory(out)
                before = _files(out)
            interrupted += 1
    assert interrupted, "every run finished before its signal: nothing was tested"


# ----------------------------------------------------------------------------- every command, --help
def test_other_commands_stop_the_same_way(tmp_path, model):
    """compare runs backends too: the same stages, the same exit status and line."""
    env = {**os.environ, "SPIKECORE_FAULT": "run:HUP", "TMPDIR": str(tmp_path)}
    p = subprocess.run([sys.executable, "-m", "spikecore", "compare", str(model), "--backends", "native,brian2",
                        "--out", str(tmp_path / "C")], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=HANG_GUARD_S)
    lines = p.stderr.splitlines()        # compare reports its progress on stderr, then the one line
    assert p.returncode == 129 and lines[-1] == "spikecore compare: interrupted by SIGHUP"
    assert not any("Traceback" in line or "Error" in line for line in lines)


def test_help_documents_the_exit_codes():
    p = subprocess.run([sys.executable, "-m", "spikecore", "--help"], cwd=ROOT, capture_output=True, text=True,
                       timeout=HANG_GUARD_S)
    assert "130, 143, 129" in p.stdout and "SIGTERM" in p.stdout and "SIGHUP" in p.stdout
