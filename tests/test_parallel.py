"""parallel.py: chunks across forked workers come back in input order, and the parent's work
beside them (``map_chunks_beside``) is its own."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from mlgitops import parallel
from mlgitops.parallel import Relay, WorkerError, Worklist, map_chunks, map_chunks_beside


def pids_and_items(items: Sequence[int]) -> list[tuple[int, int]]:
    return [(os.getpid(), item) for item in items]


def test_chunks_come_back_in_input_order_from_several_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLGITOPS_JOBS", "3")
    results = map_chunks(pids_and_items, list(range(50)), min_items=10)
    assert [item for _pid, item in results] == list(range(50))
    assert len({pid for pid, _item in results}) == 3
    assert results[0][0] == os.getpid()  # the parent takes the first chunk


@pytest.mark.parametrize("batch", [1, 4, 7, 100])
def test_batched_chunks_come_back_whole_and_in_input_order(
    monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """Each worker sends its results a batch at a time and the parent takes them in between
    batches of its own: every item once, in input order, each batch from one process."""
    monkeypatch.setenv("MLGITOPS_JOBS", "3")
    calls: list[int] = []

    def work(items: Sequence[int]) -> list[tuple[int, int, int]]:
        calls.append(len(items))  # the parent's own calls only: a worker's list is its own copy
        return [(os.getpid(), len(items), item) for item in items]

    results = map_chunks(work, list(range(53)), min_items=10, batch=batch)
    assert [item for _pid, _size, item in results] == list(range(53))
    assert len({pid for pid, _size, _item in results}) == 3
    assert sum(calls) == 18 and all(size <= batch for size in calls)  # the parent's chunk, 18 of 53
    assert max(size for _pid, size, _item in results) == min(batch, 18)  # the workers': 18 and 17


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


def _first(items: Sequence[int]) -> tuple[tuple[int, list[int]], list[int]]:
    return (os.getpid(), list(items)), [item * 10 for item in items]


def _second(rest: list[int]) -> Worklist[tuple[int, int], tuple[int, int]]:
    return Worklist(len(rest), lambda number: (os.getpid(), rest[number]), _as_it_is)


def _as_it_is(draft: tuple[int, int]) -> tuple[int, int]:
    return draft


def test_a_relay_keeps_each_chunk_in_one_process_from_the_first_step_to_the_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLGITOPS_JOBS", "3")
    with Relay(_first, _second, list(range(30)), min_items=10, parent_share=0.5) as relay:
        heads = relay.start()
        rests = relay.proceed()
        seconds, aside = relay.finish(lambda: "beside")
    assert aside == "beside"
    assert [item for _pid, items in heads for item in items] == list(range(30))
    assert heads[0] == (os.getpid(), list(range(6)))  # half of a worker's 12
    assert len({pid for pid, _items in heads}) == 3
    assert [item for rest in rests for item in rest] == [item * 10 for item in range(30)]
    assert [[item for _pid, item in chunk] for chunk in seconds] == rests
    for (pid, _items), chunk in zip(heads, seconds, strict=True):
        assert chunk[0][0] == pid  # each chunk's second step starts in the process of its first
    assert multiprocessing.active_children() == []


def test_the_parent_takes_over_the_later_half_of_what_a_slow_worker_has_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parent's own chunk is quick, each worker item slow: the parent, asked nothing, takes
    over the end of the worker's items, which come back in order all the same."""
    monkeypatch.setenv("MLGITOPS_JOBS", "2")

    def second(rest: list[int]) -> Worklist[tuple[int, int], tuple[int, int]]:
        def step(number: int) -> tuple[int, int]:
            if os.getpid() != parent:
                time.sleep(0.05)
            return os.getpid(), rest[number]

        return Worklist(len(rest), step, _as_it_is)

    parent = os.getpid()
    with Relay(_first, second, list(range(40)), min_items=10, parent_share=0.25) as relay:
        relay.start()
        rests = relay.proceed()
        seconds, _ = relay.finish(lambda: None)
    worker = seconds[1]
    assert [item for _pid, item in worker] == rests[1]  # every item once, in order
    by_parent = [item for pid, item in worker if pid == parent]
    assert by_parent and worker[-len(by_parent) :] == [(parent, item) for item in by_parent]
    assert len(by_parent) <= (len(worker) + 1) // 2  # at most the later half of what was left
    assert multiprocessing.active_children() == []


def _marking(marks: Path) -> Callable[[list[int]], Worklist[int, int]]:
    """A second step whose drafts and acts each leave a line in a file of their process."""

    def mark(what: str, number: int) -> int:
        with (marks / str(os.getpid())).open("a") as file:
            file.write(f"{what} {number}\n")
        return number

    def second(rest: list[int]) -> Worklist[int, int]:
        return Worklist(len(rest), lambda number: mark("draft", rest[number]), lambda item: mark("act", item))

    return second


def _marks(marks: Path) -> dict[int, list[str]]:
    return {int(file.name): file.read_text().splitlines() for file in marks.iterdir()}


