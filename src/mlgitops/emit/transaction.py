"""Apply a plan so that a failed or killed compile never leaves a half-written tree.

1. The new content of every file to write was staged in ``.mlgitops/txn/new/``
   while rendering (:mod:`mlgitops.emit.staging`); files about to be replaced
   or pruned are hard-linked (copied where links are impossible) into
   ``.mlgitops/txn/old/``; nothing in the project has changed yet, so a crash
   here changes nothing.
2. ``.mlgitops/txn/journal.json`` is written atomically: from now on the
   transaction can be undone.
3. Staged files are moved into place (:mod:`mlgitops.emit.writer`): a new
   directory whole, with one rename that never replaces anything; other new files
   one by one (by a few threads, one directory each), with a rename that never
   replaces a file; files that existed with ``renameat`` over them (atomic per
   file).  Pruned files are removed; the manifest goes last.
4. The journal is deleted: this is the commit point.

If the process dies in step 3, the next compile finds the journal and restores the
previous tree from the backups before doing anything else (:func:`recover`).
Recovery is idempotent — a backup already moved back is not looked for again — so a
kill during recovery is recovered by the next run.  The journal is input like any
other file in the repository: one that git tracks, that is malformed, or that names a
path outside the territory (:mod:`mlgitops.emit.territory`) is refused and nothing is
touched.  Every operation goes through :class:`~mlgitops.emit.safefs.ProjectTree`,
which never follows a symbolic link.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mlgitops.diagnostics import Location, make
from mlgitops.emit import state
from mlgitops.emit.manifest import MANIFEST_PATH
from mlgitops.emit.paths import PathGuard
from mlgitops.emit.safefs import ProjectTree
from mlgitops.emit.state import StateError
from mlgitops.emit.territory import MAX_OUTPUT_BYTES, Territory
from mlgitops.emit.writer import Progress, move_new_files

if TYPE_CHECKING:  # the plan module loads the renderers, which a compile with nothing to do skips
    from mlgitops.discover import ProjectFiles
    from mlgitops.emit.plan import Plan
    from mlgitops.inputs import CompileInputs

TXN_DIR, JOURNAL_PATH = state.TXN_DIR, state.JOURNAL_PATH
JOURNAL = JOURNAL_PATH.rpartition("/")[2]
MAX_JOURNAL_BYTES = 64 << 20
# Test hook: stop the process (as a kill would) once this many files are in place.
_CRASH_AFTER_ENV = "MLGITOPS_TEST_CRASH_AFTER_MOVES"
# Test hook: stop the process once recovery has restored this many files.
_CRASH_IN_RECOVERY_ENV = "MLGITOPS_TEST_CRASH_AFTER_RESTORES"


def apply(plan: Plan, tree: ProjectTree) -> None:
    """Put the plan's staged files in place and prune, all or nothing (the staging area was
    filled while rendering: :mod:`mlgitops.emit.staging`)."""
    if not plan.changed:
        return  # nothing to write or prune: no transaction at all
    writes = sorted(plan.writes)
    if plan.manifest_bytes is not None:
        writes.append(MANIFEST_PATH)  # the manifest last
    # Files that exist are backed up first. Backups are kept flat, numbered by position in the
    # journal: mirroring the output tree would cost a directory creation per output directory.
    # Where the planner found no file, none is looked for: the move there never replaces one.
    existed: list[str] = []
    tree.make_directories(f"{TXN_DIR}/old")
    for index, relative in enumerate([*writes, *plan.deletes]):
        if relative in plan.created:
            continue
        info = tree.lstat(relative)
        if info is not None and stat.S_ISREG(info.st_mode):
            existed.append(relative)
            _link_or_copy(tree, relative, f"{TXN_DIR}/old/{index}")
    _write_journal(tree, writes, list(plan.deletes), existed)
    # From here the journal can undo everything: replaced files come back from their
    # backups, and files that did not exist (moved in, or not yet) are removed.
    crash_after = int(os.environ.get(_CRASH_AFTER_ENV, "-1"))
    replaced = set(existed)
    progress = Progress(crash_after)
    appeared: set[str] = set()  # files someone else put where nothing was: never undone
    try:
        fresh = [relative for relative in plan.writes if relative not in replaced]
        move_new_files(tree, fresh, plan.writes, progress, appeared)
        for relative in writes:
            if relative in replaced and relative in plan.writes:
                tree.rename(plan.writes[relative], relative)
                progress.placed()
        if plan.manifest_bytes is not None:
            tree.write_atomic(MANIFEST_PATH, plan.manifest_bytes)
            progress.placed()
        for relative in plan.deletes:
            tree.unlink(relative)
            tree.remove_empty_parents(relative, plan.territory.root_of(relative))
    except BaseException:  # disk full, Ctrl-C: put the tree back at once
        try:
            if appeared:  # listed as existing without a backup, undo (now or after a kill) keeps them
                _write_journal(tree, writes, list(plan.deletes), [*existed, *appeared])
        finally:
            _undo(tree, plan.territory, writes, list(plan.deletes), replaced | appeared)
        raise
    tree.unlink(JOURNAL_PATH)
    tree.remove_tree(TXN_DIR)


def _write_journal(tree: ProjectTree, writes: list[str], deletes: list[str], existed: list[str]) -> None:
    journal = {"version": 2, "writes": writes, "deletes": deletes, "existed": sorted(existed)}
    body = json.dumps(journal).encode()  # not indented: json's C encoder writes it
    tree.write_atomic(JOURNAL_PATH, state.seal(tree, JOURNAL_PATH, body), sync=True)


@contextmanager
def session(tree: ProjectTree, files: ProjectFiles) -> Iterator[tuple[CompileInputs, bool]]:
    """``.mlgitops/`` checked and locked, an interrupted compile rolled back: what a compile's
    inputs are, and whether there was one to roll back. StateError when the state is unusable."""
    from mlgitops.inputs import read_inputs

    problems = state.state_problems(tree)
    if problems:
        raise StateError(problems)
    with state.project_lock(tree):
        state.ensure_gitignore(tree)
        inputs = read_inputs(files)
        # CI files of a project below the repository root live above it: reach them.
        tree.attach_repository(inputs.territory.repo_subdir)
        yield inputs, recover(tree, inputs.territory)


def recover(tree: ProjectTree, territory: Territory) -> bool:
    """Undo an interrupted apply, if any. Returns True when something was rolled back.

    Raises StateError, touching nothing, when the journal cannot be trusted."""
    info = tree.lstat(JOURNAL_PATH)
    if info is None:
        if tree.lstat(TXN_DIR) is not None:
            tree.remove_tree(TXN_DIR)  # died before the journal: nothing was applied
        return False
    writes, deletes, existed = _read_journal(tree, territory)
    _undo(tree, territory, writes, deletes, existed)
    return True


def _undo(
    tree: ProjectTree, territory: Territory, writes: list[str], deletes: list[str], existed: set[str]
) -> None:
    """Put back the tree the journal describes; safe to run again after a kill at any point."""
    crash_after = int(os.environ.get(_CRASH_IN_RECOVERY_ENV, "-1"))
    restored = 0
    for index, relative in enumerate([*writes, *deletes]):
        backup = f"{TXN_DIR}/old/{index}"
        if relative in existed:
            if tree.lstat(backup) is None:
                continue  # restored by an earlier, interrupted recovery
            tree.rename(backup, relative, create_parent=True)
            restored += 1
            if restored == crash_after:
                os._exit(137)
        else:
            # A parent that is not a directory (a file put where one was expected) means the
            # file was never written: nothing to undo.
            try:
                tree.unlink(relative)
            except NotADirectoryError:
                continue
            tree.remove_empty_parents(relative, territory.root_of(relative))
    tree.unlink(JOURNAL_PATH)
    tree.remove_tree(TXN_DIR)


def _read_journal(tree: ProjectTree, territory: Territory) -> tuple[list[str], list[str], set[str]]:
    """The journal's lists, each path checked against the territory, each backup a plain file."""
    old = tree.lstat(f"{TXN_DIR}/old")
    if old is not None and not stat.S_ISDIR(old.st_mode):
        raise _refused(f"{TXN_DIR}/old, where the journal's backups are, is not a directory")
    body = state.read_sealed(tree, JOURNAL_PATH, MAX_JOURNAL_BYTES)
    if body is None:
        raise _refused(
            "the journal of an interrupted compile was not written by mlgitops on this machine for "
            "this project (it came with the files, is larger than any journal, or this user's key "
            "in ~/.local/state/mlgitops is unavailable or changed)"
        )
    try:
        document: Any = json.loads(body)
        writes, deletes, existed = document["writes"], document["deletes"], document["existed"]
        if not all(isinstance(v, list) for v in (writes, deletes, existed)):
            raise TypeError
        paths = [*writes, *deletes]
        if not all(isinstance(p, str) for p in [*paths, *existed]):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise _refused("the journal of an interrupted compile is malformed") from None
    if len(set(paths)) != len(paths) or not set(existed) <= set(paths):
        raise _refused(
            "the journal of an interrupted compile lists a path twice or backs up one it does not name"
        )
    guard = PathGuard.of(tree)
    for relative in paths:
        reason = territory.refusal(relative) or guard.unsafe_reason(relative)
        if reason is not None:
            raise _refused(f"the journal of an interrupted compile names {relative!r}, which {reason}")
    for index, relative in enumerate(paths):
        backup = tree.lstat(f"{TXN_DIR}/old/{index}")
        if relative in existed and backup is not None and not stat.S_ISREG(backup.st_mode):
            raise _refused(f"the backup of {relative} in the journal is not a regular file")
    return writes, deletes, set(existed)


def _refused(message: str) -> StateError:
    return StateError(
        [
            make(
                "MLG513",
                f"{message}; nothing was restored or changed",
                Location(JOURNAL_PATH),
                f"if no compile of yours was interrupted, delete {TXN_DIR}/ (and remove it from git "
                "if it is tracked); otherwise restore the generated files from git",
            )
        ]
    )


def _link_or_copy(tree: ProjectTree, relative: str, backup: str) -> None:
    try:
        tree.link(relative, backup)
    except OSError:
        tree.write_new(backup, tree.read(relative, MAX_OUTPUT_BYTES))
