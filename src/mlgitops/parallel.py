"""Spread independent per-item work over the machine's cores.

Large projects (hundreds of models) are loaded and rendered in chunks by
forked child processes while the parent works on the first chunk.  The
children inherit the parent's memory, so the work (a closure over the
project) is never pickled; only results travel back, through a pipe.
Results come back in input order, so output never depends on scheduling.
Small inputs, one-core machines, platforms without ``fork`` and
``MLGITOPS_JOBS=1`` run everything in-process.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
B = TypeVar("B")

MIN_ITEMS = 200


class WorkerError(RuntimeError):
    """A child process failed; carries its traceback text."""


def jobs() -> int:
    """Processes to use: MLGITOPS_JOBS if set, else the cores this process may run on; one in a
    worker, which may not start workers of its own (multiprocessing's children are daemons)."""
    if multiprocessing.current_process().daemon:
        return 1
    configured = os.environ.get("MLGITOPS_JOBS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return available_cores()


def available_cores() -> int:
    """The cores this process may use: its CPU affinity (a container's cpuset, ``taskset``),
    not every core of the machine, which would start workers that only wait for a core."""
    process_cpu_count = getattr(os, "process_cpu_count", None)  # Python 3.13
    if process_cpu_count is not None:
        count: int | None = process_cpu_count()
        return count or 1
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def map_chunks(
    work: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    min_items: int = MIN_ITEMS,
    *,
    parent_share: float = 1.0,
    meanwhile: Callable[[], object] | None = None,
) -> list[R]:
    """``work(items)``, computed in contiguous chunks across processes.

    ``parent_share``: the parent's chunk as a multiple of a child's, above 1 when a child's
    results cost it much to pickle (the parent takes its own results as they are), below 1
    when the parent has other work: ``meanwhile``, called in the parent once the children
    have started (or first, when everything runs in-process)."""
    beside = _nothing if meanwhile is None else meanwhile
    return map_chunks_beside(work, items, beside, min_items, parent_share=parent_share)[0]


def map_chunks_beside(
    work: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    beside: Callable[[], B],
    min_items: int = MIN_ITEMS,
    *,
    parent_share: float = 1.0,
) -> tuple[list[R], B]:
    """``map_chunks``, and ``beside()``: work that does not depend on ``items``, which the
    parent does while the children work on their chunks (first, before its own chunk; below 1,
    ``parent_share`` leaves the parent room for it). Without children, ``beside()`` runs first
    too, so what it does happens in the same order either way."""
    count = jobs()
    if count < 2 or len(items) < min_items or "fork" not in multiprocessing.get_all_start_methods():
        aside = beside()
        return work(items), aside
    first = round(len(items) * parent_share / (parent_share + count - 1))
    size = -(-(len(items) - first) // (count - 1))
    chunks = [items[:first], *(items[i : i + size] for i in range(first, len(items), size))]
    context = multiprocessing.get_context("fork")
    children = []
    for chunk in chunks[1:]:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(work, chunk, sender), daemon=True)
        child.start()
        sender.close()
        children.append((child, receiver))
    try:
        aside = beside()
        results = work(chunks[0])  # the parent takes the first chunk itself
        for child, receiver in children:
            try:
                ok, payload = receiver.recv()
            except EOFError:
                raise WorkerError(f"a worker process died (exit code {child.exitcode})") from None
            if not ok:
                raise WorkerError(payload)
            results.extend(payload)
    finally:
        for child, receiver in children:
            receiver.close()
            child.join(timeout=5)
            if child.is_alive():
                child.kill()
                child.join()  # gone before the caller cleans up what it may have been writing
    return results, aside


def _nothing() -> None:
    return None


def _child(work: Callable[[Sequence[T]], list[R]], chunk: Sequence[T], sender: Connection) -> None:
    try:
        try:
            sender.send((True, work(chunk)))
        except BaseException:
            sender.send((False, traceback.format_exc()))
        finally:
            sender.close()
    except BrokenPipeError:
        pass  # the parent is gone (killed): nothing left to report to
