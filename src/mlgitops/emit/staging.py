"""Streaming a compile's files to disk as rendering produces them.

A compile does not hold its generated files until the end: each file is decided as soon
as it is rendered (:class:`~mlgitops.emit.plan.Planner`: unchanged, refused, or to be
written) and, if it is to be written, its bytes go straight to the transaction's staging
area, at the same relative path under ``.mlgitops/txn/new/`` (a CI file above the project,
``../``… from it, under ``.mlgitops/txn/new-root/`` at its path from the repository root);
only a :class:`PlannedFile` (path, hash, decision) is kept.  The staging area mirrors the
output tree so that the commit can move a whole new directory (a new model's, or all of
``deploy/`` in a first compile) into place in one rename.
This runs in whichever process rendered the file, so the render workers write in
parallel and send back only these records.  Nothing in the project changes while staging:
the transaction (:mod:`mlgitops.emit.transaction`) moves the staged files into place
after its journal is written, and a compile that stops earlier leaves nothing but the
staging area, which :func:`staging_area` removes (or the next compile's recovery does,
finding no journal).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from mlgitops.diagnostics import Diagnostic
from mlgitops.emit.manifest import sha256
from mlgitops.emit.plan import Decision, Planner, header_source
from mlgitops.emit.safefs import ProjectTree
from mlgitops.emit.state import JOURNAL_PATH, TXN_DIR
from mlgitops.pickling import pickled_by_constructor
from mlgitops.repoplace import strip_root_prefix
from mlgitops.targets.base import OutputFile

STAGING_DIR = f"{TXN_DIR}/new"
ROOT_STAGING_DIR = f"{TXN_DIR}/new-root"  # files above the project, by their path from the root


@pickled_by_constructor  # a render worker sends back thousands
@dataclass(frozen=True, slots=True)
class PlannedFile:
    """What a compile keeps of a generated file once it is decided (and staged)."""

    path: str
    digest: str  # SHA-256 of the content, for the manifest and the render cache
    environment: str | None
    header_source: str  # the spec its header names ("" if none): which specs still generate files
    staged: str | None  # where its content waits under STAGING_DIR; None: nothing to write
    problems: tuple[Diagnostic, ...] = ()
    created: bool = False  # to be written where the planner found nothing
    # The staged file's size and modification time (ns): the commit renames it into place, which
    # keeps both, so the up-to-date cache (fingerprint.write_cache) need not stat it again.
    stat: tuple[int, int] | None = None


@contextmanager
def staging_area(tree: ProjectTree) -> Iterator[None]:
    """An empty staging area for this compile, removed afterwards unless a journal (an
    interrupted commit, for the next compile's recovery) still needs it."""
    tree.remove_tree(TXN_DIR)  # a previous compile's leftovers (recovery already ran)
    tree.make_directories(STAGING_DIR)
    try:
        yield
    finally:
        if tree.lstat(JOURNAL_PATH) is None:
            tree.remove_tree(TXN_DIR)


class Stager:
    """Turns a rendered file into a :class:`PlannedFile`, staging its bytes if they are to be
    written.  Used from forked render workers: each output path is rendered once, so
    workers never write the same staged file, and a staged directory another worker has
    just made is used as it is (``ProjectTree`` tolerates the race)."""

    def __init__(self, planner: Planner) -> None:
        self._planner = planner
        self._tree = planner.tree
        self._repo_subdir = planner.territory.repo_subdir

    def __call__(self, file: OutputFile) -> PlannedFile:
        data = file.content.encode()
        decision, problem = self._planner.decide(file.path, data)
        staged = written = None
        if decision is Decision.WRITE or decision is Decision.CREATE:
            staged = staged_path(file.path, self._repo_subdir)
            written = self._tree.write_new(staged, data)
        problems = (problem,) if problem is not None else ()
        return PlannedFile(
            file.path,
            sha256(data),
            file.environment,
            header_source(data, self._planner.territory.repo_subdir),
            staged,
            problems,
            decision is Decision.CREATE,
            written,
        )


def staged_path(relative: str, repo_subdir: str) -> str:
    """Where the new content of the output path ``relative`` waits during a compile."""
    rooted = strip_root_prefix(repo_subdir, relative)
    return f"{STAGING_DIR}/{relative}" if rooted is None else f"{ROOT_STAGING_DIR}/{rooted}"
