"""Executors: the in-process one and a pool of Ray actors on a local 2-CPU cluster."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from typing import Any

import pytest

from kardashev.errors import ConfigError, InvalidInputError
from kardashev.execution import Executor, LocalExecutor, RayExecutor, make_executor

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray cluster of 2 CPUs for this module; the test functions travel by value."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _square_slowly(item: int, shared: Any, state: dict[str, Any]) -> tuple[int, int, int, int]:
    """``item² + shared``, the worker's pid and how many units this worker has run so far."""
    time.sleep(0.002 * (item % 3))  # uneven durations: units finish out of order
    state["count"] = state.get("count", 0) + 1
    return item, item * item + shared, os.getpid(), state["count"]


def _fail_on_three(item: int, shared: Any, state: dict[str, Any]) -> int:
    if item == 3:
        raise InvalidInputError(f"unit {item} is bad", code="bad_unit")
    return item


def _check_counts(results: list[tuple[int, int, int, int]], first_count: dict[int, int]) -> Counter:
    """Each worker's counts run 1, 2, … without gaps (its state is kept); return units per pid."""
    per_worker: dict[int, list[int]] = {}
    for _, _, pid, count in results:
        per_worker.setdefault(pid, []).append(count)
    for pid, counts in per_worker.items():
        start = first_count.get(pid, 0)
        assert sorted(counts) == list(range(start + 1, start + len(counts) + 1))
    return Counter({pid: len(counts) for pid, counts in per_worker.items()})


def test_local_executor_runs_in_order_and_keeps_its_state() -> None:
    executor = LocalExecutor()
    assert isinstance(executor, Executor)
    first = executor.map(_square_slowly, range(5), shared=10)
    assert [r[1] for r in first] == [10, 11, 14, 19, 26]
    assert {r[2] for r in first} == {os.getpid()}
    assert [r[3] for r in first] == [1, 2, 3, 4, 5]
    second = executor.map(_square_slowly, [7], shared=0)
    assert second[0][1:] == (49, os.getpid(), 6)
    with executor:
        pass
    assert executor.state == {}


def test_local_executor_raises_the_units_error() -> None:
    with pytest.raises(InvalidInputError, match="unit 3 is bad"):
        LocalExecutor().map(_fail_on_three, range(5))


def test_make_executor_names_and_checks_its_options() -> None:
    assert isinstance(make_executor("local"), LocalExecutor)
    with pytest.raises(ConfigError, match="unknown executor 'dask'"):
        make_executor("dask")
    with pytest.raises(ConfigError, match="--address and --workers are for the Ray executor"):
        make_executor("local", address="127.0.0.1:6379")
    with pytest.raises(ConfigError, match="--workers are for the Ray executor"):
        make_executor("local", num_workers=2)


def test_a_missing_ray_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(ConfigError, match=r"pip install 'kardashev\[distributed\]'") as error:
        RayExecutor()
    assert error.value.code == "missing_dependency"


def test_without_an_address_the_ray_executor_starts_and_stops_its_own_cluster() -> None:
    if ray.is_initialized():  # pragma: no cover - only when the module's cluster came first
        pytest.skip("a Ray cluster is already running in this process")
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with RayExecutor(num_workers=2) as executor:
        assert ray.is_initialized()
        assert ray.cluster_resources()["CPU"] == 2
        assert [r[1] for r in executor.map(_square_slowly, range(4), shared=1)] == [1, 2, 5, 10]
    assert not ray.is_initialized()


def test_ray_pool_returns_results_in_input_order_from_two_worker_processes(ray_cluster) -> None:
    with RayExecutor(num_workers=2) as executor:
        assert isinstance(executor, Executor)
        pids = executor.worker_pids()
        assert len(set(pids)) == 2 and os.getpid() not in pids
        cpu_before = executor.worker_cpu_seconds()
        results = executor.map(_square_slowly, range(12), shared=100)
        assert [r[0] for r in results] == list(range(12))
        assert [r[1] for r in results] == [i * i + 100 for i in range(12)]
        assert {r[2] for r in results} <= set(pids)
        first = _check_counts(results, {})
        assert sum(first.values()) == 12
        cpu_after = executor.worker_cpu_seconds()
        assert len(cpu_after) == 2 and all(a >= b for a, b in zip(cpu_after, cpu_before, strict=True))
        # the actors keep their state between maps: counts go on where they stopped
        more = executor.map(_square_slowly, range(6), shared=0)
        _check_counts(more, dict(first))
        assert executor.map(_square_slowly, [], shared=0) == []
    assert ray.is_initialized()  # the executor joined the module's cluster: it leaves it running


def test_ray_pool_raises_the_units_error_with_its_code(ray_cluster) -> None:
    with RayExecutor(num_workers=2) as executor, pytest.raises(InvalidInputError) as error:
        executor.map(_fail_on_three, range(8))
    assert error.value.code == "bad_unit"
    assert "unit 3 is bad" in error.value.message


def test_ray_pool_larger_than_the_cluster_is_refused(ray_cluster) -> None:
    with pytest.raises(ConfigError, match="3 workers need 3 CPUs; the Ray cluster has 2"):
        RayExecutor(num_workers=3)
    with pytest.raises(ConfigError, match="positive integer"):
        RayExecutor(num_workers=0)
