"""Dask clients for sweeps: a local cluster of worker processes, or a scheduler's address.

``open_client(jobs=N)`` starts a ``distributed.LocalCluster`` of N worker *processes*
(each under a nanny that restarts it if it dies), one thread each;
``open_client(scheduler="tcp://host:8786")`` connects to a running scheduler and fails
within ``connect_timeout`` seconds (Dask's own default is 30 s) with a one-line error
when nothing answers there. Either way every worker is set up for simulations by
``SimulationWorker`` (a Dask worker plugin):

* one OpenMP / BLAS thread (``OMP_NUM_THREADS=1`` and friends, also set before a local
  worker process starts, when the OpenMP runtime reads it): parallelism comes from the
  worker processes, not from threads inside them;
* its own cache directory, ``$SPIKECORE_CACHE`` (else ``~/.cache/spikecore``) +
  ``/workers/<worker name>``, exported as ``SPIKECORE_CACHE`` in the worker, so two
  workers never build Brian2's generated code in the same directory; a restarted
  local worker keeps its name, so it finds its own compiled code again.

Lava is refused in sweeps (``check_backend``): it starts processes of its own, which
Dask's worker processes, daemonic by default, may not do.

spikecore.sweep.runner and hwmodels.precision run their work on these clients.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import BackendUnavailable, ValidationError

#: Seconds to wait for a scheduler to answer before giving up (Dask's default is 30 s).
CONNECT_TIMEOUT_S = 5.0
#: Thread counts pinned to 1 in every worker (OpenMP, OpenBLAS, MKL, numexpr).
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "NUMEXPR_NUM_THREADS": "1"}
CACHE_ENV = "SPIKECORE_CACHE"
#: Backends that start processes of their own and so cannot run in a (daemonic) Dask worker.
SPAWNING_BACKENDS = ("lava",)


def find_backend(name: str):
    """The backend called ``name``, found as Network.run finds it (spikecore.registry)."""
    from ..registry import get_backend
    return get_backend(name)


def check_backend(backend: str) -> None:
    if backend in SPAWNING_BACKENDS:
        raise ValidationError("--backend", backend,
                              "a backend that runs inside a Dask worker (native, brian2, nest): Lava starts processes "
                              "of its own, which Dask's daemonic worker processes cannot; run Lava models one at "
                              "a time with 'spikecore run'")


def _distributed():
    try:
        import distributed
    except ImportError:
        raise BackendUnavailable("sweeps need Dask's 'distributed' package, which is not installed: "
                                 "pip install 'distributed>=2024.1'") from None
    return distributed


def worker_cache_dir(worker_name, root=None) -> Path:
    """The cache directory of the worker called ``worker_name`` under ``root`` (default: module docstring)."""
    root = root if root is not None else os.environ.get(CACHE_ENV)
    if root is None:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = Path(xdg).expanduser() / "spikecore" if xdg else Path.home() / ".cache" / "spikecore"
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(worker_name)).strip("_") or "worker"
    return Path(root).expanduser() / "workers" / safe


try:    # a declared dependency; without it open_client says so in one line
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:
    _WorkerPlugin = object


class SimulationWorker(_WorkerPlugin):
    """Sets up a Dask worker for simulations: one thread, its own cache directory."""
    name = "spikecore-simulation-worker"
    idempotent = True

    def __init__(self, cache_root: str | None = None):
        self.cache_root = cache_root

    def setup(self, worker):
        os.environ.update(ONE_THREAD)
        cache = worker_cache_dir(worker.name, self.cache_root)
        cache.mkdir(parents=True, exist_ok=True)
        os.environ[CACHE_ENV] = str(cache)


class BackendImport(_WorkerPlugin):
    """Imports a backend in the worker's main thread when the worker starts.

    Tasks run in a worker's thread pool, but some libraries may only be imported in a
    process's main thread (Brian2 installs a SIGINT handler on import); the worker's
    plugins are set up in its main thread, so the backend is imported there first.
    """
    idempotent = True

    def __init__(self, backend: str):
        self.backend = backend
        self.name = f"spikecore-import-{backend}"

    def setup(self, worker):
        find_backend(self.backend)


class Cluster:
    """A Dask client and, for a local cluster, the cluster it owns; ``close()`` ends both."""

    def __init__(self, client, local=None, address: str | None = None):
        self.client = client
        self.local = local
        self.address = address

    @property
    def description(self) -> str:
        if self.local is not None:
            return f"local cluster of {len(self.local.workers)} worker processes"
        return f"Dask scheduler {self.address}"

    def prepare(self, backend: str) -> None:
        """Import ``backend`` in every worker's main thread, now and in workers that join later."""
        self.client.register_plugin(BackendImport(backend))

    def close(self):
        try:
            self.client.close()
        finally:
            if self.local is not None:
                self.local.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_client(jobs: int | None = None, scheduler: str | None = None,
                connect_timeout: float = CONNECT_TIMEOUT_S, cache_root=None) -> Cluster:
    """A Cluster on ``scheduler``'s address, or a local cluster of ``jobs`` worker processes.

    ``cache_root``: where the workers' cache directories go (default: each worker's
    $SPIKECORE_CACHE, else ~/.cache/spikecore).
    """
    if jobs is not None and scheduler is not None:
        raise ValidationError("--jobs", jobs, "either --jobs (a local cluster) or --scheduler (a running one), not both")
    if isinstance(connect_timeout, bool) or not isinstance(connect_timeout, (int, float)) or not connect_timeout > 0:
        raise ValidationError("--connect-timeout", connect_timeout, "a positive number of seconds")
    distributed = _distributed()
    import dask

    timeout = f"{float(connect_timeout)}s"
    if scheduler is not None:
        if not isinstance(scheduler, str) or not scheduler.strip():
            raise ValidationError("--scheduler", scheduler, "the address of a Dask scheduler, e.g. tcp://host:8786")
        address = scheduler.strip()
        probe_scheduler(address, float(connect_timeout))
        try:
            with dask.config.set({"distributed.comm.timeouts.connect": timeout}):
                client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except Exception as e:   # noqa: BLE001 -- whatever answered, it is one line to the user
            raise _unreachable(scheduler, connect_timeout, e) from None
        cluster = Cluster(client, address=address)
    else:
        jobs = default_jobs() if jobs is None else jobs
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise ValidationError("--jobs", jobs, "a positive number of worker processes")
        cluster = Cluster(*_local(distributed, dask, jobs))
    try:
        cluster.client.register_plugin(SimulationWorker(None if cache_root is None else str(cache_root)))
    except BaseException:
        cluster.close()
        raise
    return cluster


def _unreachable(scheduler, connect_timeout, error) -> ValidationError:
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return ValidationError("--scheduler", scheduler,
                           f"the address of a running Dask scheduler; none answered within "
                           f"{float(connect_timeout):g} s ({reason[:120]})")


def probe_scheduler(address: str, connect_timeout: float) -> None:
    """Fail in one line, within ``connect_timeout``, unless a Dask scheduler answers at ``address``.

    Checked before a ``distributed.Client`` exists: a Client that fails to connect
    still tries to close itself when collected, which waits and prints a traceback.
    The check opens a Dask connection and asks the other end for its identity, so a
    closed port, a host that does not answer and a server that is not Dask's all
    give the same one-line error.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except ValueError as e:
        raise ValidationError("--scheduler", address, f"an address such as tcp://host:8786 ({e})") from None

    async def identity():
        comm = None
        try:
            comm = await connect(address, timeout=connect_timeout)     # Dask's handshake included
            await comm.write({"op": "identity", "reply": True})
            reply = await asyncio.wait_for(comm.read(), connect_timeout)
        except (OSError, TimeoutError, asyncio.TimeoutError):
            raise
        except Exception:   # noqa: BLE001 -- e.g. a frame length read from an HTTP reply
            raise OSError("what answered there does not speak Dask's protocol") from None
        finally:
            if comm is not None:
                comm.abort()
        if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
            raise OSError(f"a {reply.get('type') if isinstance(reply, dict) else 'non-Dask'} server, not a scheduler")

    # in a thread of its own: the caller may be inside a running event loop (Jupyter)
    with ThreadPoolExecutor(1) as pool:
        try:
            pool.submit(asyncio.run, identity()).result()
        except Exception as e:   # noqa: BLE001 -- refused, timed out, garbage: one line
            raise _unreachable(address, connect_timeout, e) from None


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _local(distributed, dask, jobs: int):
    import logging

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.update(ONE_THREAD)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        local = distributed.LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                         dashboard_address=":0", silence_logs=logging.CRITICAL)
    client = distributed.Client(local, set_as_default=False)
    return client, local, local.scheduler_address
