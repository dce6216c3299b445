"""Child processes and temporary resources of a run: reaped on every exit path, cleaned up after a crash.

The Lava backend forks worker processes and shared-memory segments (/dev/shm/psm_*);
Brian2's cpp_standalone device runs ``make`` and the compiled binary. This module is
the one mechanism that keeps them from outliving the command that started them:

* ``run_dir(kind)``: a temporary directory ``spikecore-<kind>-<pid>.<start>-*`` that
  names its owner process (pid and start time, so a reused pid is not mistaken for
  the owner) and is removed when the block exits, however it exits.
* ``forked_children()``: while active, every process this one forks (Lava's
  workers and managers) gets its own process group, default signal dispositions and
  a parent-death signal (the kernel SIGKILLs it if this process dies, even by
  SIGKILL or the OOM killer); on exit every such child still alive is terminated,
  then killed, then reaped. ``record(...)`` notes children and segments in the run
  directory for the clean-up below.
* ``run_in_group(argv)``: a child command (make, a binary) in its own process group
  with the parent-death signal; an exception or interrupt while waiting kills the
  whole group (SIGTERM, then SIGKILL), so make's compilers go too.
* ``clean_stale()``: called at the start of every Lava and Brian2-standalone run;
  removes the run directories whose owner is dead, after killing the children they
  record and unlinking the segments they record (unless a live process maps one).
* ``reap_children(keep)``: the command line's last step; no child it started outlives it.

Anything else that starts Lava processes or a watchdog over them uses the same pieces.
Linux only (/proc, prctl); elsewhere the parent-death signal is skipped. Signals
themselves are spikecore.interrupts.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .interrupts import HANDLED, checkpoint, deferred, fault_signal

PREFIX = "spikecore-"
SHM_DIR = Path("/dev/shm")
SHM_PREFIX = "psm_"               # Python's multiprocessing.shared_memory names
CHILDREN_RECORD = "children"      # lines "pid start" of the processes a run forked
SHM_RECORD = "shm"                # names of the shared-memory segments a run created
TERM_GRACE_S = 5.0                # SIGTERM, then SIGKILL after this long
_RUN_DIR = re.compile(r"^spikecore-[a-z0-9]+-(\d+)\.(\d+)-")
_PR_SET_PDEATHSIG = 1


# ----------------------------------------------------------------------------- identity
def _stat_fields(pid: int) -> list | None:
    """/proc/PID/stat after the command name (field 3 on), or None if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return stat[stat.rindex(b")") + 2:].split()


