"""Creating the new files of a transaction's commit phase, several at a time.

Creating a file costs the kernel far more than writing its bytes (ext4 allocates an
inode), and those system calls run side by side in threads, one directory per task.
Whatever stops the commit (an error in a writer, Ctrl-C in the main thread) first stops
every writer and waits for the ones mid-file: only then may the caller roll back, so no
file appears after the rollback.
"""

from __future__ import annotations

import os
import posixpath
import threading
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path

WRITER_THREADS = 4
PARALLEL_WRITES_FROM = 64  # fewer new files than this are written by the calling thread alone


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


def write_new_files(root: Path, relatives: list[str], data: dict[str, bytes], progress: Progress) -> None:
    """Write ``data[relative]`` to ``root / relative`` for each of ``relatives`` (none exists yet)."""
    by_directory: dict[str, list[str]] = {}
    for relative in relatives:
        by_directory.setdefault(posixpath.dirname(relative), []).append(relative)
    stop = threading.Event()

    def write_directory(directory: str) -> None:
        if stop.is_set():
            return
        (root / directory).mkdir(parents=True, exist_ok=True)
        for relative in by_directory[directory]:
            if stop.is_set():
                return
            (root / relative).write_bytes(data[relative])
            progress.placed()

    if len(relatives) < PARALLEL_WRITES_FROM:
        for directory in by_directory:
            write_directory(directory)
        return
    pool = ThreadPoolExecutor(WRITER_THREADS, thread_name_prefix="mlgitops-write")
    try:
        futures = [pool.submit(write_directory, directory) for directory in by_directory]
        wait(futures, return_when=FIRST_EXCEPTION)
        _raise_first_error(futures)
    except BaseException:
        stop.set()
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def _raise_first_error(futures: list[Future[None]]) -> None:
    for future in futures:
        if future.done() and future.exception() is not None:
            future.result()


def _stop(pool: ThreadPoolExecutor) -> None:
    """Cancel the tasks not started and wait for the running ones, even through another Ctrl-C."""
    while True:
        try:
            pool.shutdown(wait=True, cancel_futures=True)
            return
        except KeyboardInterrupt:
            continue
