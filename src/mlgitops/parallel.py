"""Spread independent per-item work over the machine's cores.

Large projects (hundreds of models) are loaded and rendered in chunks by
forked worker processes while the parent process works on the first chunk.
Results come back in input order, so output never depends on scheduling.
Small inputs, machines with one core, platforms without ``fork`` and
``MLGITOPS_JOBS=1`` run everything in-process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 200


def jobs() -> int:
    """Processes to use: MLGITOPS_JOBS if set, else the CPU count (at most 8)."""
    configured = os.environ.get("MLGITOPS_JOBS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return min(os.cpu_count() or 1, 8)


def map_chunks(
    work: Callable[[Sequence[T]], list[R]], items: Sequence[T], min_items: int = MIN_ITEMS
) -> list[R]:
    """``work(items)``, computed in contiguous chunks across processes; ``work`` must be module-level."""
    count = jobs()
    if count < 2 or len(items) < min_items or "fork" not in multiprocessing.get_all_start_methods():
        return work(items)
    size = -(-len(items) // count)
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    with ProcessPoolExecutor(
        max_workers=len(chunks) - 1, mp_context=multiprocessing.get_context("fork")
    ) as pool:
        futures = [pool.submit(work, chunk) for chunk in chunks[1:]]
        results = work(chunks[0])  # the parent takes the first chunk itself
        for future in futures:
            results.extend(future.result())
    return results