def start_time(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot (field 22), None if gone."""
    fields = _stat_fields(pid)
    return None if fields is None else int(fields[19])


def _stat(pid: int):
    """(state, ppid, pgid, sid) of ``pid`` or None."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[3])


def alive(pid: int, start: int) -> bool:
    """Whether the process ``pid`` that started at ``start`` still runs (a zombie does not)."""
    st = _stat(pid)
    return st is not None and st[0] != "Z" and start_time(pid) == start


def owner_tag(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{pid}.{start_time(pid)}"


def pids() -> list:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def children(parent: int | None = None) -> list:
    """Pids of the live (not zombie) children of ``parent`` (default: this process)."""
    parent = os.getpid() if parent is None else parent
    out = []
    for pid in pids():
        st = _stat(pid)
        if st is not None and st[1] == parent and st[0] != "Z":
            out.append(pid)
    return out


# ----------------------------------------------------------------------------- run directories
@contextlib.contextmanager
def run_dir(kind: str):
    """A temporary directory named after this process, removed on every exit path."""
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-{owner_tag()}-"))
    try:
        yield path
    finally:
        with deferred():
            shutil.rmtree(path, ignore_errors=True)


def record(directory, name: str, lines) -> None:
    """Write ``lines`` to the record ``name`` of a run directory (whole or not at all)."""
    directory = Path(directory)
    tmp = directory / f".{name}.tmp"
    tmp.write_text("".join(f"{x}\n" for x in lines))
    os.replace(tmp, directory / name)


def record_children(directory) -> None:
    """Note this process's children (but its resource tracker) in a run directory, for clean_stale."""
    tracker = _resource_tracker_pid()
    starts = {p: start_time(p) for p in children() if p != tracker}
    record(directory, CHILDREN_RECORD, [f"{p} {t}" for p, t in starts.items() if t is not None])


def _read_record(directory: Path, name: str) -> list:
    try:
        return (directory / name).read_text().split("\n")
    except OSError:
        return []


def mapped_segments() -> set:
    """Names of the /dev/shm files some live process has mapped or open."""
    out = set()
    for pid in pids():
        try:
            with open(f"/proc/{pid}/maps") as f:
                for line in f:
                    if "/dev/shm/" in line:
                        out.add(line.rsplit("/dev/shm/", 1)[1].split()[0])
        except OSError:
            continue
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("/dev/shm/"):
                    out.add(target[len("/dev/shm/"):])
        except OSError:
            continue
    return out


def stale_run_dirs(tmp: str | None = None) -> list:
    """The spikecore run directories in the temporary directory whose owner process is dead."""
    root = Path(tmp or tempfile.gettempdir())
    out = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return out
    for entry in entries:
        m = _RUN_DIR.match(entry.name)
        if m and entry.is_dir() and not alive(int(m.group(1)), int(m.group(2))):
            out.append(entry)
    return out


def clean_stale(tmp: str | None = None) -> dict:
    """Remove what dead spikecore runs left: their children, shared memory and run directories."""
    done = {"directories": 0, "processes": 0, "segments": 0}
    stale = stale_run_dirs(tmp)
    if not stale:
        return done
    killed = []
    for d in stale:
        for line in _read_record(d, CHILDREN_RECORD):
            parts = line.split()
            if len(parts) == 2 and alive(int(parts[0]), int(parts[1])):
                _kill_tree(int(parts[0]), signal.SIGKILL)
                killed.append((int(parts[0]), int(parts[1])))
    done["processes"] = len(killed)
    deadline = time.monotonic() + TERM_GRACE_S      # SIGKILLed processes unmap their segments as they go
    while any(alive(*k) for k in killed) and time.monotonic() < deadline:
        time.sleep(0.01)
    in_use = mapped_segments()
    for d in stale:
        for name in _read_record(d, SHM_RECORD):
            if name.startswith(SHM_PREFIX) and "/" not in name and name not in in_use:
                try:
                    (SHM_DIR / name).unlink()
                    done["segments"] += 1
                except FileNotFoundError:
                    pass
        shutil.rmtree(d, ignore_errors=True)
        done["directories"] += 1
    return done


# ----------------------------------------------------------------------------- killing
def _kill_tree(pid: int, sig: int) -> None:
    """Send ``sig`` to ``pid``'s process group if it leads one, else to ``pid`` alone."""
    st = _stat(pid)
    try:
        if st is not None and st[2] == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _exited(pid: int) -> bool:
    """Whether our child ``pid`` has ended; it is not reaped, so its pid and group id stay reserved."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def terminate(pids_, grace: float = TERM_GRACE_S) -> None:
    """End our children ``pids_``: SIGTERM (to the whole group of one that leads a group), SIGKILL
    to what is left after ``grace`` s and to their groups, then reap them. A signal meanwhile
    waits for the end (spikecore.interrupts.deferred)."""
    pids_ = list(pids_)
    with deferred():
        for p in pids_:
            _kill_tree(p, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while any(not _exited(p) for p in pids_) and time.monotonic() < deadline:
            time.sleep(0.01)
        for p in pids_:
            _kill_tree(p, signal.SIGKILL)      # also the group of a leader that left members behind
        for p in pids_:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(p, 0)


def _resource_tracker_pid():
    """The pid of this process's shared-memory resource tracker, if it started one."""
    tracker = sys.modules.get("multiprocessing.resource_tracker")
    return getattr(getattr(tracker, "_resource_tracker", None), "_pid", None)


def reap_children(keep=(), grace: float = TERM_GRACE_S) -> None:
    """End every child of this process but those in ``keep`` (the last step of a command).

    Python's shared-memory resource tracker, if the command started it, is stopped, not
    killed: it unlinks any segment still registered, which a killed one would leave behind.
    """
    keep = set(keep)
    tracker = _resource_tracker_pid()
    terminate([p for p in children() if p not in keep and p != tracker], grace)
    if tracker is not None and tracker not in keep:
        from multiprocessing import resource_tracker
        with contextlib.suppress(Exception):
            resource_tracker._resource_tracker._stop()


# ----------------------------------------------------------------------------- forked children
_guard = {"active": 0, "parent": None}
_hooks_installed = False


def _prctl():
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl() if sys.platform.startswith("linux") else None


def _before_fork():
    _guard["parent"] = os.getpid()


def _in_child():
    if not _guard["active"]:
        return
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)               # out of the terminal's group: the parent decides when it stops
    for s in HANDLED:
        signal.signal(s, signal.SIG_DFL)
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != _guard["parent"]:   # the parent died before the line above
            os._exit(1)


@contextlib.contextmanager
def forked_children():
    """Every process forked inside the block is guarded (see the module docstring) and ended at exit."""
    global _hooks_installed
    if not _hooks_installed:
        os.register_at_fork(before=_before_fork, after_in_child=_in_child)
        _hooks_installed = True
    before = set(children())
    _guard["active"] += 1
    try:
        yield
    finally:
        _guard["active"] -= 1
        with deferred():
            tracker = _resource_tracker_pid()
            terminate([p for p in children() if p not in before and p != tracker])


# ----------------------------------------------------------------------------- child commands
# Runs in the child between fork and the command: its own process group, the parent-death
# signal, unblocked signals, default dispositions; exits if the parent is already gone; sends
# the parent the fault-injection signal of the stage, if any (spikecore.interrupts).
# -I -S: no site, no user paths: a few ms.
_EXEC_IN_GROUP = r"""
import ctypes, os, signal, sys
parent, fault = int(sys.argv[1]), int(sys.argv[2])
try:
    os.setpgid(0, 0)
except OSError:
    pass
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
except (OSError, AttributeError):
    pass
if os.getppid() != parent:
    sys.exit(1)
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, signal.SIG_DFL)
signal.pthread_sigmask(signal.SIG_SETMASK, [])
if fault:
    os.kill(parent, fault)
os.execvp(sys.argv[3], sys.argv[3:])
"""


def group_argv(argv, fault_stage: str | None = None) -> list:
    """``argv`` wrapped to run in its own process group and die with this process.

    For commands another library spawns (Brian2 runs the standalone binary itself);
    ``fault_stage`` is the stage whose injected fault the wrapper delivers once the
    child exists, since this process is then blocked in the library's wait.
    """
    fault = fault_signal(fault_stage) if fault_stage else None
    return [sys.executable, "-I", "-S", "-c", _EXEC_IN_GROUP, str(os.getpid()), str(int(fault or 0)),
            *map(str, argv)]


def spawn_in_group(argv, **popen_kw) -> subprocess.Popen:
    """Start ``argv`` as the leader of a new process group that dies with this process."""
    # no signal may interrupt the start: an exception inside Popen() would lose the child
    old = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
    try:
        # the group exists before Popen returns (the wrapper sets it again, for Python < 3.11)
        group = {"process_group": 0} if sys.version_info >= (3, 11) else {}
        return subprocess.Popen(group_argv(argv), **group, **popen_kw)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def run_in_group(argv, stage: str | None = None, **popen_kw) -> int:
    """Run ``argv`` in its own process group; its return code. Any exception kills the group first."""
    p = spawn_in_group(argv, **popen_kw)
    try:
        if stage:
            checkpoint(stage)
        return p.wait()
    except BaseException:
        terminate([p.pid])
        raise
