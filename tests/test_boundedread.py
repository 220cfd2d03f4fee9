"""The one reader of repository content: regular files only, never more than the limit."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from mlgitops.boundedread import NotRegularFile, TooLarge, Unreadable, read_bounded


def test_a_file_of_the_limit_is_read_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_bounded(path, 100) == b"x" * 100
    with pytest.raises(TooLarge) as refused:
        read_bounded(path, 99)
    assert (refused.value.size, refused.value.reason) == (100, "is 100 bytes; the limit is 99")


def test_a_sparse_file_is_refused_by_its_size_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge"
    with path.open("wb") as handle:
        handle.truncate(1 << 36)  # 64 GiB: only a size check gets through this in time
    with pytest.raises(TooLarge):
        read_bounded(path, 1 << 20)


@pytest.mark.parametrize(("path", "kind"), [("/dev/zero", "character device"), ("/", "directory")])
def test_what_is_not_a_regular_file_is_refused(path: str, kind: str) -> None:
    with pytest.raises(NotRegularFile) as refused:
        read_bounded(Path(path), 1 << 20)
    assert refused.value.reason == f"is a {kind}, not a regular file"


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            read_bounded(fifo, 10)
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # unblock the thread so the test run can end, then fail
        with fifo.open("wb"):
            pass
        pytest.fail("reading a FIFO blocked")
    assert len(outcome) == 1 and isinstance(outcome[0], NotRegularFile)
    assert outcome[0].kind == "FIFO"


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        with pytest.raises(NotRegularFile) as refused:
            read_bounded(path, 10)
    assert refused.value.kind == "socket"


def test_a_symbolic_link_is_refused_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "target").write_bytes(b"text")
    (tmp_path / "link").symlink_to("target")
    assert read_bounded(tmp_path / "link", 10) == b"text"
    with pytest.raises(NotRegularFile) as refused:
        read_bounded(tmp_path / "link", 10, follow_symlinks=False)
    assert refused.value.kind == "symbolic link"


def test_a_missing_file_is_unreadable_with_its_os_error(tmp_path: Path) -> None:
    with pytest.raises(Unreadable) as refused:
        read_bounded(tmp_path / "missing", 10)
    assert isinstance(refused.value.error, FileNotFoundError)
    assert refused.value.reason == "cannot be read: No such file or directory"
