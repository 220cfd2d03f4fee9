"""Apply a plan so that a failed or killed compile never leaves a half-written tree.

1. Files about to be replaced or pruned are hard-linked (copied where links
   are impossible) into ``.mlgitops/txn/old/``, and the new content of each
   replaced file is staged in ``.mlgitops/txn/new/``; nothing in the project
   has changed yet, so a crash here changes nothing.
2. ``.mlgitops/txn/journal.json`` is written atomically: from now on the
   transaction can be undone.
3. Files that did not exist are written (by a few threads, one directory
   each), replaced files are moved into place with ``os.replace`` (atomic
   per file), pruned files are removed; the manifest goes last.
4. The journal is deleted: this is the commit point.

If the process dies in step 3, the next mlgitops command finds the journal
and restores the previous tree from the backups before doing anything else
(:func:`recover`).  A lock file keeps two compiles from running at once.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from mlgitops.emit.manifest import MANIFEST_DIR
from mlgitops.emit.plan import Plan
from mlgitops.emit.writer import Progress, write_new_files
from mlgitops.errors import UserError

TXN_DIR = f"{MANIFEST_DIR}/txn"
JOURNAL = "journal.json"
# Test hook: stop the process (as a kill would) once this many files are in place.
_CRASH_AFTER_ENV = "MLGITOPS_TEST_CRASH_AFTER_MOVES"


@contextlib.contextmanager
def project_lock(root: Path) -> Iterator[None]:
    """Exclusive lock on the project's .mlgitops directory for the duration of a compile.

    A POSIX record lock (``lockf``), not ``flock``: it belongs to this process only, so
    forked worker processes do not hold it, and it is released when this process dies,
    even if a worker outlives it.
    """
    directory = root / MANIFEST_DIR
    directory.mkdir(exist_ok=True)
    with (directory / "lock").open("a") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            raise UserError("another mlgitops compile is running in this project") from None
        try:
            yield
        finally:
            fcntl.lockf(handle, fcntl.LOCK_UN)


def apply(plan: Plan) -> None:
    if not plan.changed:
        return  # nothing to write or prune: no transaction at all
    root = plan.root
    txn = root / TXN_DIR
    shutil.rmtree(txn, ignore_errors=True)
    new, old = txn / "new", txn / "old"
    new.mkdir(parents=True)
    old.mkdir()
    writes = sorted(plan.writes, key=lambda p: (p.startswith(MANIFEST_DIR + "/"), p))  # manifest last
    # Files that exist are replaced atomically from a staged copy, and backed up first.
    # Staged files and backups are kept flat, numbered by position in the journal:
    # mirroring the output tree would cost a directory creation per output directory.
    existed: list[str] = []
    for index, relative in enumerate([*writes, *plan.deletes]):
        current = root / relative
        if current.is_file():
            existed.append(relative)
            _link_or_copy(current, old / str(index))
            if index < len(writes):
                (new / str(index)).write_bytes(plan.writes[relative])
    journal = {"writes": writes, "deletes": list(plan.deletes), "existed": sorted(existed)}
    _atomic_write(txn / JOURNAL, json.dumps(journal, indent=1).encode())
    # From here the journal can undo everything: replaced files come back from their
    # backups, and files that did not exist (written directly, maybe half) are removed.
    crash_after = int(os.environ.get(_CRASH_AFTER_ENV, "-1"))
    replaced = set(existed)
    progress = Progress(crash_after)
    try:
        last = [relative for relative in writes if relative.startswith(MANIFEST_DIR + "/")]
        fresh = [relative for relative in writes if relative not in replaced and relative not in last]
        write_new_files(root, fresh, plan.writes, progress)
        for index, relative in enumerate(writes):
            if relative in replaced:
                (new / str(index)).replace(root / relative)
                progress.placed()
            elif relative in last:
                (root / relative).parent.mkdir(parents=True, exist_ok=True)
                (root / relative).write_bytes(plan.writes[relative])
                progress.placed()
        for relative in plan.deletes:
            (root / relative).unlink(missing_ok=True)
            _remove_empty_parents(root, relative)
    except BaseException:
        recover(root)  # an error (disk full, Ctrl-C) mid-commit: put the previous tree back at once
        raise
    (txn / JOURNAL).unlink()
    shutil.rmtree(txn, ignore_errors=True)


def recover(root: Path) -> bool:
    """Undo an interrupted apply, if any. Returns True when something was rolled back."""
    txn = root / TXN_DIR
    journal_path = txn / JOURNAL
    if not journal_path.is_file():
        if txn.exists():
            shutil.rmtree(txn, ignore_errors=True)  # died before the journal: nothing was applied
        return False
    journal = json.loads(journal_path.read_bytes())
    existed = set(journal["existed"])
    for index, relative in enumerate([*journal["writes"], *journal["deletes"]]):
        target = root / relative
        backup = txn / "old" / str(index)
        if relative in existed:
            target.parent.mkdir(parents=True, exist_ok=True)
            backup.replace(target)
        else:
            # A parent that is not a directory (a file put where one was expected) means the
            # file was never written: nothing to undo.
            with contextlib.suppress(NotADirectoryError):
                target.unlink(missing_ok=True)
            _remove_empty_parents(root, relative)
    journal_path.unlink()
    shutil.rmtree(txn, ignore_errors=True)
    return True


def _link_or_copy(source: Path, destination: Path) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def _remove_empty_parents(root: Path, relative: str) -> None:
    """Remove directories left empty by pruning, up to (not including) the project root."""
    parent = (root / relative).parent
    while parent != root and parent.is_relative_to(root):
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent
