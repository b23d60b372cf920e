"""Where a sweep's chunks train: this machine's cores (`LocalBackend`) or Ray (`RayBackend`).

Both run exactly `sweep.run_chunk` on exactly the chunks of the spec, so a sweep's per-run
results are the same on either. `run_sweep` drives a backend: it hands out the chunks not yet
done and reports each finished chunk at once (for the output file, a progress bar or a page).

Local: a pool of spawned worker processes (spawned, not forked: a forked copy of a threaded
process such as the Streamlit server can deadlock), one torch thread each, one per core; the
workers ignore Ctrl-C so the driver can stop them and keep what finished. workers=0 trains in
the calling process (tests, one-core machines).

Ray: each chunk is a Ray task of one CPU, on a local Ray instance (started, and stopped
again, by the backend) or on a running cluster at `address` (Ray's own address forms:
"host:port", "ray://host:10001", "auto"). Connecting, the backend ships this package to the job (runtime_env py_modules),
so a cluster's nodes need only torch, numpy and scipy installed. A process that connected to
Ray itself keeps its connection, and its workers must be able to import gan_core (true on
this machine's own Ray instance, whose workers share the driver's environment).
"""
from __future__ import annotations

import os
import queue
import signal
import socket
import threading
from pathlib import Path
from typing import Callable, Iterator

from . import tuning
from .config import ConfigError
from .sweep import SweepSpec, chunk_task, run_chunk

BACKENDS = ("local", "ray")
PACKAGE_DIR = str(Path(__file__).resolve().parent)


def _task(chunk_id: int, configs: list[dict], steps: int, w1_samples: int
          ) -> tuple[int, list[dict]]:
    tuning.for_training()            # a Ray worker process: it trains, one thread
    return chunk_id, run_chunk(configs, steps, w1_samples)


def _task_args(args: tuple) -> tuple[int, list[dict]]:
    return _task(*args)


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # the driver decides when to stop
    tuning.for_training()


class LocalBackend:
    """Chunks on `workers` processes (default: one per core); 0 trains in this process."""

    name = "local"

    def __init__(self, workers: int | None = None):
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                    or not 0 <= workers <= 256):
            raise ConfigError(f"workers: {workers!r} is out of range; allowed [0, 256]")
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self._pool = None

    def run(self, tasks: list[tuple], stop: threading.Event | None = None
            ) -> Iterator[tuple[int, list[dict]]]:
        """(chunk_id, results) for each task (chunk_id, *run_chunk's arguments), as each finishes;
        returns early (dropping the chunks under way) once `stop` is set."""
        if self.workers == 0 or not tasks:
            for chunk_id, *args in tasks:
                results = run_chunk(*args, stop=stop)
                if results is None:                      # stopped midway
                    return
                yield chunk_id, results
            return
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self._pool = ctx.Pool(min(self.workers, len(tasks)), initializer=_worker_init)
        arrived: queue.Queue = queue.Queue()
        try:
            for task in tasks:
                self._pool.apply_async(_task_args, (task,), callback=arrived.put,
                                       error_callback=arrived.put)
            for _ in tasks:
                item = _next(arrived, stop)
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.stop()

    def stop(self) -> None:
        """End the workers now (a chunk under way is dropped; finished ones were reported)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()
            pool.join()


class RayBackend:
    """Chunks as Ray tasks; connects (or starts a local instance) when made, so a bad address
    is refused before anything runs."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None):
        try:
            import ray
        except ImportError:
            raise ConfigError("--backend ray: Ray is not installed; "
                              "pip install -r requirements-sweep.txt") from None
        self.ray = ray
        self.address = address
        self._pending: dict = {}
        self._owns = not ray.is_initialized()
        if not self._owns:
            return                              # someone (a test, the app) already connected
        if address:
            _check_reachable(address)
        ship = {"py_modules": [PACKAGE_DIR]}      # this code, to every node of the job
        try:
            if address:
                ray.init(address=address, runtime_env=ship, log_to_driver=False)
            else:
                ray.init(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False,
                         runtime_env=ship, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ConfigError(f"--address {address or '(local)'}: cannot connect to a Ray "
                              f"cluster ({first})") from None

    def run(self, tasks: list[tuple], stop: threading.Event | None = None
            ) -> Iterator[tuple[int, list[dict]]]:
        ray = self.ray
        remote = ray.remote(num_cpus=1, max_retries=1)(_task)
        self._pending = {remote.remote(*task): task[0] for task in tasks}
        try:
            while self._pending and not (stop is not None and stop.is_set()):
                ready, _ = ray.wait(list(self._pending), num_returns=1, timeout=0.25)
                for ref in ready:
                    self._pending.pop(ref)
                    yield ray.get(ref)
        finally:
            self.stop()

    def stop(self) -> None:
        for ref in list(self._pending):
            try:
                self.ray.cancel(ref, force=True)
            except Exception:                   # already finished or gone: nothing to stop
                pass
        self._pending = {}

    def close(self) -> None:
        """Disconnect (and stop the local instance) if this backend connected."""
        if self._owns and self.ray.is_initialized():
            self.ray.shutdown()


def _next(arrived: queue.Queue, stop: threading.Event | None):
    """The next finished chunk (or a worker's exception); None once `stop` is set."""
    while not (stop is not None and stop.is_set()):
        try:
            return arrived.get(timeout=0.25)
        except queue.Empty:
            continue
    return None


def _check_reachable(address: str) -> None:
    """Refuse an address nothing listens on, in a second, instead of Ray's long retries."""
    if address == "auto":
        return
    hostport = address.split("://", 1)[-1]
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"--address {address}: expected host:port (or ray://host:port, auto)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=3):
            pass
    except OSError as err:
        raise ConfigError(f"--address {address}: no Ray cluster reachable there "
                          f"({err.strerror or err})") from None


def make_backend(name: str = "local", address: str | None = None,
                 workers: int | None = None):
    if name not in BACKENDS:
        raise ConfigError(f"backend: unknown value {name!r}; choose one of {', '.join(BACKENDS)}")
    if address and name != "ray":
        raise ConfigError("--address: only with --backend ray")
    return RayBackend(address) if name == "ray" else LocalBackend(workers)


def run_sweep(spec: SweepSpec, backend, done: dict[int, dict] | None = None,
              on_chunk: Callable[[dict[int, dict], list[int]], None] | None = None,
              stop: threading.Event | None = None) -> dict[int, dict]:
    """Train every chunk with a run not in `done` (run index -> result) and return `done`
    completed. After each chunk, `on_chunk(done, chunk_runs)` (e.g. write the file). Setting
    `stop` ends the sweep within a second; chunks under way are dropped, finished ones kept."""
    done = dict(done or {})
    chunks = spec.chunks()
    todo = [(i, *chunk_task(spec, chunk)) for i, chunk in enumerate(chunks)
            if any(r not in done for r in chunk)]
    runs = backend.run(todo, stop)
    try:
        for chunk_id, results in runs:
            done.update(zip(chunks[chunk_id], results))
            if on_chunk is not None:
                on_chunk(done, chunks[chunk_id])
    finally:
        runs.close()                             # stops the backend's workers / tasks
    return done

