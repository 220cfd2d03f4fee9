"""Moving the new files of a transaction's commit phase into place.

The files were created in the staging area while rendering, at their output paths (the
staging area mirrors the output tree).  A directory of new files that does not exist in
the project yet — all of ``deploy/`` in a first compile, a new model's directory later —
is moved into place whole, in ONE rename of its highest missing directory; the rename
never replaces anything (:mod:`mlgitops.emit.noreplace`): if a directory appeared there
since the plan, even an empty one, the files go in one by one instead.  Files whose
directory exists are moved one by one, each with a rename that never replaces a file
(the planner found none there: one that appeared since is not ours to overwrite, and is
recorded in ``appeared`` so that the rollback leaves it alone).  Moving a file into a
directory still costs the kernel a directory update, and those system calls run side by
side in threads, one directory per task.
Whatever stops the commit (an error in a writer, Ctrl-C) first stops every writer and
waits for the ones mid-file; only then does the error (or KeyboardInterrupt) reach the
caller, whose rollback therefore never runs beside a writer.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from types import FrameType

from mlgitops.emit.safefs import ProjectTree

WRITER_THREADS = 4
PARALLEL_WRITES_FROM = 64  # fewer single files than this are moved by the calling thread alone


class Progress:
    """Counts files as they are put in place; thread-safe.

    ``crash_after`` is a test hook: the process dies (as a SIGKILL would) once that many
    files are in place; with several writers, others may be mid-file or one file further.
    A directory moved in whole puts all its files in place at once and counts as that
    many: the process dies right after the rename that reaches the count.
    """

    def __init__(self, crash_after: int = -1) -> None:
        self._crash_after = crash_after
        self._count = 0
        self._lock = threading.Lock()

    def placed(self, files: int = 1) -> None:
        if self._crash_after < 0:
            return
        with self._lock:
            before, self._count = self._count, self._count + files
            if before < self._crash_after <= self._count:
                os._exit(137)


def move_new_files(
    tree: ProjectTree,
    relatives: list[str],
    staged: Mapping[str, str],
    progress: Progress,
    appeared: set[str],
) -> None:
    """Move each of ``relatives`` (nothing was there at planning, and nothing backed up) into
    place from ``staged[relative]``: whole new directories first, then single files.  A
    path where a file turned up meanwhile is added to ``appeared`` (FileExistsError)."""
    whole, singles = new_directories(tree, relatives)
    for directory, files in sorted(whole.items()):  # sorted: the crash hook counts the same each run
        try:
            tree.rename_new(staged_directory(directory, files[0], staged[files[0]]), directory, whole=True)
        except OSError:  # appeared meanwhile, a file on the way, …: one by one, whose errors say why
            singles.extend(files)
            continue
        progress.placed(len(files))
    _move_single_files(tree, singles, staged, progress, appeared)


def new_directories(tree: ProjectTree, relatives: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """``relatives`` by the highest directory above each that the tree lacks, and those whose
    every directory exists.  Paths above the project (``../``…) are looked at from the
    repository root down, never at ``..`` itself."""
    exists: dict[str, bool] = {}
    covering: dict[str, str | None] = {}  # a file's directory → its highest missing one
    whole: dict[str, list[str]] = {}
    singles: list[str] = []
    for relative in relatives:
        directory = relative.rpartition("/")[0]  # posixpath.dirname of a normal path, at a third of the cost
        if directory not in covering:
            covering[directory] = highest_missing(tree, directory, exists)
        missing = covering[directory]
        if missing is None:
            singles.append(relative)
        else:
            whole.setdefault(missing, []).append(relative)
    return whole, singles


def highest_missing(tree: ProjectTree, directory: str, exists: dict[str, bool]) -> str | None:
    """The highest directory of ``directory`` (itself included) that the tree lacks, or None;
    ``exists`` remembers what was looked at."""
    parts = directory.split("/") if directory else []
    start = 0
    while start < len(parts) and parts[start] == "..":
        start += 1
    prefix = "/".join(parts[:start])
    for part in parts[start:]:
        prefix = f"{prefix}/{part}" if prefix else part
        known = exists.get(prefix)
        if known is None:  # a link or a file there "exists": the single moves refuse it as before
            known = exists[prefix] = tree.lstat(prefix) is not None
        if not known:
            return prefix
    return None


def staged_directory(directory: str, relative: str, staged: str) -> str:
    """Where the staged copy of ``directory`` is, from one of its files' path and staged path
    (both end in the same path below the directory)."""
    below = relative[len(directory) :]
    if not (relative.startswith(directory + "/") and staged.endswith(below)):
        raise ValueError(f"{staged} is not the staged copy of {relative}")
    return staged[: len(staged) - len(below)]


def _move_single_files(
    tree: ProjectTree, relatives: list[str], staged: Mapping[str, str], progress: Progress, appeared: set[str]
) -> None:
    by_directory: dict[str, list[str]] = {}
    for relative in relatives:
        by_directory.setdefault(relative.rpartition("/")[0], []).append(relative)
    stop = threading.Event()

    def write_directory(directory: str) -> None:
        if stop.is_set():
            return
        tree.make_directories(directory)
        for relative in by_directory[directory]:
            if stop.is_set():
                return
            try:
                tree.rename_new(staged[relative], relative)
            except FileExistsError:
                appeared.add(relative)  # set.add is atomic: the writers share the set
                raise FileExistsError(
                    errno.EEXIST, "a file appeared there while mlgitops was compiling", relative
                ) from None
            progress.placed()

    if len(relatives) < PARALLEL_WRITES_FROM:
        for directory in by_directory:
            write_directory(directory)
        return
    futures: list[Future[None]] = []
    with _interrupts_deferred(stop):
        pool = ThreadPoolExecutor(WRITER_THREADS, thread_name_prefix="mlgitops-write")
        try:
            futures = [pool.submit(write_directory, directory) for directory in by_directory]
            wait(futures, return_when=FIRST_EXCEPTION)
            if any(_failed(f) for f in futures):
                stop.set()
        except BaseException:
            stop.set()
            raise
        finally:
            # Whatever happened, nothing is still writing once this returns.
            pool.shutdown(wait=True, cancel_futures=stop.is_set())
    for future in futures:  # the first error, in submission order
        if _failed(future):
            future.result()


def _failed(future: Future[None]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is not None


@contextlib.contextmanager
def _interrupts_deferred(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C while writers run stops them, and KeyboardInterrupt is raised once they have.

    The default handler would raise it at once in the main thread, possibly inside the
    clean-up, and the caller's rollback could then run beside writers still busy. Outside the
    main thread (where Python never handles signals) there is nothing to defer.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    interrupted: list[int] = []

    def defer(signum: int, frame: FrameType | None) -> None:
        interrupted.append(signum)
        stop.set()

    previous = signal.signal(signal.SIGINT, defer)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        raise KeyboardInterrupt
