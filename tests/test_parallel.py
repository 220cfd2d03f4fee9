"""parallel.py: chunks across forked workers come back in input order, and the parent's work
beside them (``map_chunks_beside``) is its own."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence

import pytest

from mlgitops.parallel import WorkerError, map_chunks, map_chunks_beside


def pids_and_items(items: Sequence[int]) -> list[tuple[int, int]]:
    return [(os.getpid(), item) for item in items]


def test_chunks_come_back_in_input_order_from_several_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLGITOPS_JOBS", "3")
    results = map_chunks(pids_and_items, list(range(50)), min_items=10)
    assert [item for _pid, item in results] == list(range(50))
    assert len({pid for pid, _item in results}) == 3
    assert results[0][0] == os.getpid()  # the parent takes the first chunk


def test_the_parent_does_the_work_beside_while_workers_take_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLGITOPS_JOBS", "2")
    results, aside = map_chunks_beside(
        pids_and_items, list(range(70)), os.getpid, min_items=10, parent_share=0.4
    )
    assert aside == os.getpid()
    assert [item for _pid, item in results] == list(range(70))
    parent_items = [item for pid, item in results if pid == os.getpid()]
    assert parent_items == list(range(20))  # 0.4 of a worker's 50


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_work_beside_runs_before_the_parents_chunk(monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    monkeypatch.setenv("MLGITOPS_JOBS", jobs)
    order: list[str] = []

    def work(items: Sequence[int]) -> list[int]:
        order.append("chunk")
        return list(items)

    results, _ = map_chunks_beside(work, list(range(20)), lambda: order.append("beside"), min_items=10)
    assert results == list(range(20))
    assert order == ["beside", "chunk"]


def test_a_failing_worker_is_an_error_in_the_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLGITOPS_JOBS", "2")

    def work(items: Sequence[int]) -> list[int]:
        if items[0] != 0:
            raise ValueError("broken chunk")
        return list(items)

    with pytest.raises(WorkerError, match="broken chunk"):
        map_chunks(work, list(range(20)), min_items=10)


def test_a_failure_beside_stops_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLGITOPS_JOBS", "2")

    def beside() -> None:
        raise ValueError("beside failed")

    with pytest.raises(ValueError, match="beside failed"):
        map_chunks_beside(pids_and_items, list(range(20)), beside, min_items=10)
    assert multiprocessing.active_children() == []
