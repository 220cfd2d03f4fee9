"""Moving the new files of a transaction's commit phase into place, several at a time.

The files were created in the staging area while rendering; moving one into a directory
still costs the kernel a directory update, and those system calls run side by side in
threads, one directory per task.
Whatever stops the commit (an error in a writer, Ctrl-C) first stops every writer and
waits for the ones mid-file; only then does the error (or KeyboardInterrupt) reach the
caller, whose rollback therefore never runs beside a writer.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import signal
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from types import FrameType

from mlgitops.emit.safefs import ProjectTree

WRITER_THREADS = 4
PARALLEL_WRITES_FROM = 64  # fewer new files than this are moved by the calling thread alone


class Progress:
    """Counts files as they are put in place; thread-safe.

    ``crash_after`` is a test hook: the process dies (as a SIGKILL would) once that many
    files are in place; with several writers, others may be mid-file or one file further.
    """

    def __init__(self, crash_after: int = -1) -> None:
        self._crash_after = crash_after
        self._count = 0
        self._lock = threading.Lock()

    def placed(self) -> None:
        if self._crash_after < 0:
            return
        with self._lock:
            self._count += 1
            if self._count == self._crash_after:
                os._exit(137)


def move_new_files(
    tree: ProjectTree, relatives: list[str], staged: Mapping[str, str], progress: Progress
) -> None:
    """Move each of ``relatives`` (none exists yet) into place from ``staged[relative]``."""
    by_directory: dict[str, list[str]] = {}
    for relative in relatives:
        by_directory.setdefault(posixpath.dirname(relative), []).append(relative)
    stop = threading.Event()

    def write_directory(directory: str) -> None:
        if stop.is_set():
            return
        tree.make_directories(directory)
        for relative in by_directory[directory]:
            if stop.is_set():
                return
            tree.rename(staged[relative], relative)
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
