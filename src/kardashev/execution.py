"""Where work units run: in this process, or on a pool of Ray actors (one machine or a cluster).

An :class:`Executor` maps a function over work units and returns the results in input order::

    results = executor.map(function, items, shared=payload)
    # each call is function(item, payload, state)

``shared`` is the payload every unit reads (e.g. one era's arrays): it is sent once per ``map``,
not once per unit (Ray puts it in the object store; its numpy arrays reach the workers without a
copy on the same node). ``state`` is a mutable ``dict`` private to the worker that runs the unit
and kept between units and between ``map`` calls: a worker caches there what it can reuse — the
era's solver and an optimizer warm start keyed by era — so later units of the same era start warm.
A function must give the same result whatever the state holds (a cache, never an input), so the
answer does not depend on which worker ran which unit.

Two implementations:

* :class:`LocalExecutor` (the default): runs every unit in this process, one after another, with
  one ``state``. No dependency, nothing to start.
* :class:`RayExecutor`: a pool of Ray actors (one CPU each), each with its own ``state``; units are
  handed to whichever actor is free. Without ``address`` it starts a local Ray cluster on this
  machine; with ``address`` (``"auto"`` or ``"HOST:6379"``) it joins a running one (``ray start
  --head`` on one node, ``ray start --address HOST:6379`` on the others). Ray is an optional
  dependency: ``pip install 'kardashev[distributed]'``. The function must be importable on the
  workers (a module-level function of an installed package such as ``kardashev``).

An error raised by a unit is raised again by ``map`` as itself (a
:class:`~kardashev.errors.KardashevError` keeps its type, message and code).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar, runtime_checkable

from kardashev.errors import ConfigError, KardashevError

__all__ = ["EXECUTORS", "Executor", "LocalExecutor", "RayExecutor", "make_executor"]

T = TypeVar("T")
R = TypeVar("R")

#: the names ``make_executor`` (and the CLI's ``--executor``) accept
EXECUTORS = ("local", "ray")

_RAY_MISSING = "the Ray executor needs Ray: pip install 'kardashev[distributed]'"


@runtime_checkable
class Executor(Protocol):
    """Runs work units; results come back in input order."""

    @property
    def n_workers(self) -> int:
        """How many units can run at once."""
        ...

    def map(
        self, function: Callable[[T, Any, dict[str, Any]], R], items: Iterable[T], *, shared: Any = None
    ) -> list[R]:
        """``[function(item, shared, state) for item in items]``, each on some worker."""
        ...

    def close(self) -> None:
        """Release the workers (an executor is also a context manager)."""
        ...


class LocalExecutor:
    """Every unit in this process, in order, with one worker ``state`` kept between calls."""

    n_workers = 1

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}

    def map(
        self, function: Callable[[T, Any, dict[str, Any]], R], items: Iterable[T], *, shared: Any = None
    ) -> list[R]:
        return [function(item, shared, self.state) for item in items]

    def close(self) -> None:
        self.state.clear()

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return "LocalExecutor()"


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(_RAY_MISSING, code="missing_dependency") from exc
    return ray


class _Worker:
    """The body of one Ray actor: a private ``state`` and, optionally, a BLAS thread cap."""

    def __init__(self, blas_threads: int | None) -> None:
        self.state: dict[str, Any] = {}
        if blas_threads is not None:
            from threadpoolctl import threadpool_limits

            threadpool_limits(limits=blas_threads)  # for the life of the actor's process

    def run(self, function: Callable[[Any, Any, dict[str, Any]], Any], item: Any, shared: Any) -> Any:
        return function(item, shared, self.state)

    def pid(self) -> int:
        return os.getpid()

    def cpu_seconds(self) -> float:
        return time.process_time()


class RayExecutor:
    """A pool of Ray actors, each keeping its own ``state`` between units.

    Parameters
    ----------
    address
        ``None``: start a local Ray cluster on this machine (unless Ray is already initialized in
        this process, which is then used as is); ``"auto"`` or ``"HOST:PORT"``: join a running one.
    num_workers
        Actors in the pool (one CPU each); default every CPU of the cluster.
    blas_threads
        BLAS threads per actor (default 1, so workers do not fight over the cores; ``None``
        leaves Ray's default).
    """

    def __init__(
        self, address: str | None = None, num_workers: int | None = None, *, blas_threads: int | None = 1
    ) -> None:
        if num_workers is not None and (
            isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 1
        ):
            raise ConfigError(f"num_workers must be a positive integer, got {num_workers!r}")
        ray = _import_ray()
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address is None and num_workers is not None:
                options["num_cpus"] = max(num_workers, 1)
            try:  # "local": a new cluster on this machine, even if one started by `ray start` runs here
                ray.init(address="local" if address is None else address, **options)
            except ConnectionError as exc:
                raise ConfigError(
                    f"cannot reach a Ray cluster at {address!r}: {exc}", code="unreachable_cluster"
                ) from exc
            self._started = True
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if num_workers is not None and num_workers > cpus:
            if self._started:
                ray.shutdown()
            raise ConfigError(
                f"{num_workers} workers need {num_workers} CPUs; the Ray cluster has {cpus}",
                code="not_enough_cpus",
            )
        self.address = address
        self.n_workers = num_workers if num_workers is not None else max(cpus, 1)
        actor = ray.remote(num_cpus=1)(_Worker)
        self._actors = [actor.remote(blas_threads) for _ in range(self.n_workers)]

    def map(
        self, function: Callable[[T, Any, dict[str, Any]], R], items: Iterable[T], *, shared: Any = None
    ) -> list[R]:
        ray = self._ray
        units = list(items)
        if not units:
            return []
        shared_ref = ray.put(shared)
        results: list[Any] = [None] * len(units)
        pending: dict[Any, tuple[int, Any]] = {}
        free = list(self._actors)
        next_unit = 0
        try:
            while next_unit < len(units) or pending:
                while free and next_unit < len(units):
                    actor = free.pop()
                    ref = actor.run.remote(function, units[next_unit], shared_ref)
                    pending[ref] = (next_unit, actor)
                    next_unit += 1
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    index, actor = pending.pop(ref)
                    results[index] = ray.get(ref)
                    free.append(actor)
        except ray.exceptions.RayTaskError as error:
            for ref in pending:
                ray.cancel(ref)
            cause = getattr(error, "cause", None)
            if isinstance(cause, KardashevError):
                raise cause from error  # the unit's own error (type, message, code, attributes)
            raise
        return results

    def worker_pids(self) -> list[int]:
        """The process id of every actor (distinct processes: the pool is real)."""
        return list(self._ray.get([actor.pid.remote() for actor in self._actors]))

    def worker_cpu_seconds(self) -> list[float]:
        """The CPU time each actor's process has used so far (for benchmarks: work vs waiting)."""
        return list(self._ray.get([actor.cpu_seconds.remote() for actor in self._actors]))

    def close(self) -> None:
        for actor in getattr(self, "_actors", []):
            self._ray.kill(actor)
        self._actors = []
        if self._started:
            self._ray.shutdown()
            self._started = False

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r}, num_workers={self.n_workers})"


def make_executor(kind: str = "local", *, address: str | None = None, num_workers: int | None = None) -> Any:
    """The executor called ``kind`` (one of :data:`EXECUTORS`); ``address`` only for ``"ray"``."""
    if kind == "local":
        if address is not None or num_workers is not None:
            raise ConfigError("--address and --workers are for the Ray executor (--executor ray)")
        return LocalExecutor()
    if kind == "ray":
        return RayExecutor(address=address, num_workers=num_workers)
    raise ConfigError(f"unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}")
