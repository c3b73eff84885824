"""Running a sweep: points in batches, on a local process pool or an existing Dask or Ray cluster.

Every executor gets the same pure work (:func:`.evaluate.evaluate` on a batch of points) and the
same discipline: batches are submitted lazily, at most ``window`` in flight, and results come back
in the order of the points, so a million points stream through with flat memory and the output is
the same whatever ran it. Batches keep the scheduling overhead small: a Dask task or a Ray call
costs about a millisecond, a point a fraction of one.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..conventions import Conventions
from ..errors import ArchcalcError
from .evaluate import SpecSource, evaluate
from .space import Space

EXECUTORS = ("local", "dask", "ray")


@dataclass(frozen=True)
class SweepOptions:
    conventions: Conventions = field(default_factory=Conventions)
    jobs: int | None = None  # local workers (None: every core; 1: in this process)
    executor: str = "local"
    address: str | None = None  # a Dask scheduler or Ray cluster; None: start a local one
    batch: int = 0  # points per task (0: chosen from the space's size)
    sample: int | None = None
    seed: int = 0


def _batches(space: Space, options: SweepOptions, size: int) -> Iterator[list[tuple[int, dict[str, Any], Any]]]:
    indices = space.indices(options.sample, options.seed)
    while True:
        chunk = list(itertools.islice(indices, size))
        if not chunk:
            return
        yield [(index, *space.point(index)) for index in chunk]


def _batch_size(space: Space, options: SweepOptions, workers: int) -> int:
    """Enough batches to keep every worker busy, few enough that scheduling is cheap."""
    if options.batch:
        return options.batch
    points = min(space.size, options.sample or space.size)
    return max(1, min(256, points // (workers * 8) or 1))


class _Executor:
    workers = 1

    def submit(self, batch):  # pragma: no cover - interface
        raise NotImplementedError

    def result(self, handle) -> list[dict[str, Any]]:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


class _InProcess(_Executor):
    def __init__(self, source: SpecSource, conventions: Conventions) -> None:
        self.work = (source, conventions)

    def submit(self, batch):
        return batch

    def result(self, handle):
        return evaluate(*self.work, handle)


class _Local(_Executor):
    def __init__(self, source: SpecSource, conventions: Conventions, jobs: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = jobs
        # fork where there is one: workers start in milliseconds with archcalc already imported
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        self.pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(method) if method else None)
        self.work = (source, conventions)

    def submit(self, batch):
        return self.pool.submit(evaluate, *self.work, batch)

    def result(self, handle):
        return handle.result()

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


class _Dask(_Executor):
    def __init__(self, source: SpecSource, conventions: Conventions, address: str | None, jobs: int | None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ArchcalcError("--executor dask needs Dask's distributed scheduler",
                                hint="pip install 'archcalc[dask]'") from None
        self.cluster = None
        if address is None:
            self.cluster = LocalCluster(n_workers=jobs or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            address = self.cluster.scheduler_address
        try:
            self.client = Client(address, timeout=10)
        except (OSError, TimeoutError) as err:
            raise ArchcalcError(f"cannot reach the Dask scheduler at {address}: {err}") from None
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        self.source = self.client.scatter(source, broadcast=True)  # sent once, not with every batch
        self.conventions = conventions

    def submit(self, batch):
        return self.client.submit(evaluate, self.source, self.conventions, batch, pure=False)

    def result(self, handle):
        return handle.result()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


class _Ray(_Executor):
    def __init__(self, source: SpecSource, conventions: Conventions, address: str | None, jobs: int | None) -> None:
        try:
            import ray
        except ImportError:
            raise ArchcalcError("--executor ray needs Ray", hint="pip install 'archcalc[ray]'") from None
        self.ray = ray
        self.started = not ray.is_initialized()
        if self.started:
            kwargs = {"address": address} if address else {"num_cpus": jobs or os.cpu_count() or 1}
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False, **kwargs)
        self.workers = max(1, int(ray.available_resources().get("CPU", 1)))
        self.remote = ray.remote(evaluate)
        self.source = ray.put(source)
        self.conventions = conventions

    def submit(self, batch):
        return self.remote.remote(self.source, self.conventions, batch)

    def result(self, handle):
        return self.ray.get(handle)

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()


def _executor(source: SpecSource, options: SweepOptions) -> _Executor:
    if options.executor == "dask":
        return _Dask(source, options.conventions, options.address, options.jobs)
    if options.executor == "ray":
        return _Ray(source, options.conventions, options.address, options.jobs)
    jobs = options.jobs or os.cpu_count() or 1
    return _InProcess(source, options.conventions) if jobs == 1 else _Local(source, options.conventions, jobs)


def run_sweep(source: SpecSource, space: Space, options: SweepOptions,
              progress: Callable[[int, int, float], None] | None = None) -> Iterator[dict[str, Any]]:
    """Every point's row, in the order of the points, streamed as batches finish."""
    executor = _executor(source, options)
    total = min(space.size, options.sample or space.size)
    try:
        size = _batch_size(space, options, executor.workers)
        window = max(2, 4 * executor.workers)
        pending: deque = deque()
        batches = _batches(space, options, size)
        done, start, last_report = 0, time.monotonic(), 0.0
        for batch in itertools.chain(batches, [None]):
            if batch is not None:
                pending.append(executor.submit(batch))
                if len(pending) < window:
                    continue
            while pending and (batch is None or len(pending) >= window):
                rows = executor.result(pending.popleft())
                done += len(rows)
                yield from rows
                now = time.monotonic()
                if progress is not None and now - last_report >= 1.0:
                    progress(done, total, now - start)
                    last_report = now
        if progress is not None and time.monotonic() - start >= 1.0:
            progress(done, total, time.monotonic() - start)
    finally:
        executor.close()


def stderr_progress(done: int, total: int, seconds: float) -> None:
    rate = done / seconds if seconds else 0.0
    print(f"sweep: {done:,} / {total:,} points ({rate:,.0f} points/s)", file=sys.stderr, flush=True)