def test_without_proceeding_nothing_of_the_second_step_acts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each process drafts some of its items while it waits for the other (at most
    DRAFTS_AHEAD), none acts on any."""
    monkeypatch.setenv("MLGITOPS_JOBS", "2")
    monkeypatch.setattr(parallel, "DRAFTS_AHEAD", 3)
    marks = tmp_path / "marks"
    marks.mkdir()

    def first(items: Sequence[int]) -> tuple[tuple[int, list[int]], list[int]]:
        time.sleep(0.3 if items[0] != 0 else 0)  # the parent waits for the worker's first step
        return _first(items)

    with Relay(first, _marking(marks), list(range(20)), min_items=10) as relay:
        heads = relay.start()
        time.sleep(0.3)  # the worker waits for the parent's decision
    assert len({pid for pid, _items in heads}) == 2
    assert multiprocessing.active_children() == []
    drafted = _marks(marks)
    assert drafted == {pid: [f"draft {item * 10}" for item in items[:3]] for pid, items in heads}


def test_drafts_are_acted_on_once_the_parent_goes_on_each_item_once_in_order(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLGITOPS_JOBS", "2")
    marks = tmp_path / "marks"
    marks.mkdir()

    def first(items: Sequence[int]) -> tuple[tuple[int, list[int]], list[int]]:
        time.sleep(0.3 if items[0] != 0 else 0)
        return _first(items)

    with Relay(first, _marking(marks), list(range(20)), min_items=10) as relay:
        heads = relay.start()
        time.sleep(0.3)
        rests = relay.proceed()
        seconds, _ = relay.finish(lambda: None)
    assert seconds == rests
    for lines in _marks(marks).values():
        ahead = lines.index(next(line for line in lines if line.startswith("act")))
        items = [line.split()[1] for line in lines]
        assert ahead > 0  # each process drafted while it waited
        assert all(line.startswith("draft") for line in lines[:ahead])
        assert all(line.startswith("act") for line in lines[ahead : 2 * ahead])
        assert items[:ahead] == items[ahead : 2 * ahead]  # then acted on those, in order
        later = lines[2 * ahead :]  # then drafted and acted on each of the others in turn
        assert [line.split()[0] for line in later] == ["draft", "act"] * (len(later) // 2)
        assert items[2 * ahead :: 2] == items[2 * ahead + 1 :: 2]
    acted = [int(line.split()[1]) for lines in _marks(marks).values() for line in lines if "act" in line]
    assert sorted(acted) == [item * 10 for _pid, items in heads for item in items]


def test_the_parent_acts_on_its_own_items_while_a_workers_rest_comes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its rest is slow to send: the parent has done its own items by the time it has it, and
    the project-wide work beside comes after them."""
    monkeypatch.setenv("MLGITOPS_JOBS", "2")
    order: list[str] = []

    def first(items: Sequence[int]) -> tuple[int, list[int] | _SlowToSend]:
        return items[0], list(items) if items[0] == 0 else _SlowToSend(list(items))

    def second(rest: list[int] | _SlowToSend) -> Worklist[int, int]:
        items = rest.items if isinstance(rest, _SlowToSend) else rest

        def act(item: int) -> int:
            order.append(f"act {item}")
            return item

        return Worklist(len(items), items.__getitem__, act)

    with Relay(first, second, list(range(20)), min_items=10) as relay:
        relay.start()
        relay.proceed()
        order.append("rest received")
        relay.finish(lambda: order.append("beside"))
    own = [f"act {item}" for item in range(10)]  # the parent's half, all acted on before the rest came
    assert order[:12] == [*own, "rest received", "beside"]  # (then maybe the end of the worker's)


@pytest.mark.parametrize("step", ["first", "second"])
def test_a_failing_relay_worker_is_an_error_in_the_parent(monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    monkeypatch.setenv("MLGITOPS_JOBS", "2")

    def first(items: Sequence[int]) -> tuple[int, list[int]]:
        if step == "first" and items[0] != 0:
            raise ValueError("broken first step")
        return items[0], list(items)

    def second(rest: list[int]) -> Worklist[int, int]:
        if rest[0] != 0:
            raise ValueError("broken second step")
        return Worklist(len(rest), rest.__getitem__, _as_it_is_number)

    with (
        pytest.raises(WorkerError, match=f"broken {step} step"),
        Relay(first, second, list(range(20)), min_items=10) as relay,
    ):
        relay.start()
        relay.proceed()
        relay.finish(lambda: None)
    assert multiprocessing.active_children() == []


def test_a_relay_without_workers_runs_its_steps_in_the_same_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLGITOPS_JOBS", "1")
    order: list[str] = []

    def first(items: Sequence[int]) -> tuple[int, list[int]]:
        order.append("first")
        return len(items), list(items)

    def second(rest: list[int]) -> Worklist[int, int]:
        def step(number: int) -> int:
            order.append("second")
            return rest[number]

        return Worklist(len(rest), step, _as_it_is_number)

    with Relay(first, second, list(range(3)), min_items=1) as relay:
        assert relay.start(lambda: order.append("beside first")) == [3]
        assert relay.proceed() == [[0, 1, 2]]
        assert relay.finish(lambda: order.append("beside second"))[0] == [[0, 1, 2]]
    assert order == ["beside first", "first", "beside second", "second", "second", "second"]


def _as_it_is_number(draft: int) -> int:
    return draft


class _SlowToSend:
    """A worker's rest that takes a while to pickle."""

    def __init__(self, items: list[int]) -> None:
        self.items = items

    def __reduce__(self) -> tuple[type[_SlowToSend], tuple[list[int]]]:
        time.sleep(0.5)
        return (_SlowToSend, (self.items,))
