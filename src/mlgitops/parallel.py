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

import contextlib
import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

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
    batch: int = 0,
) -> list[R]:
    """``work(items)``, computed in contiguous chunks across processes.

    ``parent_share``: the parent's chunk as a multiple of a child's, above 1 when a child's
    results cost it much to pickle (the parent takes its own results as they are), below 1
    when the parent has other work: ``meanwhile``, called in the parent once the children
    have started (or first, when everything runs in-process). ``batch``: each child sends its
    results ``batch`` items at a time, and the parent, which works through its own chunk as
    many at a time, takes in between what has come: taking in a child's results (unpickling
    them) then overlaps with the work, and what is left for the end is one batch's."""
    beside = _nothing if meanwhile is None else meanwhile
    return map_chunks_beside(work, items, beside, min_items, parent_share=parent_share, batch=batch)[0]


def map_chunks_beside(
    work: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    beside: Callable[[], B],
    min_items: int = MIN_ITEMS,
    *,
    parent_share: float = 1.0,
    batch: int = 0,
) -> tuple[list[R], B]:
    """``map_chunks``, and ``beside()``: work that does not depend on ``items``, which the
    parent does while the children work on their chunks (first, before its own chunk; below 1,
    ``parent_share`` leaves the parent room for it). Without children, ``beside()`` runs first
    too, so what it does happens in the same order either way."""
    chunks = _chunks(items, min_items, parent_share)
    if len(chunks) == 1:
        aside = beside()
        return work(items), aside
    context = multiprocessing.get_context("fork")
    children = []
    step = batch or max(map(len, chunks))
    for chunk in chunks[1:]:
        receiver, sender = context.Pipe(duplex=False)
        if batch:
            _widen(sender)
        child = context.Process(target=_child, args=(work, chunk, step, sender), daemon=True)
        child.start()
        sender.close()
        children.append((child, receiver))
    # What each child has sent so far, and how many messages it sends in all.
    received: list[list[R]] = [[] for _ in children]
    expected = [-(-len(chunk) // step) for chunk in chunks[1:]]
    messages = [0 for _ in children]

    def take(number: int) -> None:
        received[number].extend(_received(*children[number]))
        messages[number] += 1

    try:
        aside = beside()
        results: list[R] = []
        for start in range(0, len(chunks[0]), step):  # the parent takes the first chunk itself
            results += work(chunks[0][start : start + step])
            for number, (_process, receiver) in enumerate(children):
                while messages[number] < expected[number] and receiver.poll():
                    take(number)
        for number in range(len(children)):
            while messages[number] < expected[number]:
                take(number)
            results.extend(received[number])
    finally:
        _end(children)
    return results, aside


def _chunks(items: Sequence[T], min_items: int, parent_share: float) -> list[Sequence[T]]:
    """``items`` in contiguous chunks, the parent's first (``parent_share`` of a child's), one a
    process; just one, all of them, where everything runs in-process."""
    count = jobs()
    if count < 2 or len(items) < min_items or "fork" not in multiprocessing.get_all_start_methods():
        return [items]
    first = round(len(items) * parent_share / (parent_share + count - 1))
    size = -(-(len(items) - first) // (count - 1))
    return [items[:first], *(items[i : i + size] for i in range(first, len(items), size))]


def _end(children: Sequence[tuple[multiprocessing.process.BaseProcess, Connection]]) -> None:
    """Close the connections to ``children`` (one still waiting for the parent then stops) and
    see each gone, killed if need be, before the caller cleans up what it may have been writing."""
    for child, connection in children:
        connection.close()
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
            child.join()


def _nothing() -> None:
    return None


# A pipe's buffer for batched results (Linux's largest by default): a child writes several
# batches without waiting for the parent, which takes them in only between batches of its own.
PIPE_BYTES = 1 << 20


def _widen(sender: Connection) -> None:
    try:
        import fcntl

        fcntl.fcntl(sender.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, or a lower limit: the child waits for the parent now and then


def _child(work: Callable[[Sequence[T]], list[R]], chunk: Sequence[T], step: int, sender: Connection) -> None:
    try:
        try:
            for start in range(0, len(chunk), step):
                sender.send((True, work(chunk[start : start + step])))
        except BaseException:
            sender.send((False, traceback.format_exc()))
        finally:
            sender.close()
    except BrokenPipeError:
        pass  # the parent is gone (killed): nothing left to report to


H = TypeVar("H")  # what a relay's first step tells the parent first (it decides from it)
K = TypeVar("K")  # the rest of the first step's result
S = TypeVar("S")  # the second step's result for one item
D = TypeVar("D")  # an item of the second step done but not yet acted on (a draft)

# The items of its second step a process drafts at most while it waits (each is held until the
# parent's go: with a compile, a model's files in memory; about a tenth of a second of work).
DRAFTS_AHEAD = 40


@dataclass(frozen=True)
class Worklist(Generic[D, S]):
    """A chunk's second step: ``count`` items, the i-th done by ``act(draft(i))``. ``draft``
    changes nothing outside the process (a compile renders a model's files in memory), so a
    process may draft items while it waits for the parent's go; ``act`` (which stages the
    files) only ever runs after it."""

    count: int
    draft: Callable[[int], D]
    act: Callable[[D], S]

    def step(self, number: int) -> S:
        return self.act(self.draft(number))


class Relay(Generic[T, H, K, S]):
    """Two steps over the chunks of ``items``, each chunk in one process from the first step to
    the second, so that the second starts without a fork of its own and without waiting for
    the results of the first to travel (a compile: resolve and build a slice of the models,
    then render it, in the same worker).

    ``first(chunk)`` gives a pair: what the parent needs to decide whether to go on (small: sent
    first) and the rest, which stays with the chunk's process for the second step and goes to
    the parent once it decided to go on (:meth:`proceed`). ``second(rest)`` gives the second step
    item by item (:class:`Worklist`). Nothing of it acts unless the parent says so: while a
    process waits (a worker for the decision, the parent for the workers' first steps and then
    their rests), it drafts items of its own second step, up to :data:`DRAFTS_AHEAD`, and once
    the parent went on, the parent acts on its own items while it waits for the rests.

    The second step balances itself: the parent, done with its own chunk, asks each worker in
    turn for a share of what it has not started, and the worker hands over the later half (it
    looks between items); the parent does those items itself, with ``second`` over the worker's
    rest, which it has received. A fixed split of the chunks cannot do this: how fast each process
    goes varies from run to run. Used as a context manager: leaving it ends the workers,
    wherever they are. Without workers (small inputs, one core, no ``fork``), everything runs in
    the parent, in the same order."""

    def __init__(
        self,
        first: Callable[[Sequence[T]], tuple[H, K]],
        second: Callable[[K], Worklist[Any, S]],
        items: Sequence[T],
        min_items: int = MIN_ITEMS,
        *,
        parent_share: float = 1.0,
    ) -> None:
        self._first: Callable[[Sequence[T]], tuple[H, K]] | None = first
        self._second = second
        own, *workers = _chunks(items, min_items, parent_share)
        self._own: Sequence[T] = own
        self._children: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
        if workers:
            context = multiprocessing.get_context("fork")
            for chunk in workers:
                ours, theirs = context.Pipe(duplex=True)
                # The child closes its copies of the parent's ends (this one's and the earlier
                # children's), or no child would see the parent close its end and stop.
                others = [connection for _child, connection in self._children] + [ours]
                child = context.Process(
                    target=_relay_child, args=(first, second, chunk, theirs, others), daemon=True
                )
                child.start()
                theirs.close()
                self._children.append((child, ours))
        self._rest: K | None = None
        self._rests: list[K] = []  # the workers' (for the items the parent takes over)
        self._work: Worklist[Any, S] | None = None  # the parent's own second step
        self._drafts: list[Any] = []  # its first items, drafted while it waited
        self._done: list[S] = []  # its first items, acted on
        self.proceeded = False

    def __enter__(self) -> Relay[T, H, K, S]:
        return self

    def __exit__(self, *exc: object) -> None:
        _end(self._children)  # a worker still waiting for the decision ends

    def start(self, beside: Callable[[], object] | None = None) -> list[H]:
        """The first step's decisive part of each chunk, in order (``beside()`` done first, in
        the parent, while the workers work)."""
        if beside is not None:
            beside()
        assert self._first is not None, "a relay starts once"
        head, self._rest = self._first(self._own)
        self._first, self._own = None, ()  # nor does the parent keep what it was given (a compile's specs)
        heads = [head]
        if self._children:
            work = self._work = self._second(self._rest)
            for child, connection in self._children:
                _draft_until(work, self._drafts, connection)
                heads.append(_received(child, connection))
        return heads

    def proceed(self) -> list[K]:
        """Let the workers go on to the second step; the rest of each chunk's first step."""
        self.proceeded = True
        for _child, connection in self._children:
            with contextlib.suppress(BrokenPipeError):  # one that died: reported just below
                connection.send(True)
        assert self._rest is not None
        for child, connection in self._children:
            self._act_own(connection)
            self._rests.append(_received(child, connection))
        return [self._rest, *self._rests]

    def finish(self, beside: Callable[[], B]) -> tuple[list[list[S]], B]:
        """Each chunk's second step (a result per item), in order, and ``beside()``, done in the
        parent first (after what the parent did of its own while it waited)."""
        assert self.proceeded and self._rest is not None
        aside = beside()
        if self._work is None:  # no workers: nothing was done while waiting
            self._work = self._second(self._rest)
        self._act_own()
        results = [self._done]
        for (child, connection), rest in zip(self._children, self._rests, strict=True):
            with contextlib.suppress(BrokenPipeError):  # one that died or finished: see below
                connection.send(True)  # a share of what is left, please
            kind, payload = _received(child, connection)
            if kind == "split":  # the items from ``payload`` on are the parent's
                theirs = self._second(rest)
                taken = [theirs.step(number) for number in range(payload, theirs.count)]
                kind, payload = _received(child, connection)
                payload += taken
            results.append(payload)
        return results, aside

    def _act_own(self, until: Connection | None = None) -> None:
        """Act on the parent's own items, drafted or not: all of them, or until ``until`` has
        something to say."""
        work = self._work
        assert work is not None
        while len(self._done) < work.count and (until is None or not until.poll()):
            number = len(self._done)
            self._done.append(
                work.act(self._drafts[number]) if number < len(self._drafts) else work.step(number)
            )


def _received(child: multiprocessing.process.BaseProcess, connection: Connection) -> Any:
    try:
        ok, payload = connection.recv()
    except EOFError:
        raise WorkerError(f"a worker process died (exit code {child.exitcode})") from None
    if not ok:
        raise WorkerError(payload)
    return payload


def _relay_child(
    first: Callable[[Sequence[T]], tuple[H, K]],
    second: Callable[[K], Worklist[Any, S]],
    chunk: Sequence[T],
    connection: Connection,
    parents: list[Connection],
) -> None:
    for parent in parents:
        parent.close()
    try:
        try:
            head, rest = first(chunk)
            connection.send((True, head))
            work = second(rest)
            drafts: list[Any] = []
            _draft_until(work, drafts, connection)
            if connection.recv():
                connection.send((True, rest))
                connection.send((True, ("done", _second_step(work, drafts, connection))))
        except EOFError:
            pass  # the parent decided against the second step
        except BaseException:
            connection.send((False, traceback.format_exc()))
        finally:
            connection.close()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone (killed) or stopped listening: nothing left to report to


def _draft_until(work: Worklist[D, S], drafts: list[D], connection: Connection) -> None:
    """Draft the next items of ``work`` (up to :data:`DRAFTS_AHEAD` in all) until ``connection``
    has something to say (the parent's go, or a worker's message to the parent)."""
    while len(drafts) < min(work.count, DRAFTS_AHEAD) and not connection.poll():
        drafts.append(work.draft(len(drafts)))


def _second_step(work: Worklist[D, S], drafts: list[D], connection: Connection) -> list[S]:
    """A worker's second step, item by item, its ``drafts`` first; asked for a share (between
    items), it keeps the first half of what is left and tells the parent where the other half
    starts."""
    results = [work.act(draft) for draft in drafts]
    end = work.count
    while len(results) < end:
        if end == work.count and connection.poll():
            connection.recv()
            end = len(results) + (end - len(results) + 1) // 2
            connection.send((True, ("split", end)))
        results.append(work.step(len(results)))
    return results
