"""Work out what a compile changes on disk before changing anything.

What the previous manifest lists is believed only as far as :mod:`mlgitops.emit.territory`
allows: a listed file is replaced silently only when it still holds what mlgitops wrote,
and pruned only when it lies where mlgitops generates files, carries its header and
hashes to the recorded value.  Anything else is kept, with a warning that names it.
"""

from __future__ import annotations

import enum
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from mlgitops.boundedread import describe_mode
from mlgitops.codes import Severity
from mlgitops.diagnostics import Diagnostic, Location, make
from mlgitops.emit.manifest import MANIFEST_PATH, Manifest, sha256
from mlgitops.emit.paths import PathGuard
from mlgitops.emit.safefs import ProjectTree
from mlgitops.emit.territory import (
    HEADER_START,
    MAX_OUTPUT_BYTES,
    Territory,
    path_syntax_problem,
    prune_refusal,
)
from mlgitops.emit.writer import highest_missing
from mlgitops.repoplace import root_prefix
from mlgitops.targets.base import OutputFile


@dataclass(frozen=True)
class Plan:
    tree: ProjectTree
    writes: dict[str, str]  # new or changed file → its content, staged under .mlgitops/txn/new/
    deletes: tuple[str, ...]  # owned files no longer generated
    manifest: Manifest
    territory: Territory
    manifest_bytes: bytes | None = None  # the new manifest, when it differs from the one on disk
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Spec files whose generated files are all being pruned (the model is gone): spec → count.
    vanished: dict[str, int] = field(default_factory=dict)
    # The writes where the planner found nothing: the commit phase need not look for a file
    # to back up there (it moves them in with a rename that never replaces anything).
    created: frozenset[str] = frozenset()
    # The size and modification time (ns) of each staged write, which the commit's renames keep.
    stats: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.writes or self.deletes or self.manifest_bytes is not None)

    @cached_property  # asked for twice by a compile's result, 17,000 paths sorted each time
    def written(self) -> tuple[str, ...]:
        """Every path the plan writes, the manifest included, sorted."""
        manifest = [MANIFEST_PATH] if self.manifest_bytes is not None else []
        return tuple(sorted([*self.writes, *manifest]))


class Decision(enum.Enum):
    CREATE = "create"  # to write, where nothing is
    WRITE = "write"  # to write over the file there
    UNCHANGED = "unchanged"
    REFUSED = "refused"


class Planner:
    """Decides for one generated file at a time what the compile does with it (so that files
    can be decided as rendering produces them, in any process, and not be kept).

    ``recorded``: the previous manifest's files (path → SHA-256)."""

    def __init__(
        self, tree: ProjectTree, recorded: Mapping[str, str], territory: Territory, *, strict: bool = False
    ) -> None:
        self.tree, self.recorded, self.territory, self.strict = tree, recorded, territory, strict
        self._guard = PathGuard.of(tree)
        # Directories found missing (the highest of each), and what is known of their parents: a
        # first compile then looks for none of its files (each lookup a failed open), only for
        # its directories.  One that appears later cannot hurt: CREATE moves never replace.
        self._missing: set[str] = set()
        self._exists: dict[str, bool] = {}

    def decide(self, path: str, data: bytes) -> tuple[Decision, Diagnostic | None]:
        # The file itself is stat'ed once, below, and not by the guard too (tens of thousands of
        # files a compile); the messages come in the guard's order all the same.
        reason = self._guard.unsafe_reason(path, check_leaf=False)
        if reason is None and (forbidden := self.territory.refusal(path)) is not None:
            reason = self._guard.unsafe_reason(path) or forbidden  # rare: as the guard alone says
        info = None
        if reason is None and not self._under_missing(path):
            info = self.tree.lstat(path)
            if info is None:
                missing = highest_missing(self.tree, path.rpartition("/")[0], self._exists)
                if missing is not None:
                    self._missing.add(missing)
                    self._guard.absent(missing)
            if info is not None and stat.S_ISLNK(info.st_mode):
                reason = self._guard.link_reason(path)
        if reason is not None:
            return Decision.REFUSED, make("MLG502", f"refusing to write {path}: {reason}", Location(path))
        if info is not None and not stat.S_ISREG(info.st_mode):
            problem = make(
                "MLG501",
                f"{path} is {describe_mode(info.st_mode)}; mlgitops needs to write a file there",
                Location(path),
                "move it away",
            )
            return Decision.REFUSED, problem
        if info is None:
            return Decision.CREATE, None
        current = read_output(self.tree, path)  # None: there, but unreadable or larger than any output
        # Above the project, only a file carrying this project's header is ours, whatever the
        # manifest says: the user's own .gitlab-ci.yml, another project's workflow.
        foreign = self.territory.foreign_root_file(path, current or b"")
        if (
            foreign is not None
            and current is not None
            and _orphan(self.tree, self.territory, current, self.recorded.get(path))
        ):
            foreign = None  # the project it names moved away (here): the file is this one's now
        if current == data:
            return Decision.UNCHANGED, None
        if path not in self.recorded or foreign is not None:
            why = "was not generated by mlgitops" if current is not None else "cannot be read"
            if foreign is not None and current is not None:
                why = foreign
            refusal = make(
                "MLG501",
                f"{path} exists and {why}; refusing to overwrite it",
                Location(path),
                "move or delete the file, or change spec.output.path",
            )
            return Decision.REFUSED, refusal
        if current is None or sha256(current) != self.recorded[path]:
            return Decision.WRITE, _hand_edit(path, self.strict)
        return Decision.WRITE, None

    def _under_missing(self, path: str) -> bool:
        directory = path
        while self._missing and "/" in directory:
            directory = directory.rpartition("/")[0]
            if directory in self._missing:
                return True
        return False


class Decided(Protocol):
    """A generated file once decided (:class:`mlgitops.emit.staging.PlannedFile`)."""

    @property
    def path(self) -> str: ...
    @property
    def staged(self) -> str | None: ...
    @property
    def created(self) -> bool: ...
    @property
    def header_source(self) -> str: ...
    @property
    def problems(self) -> tuple[Diagnostic, ...]: ...
    @property
    def stat(self) -> tuple[int, int] | None: ...


def plan(
    tree: ProjectTree,
    decided: Sequence[Decided],
    manifest: Manifest,
    previous: Manifest | None,
    territory: Territory,
) -> Plan:
    """Gather the decisions on the generated files, and find what to prune."""
    recorded = previous.files if previous else {}
    writes: dict[str, str] = {}
    created: list[str] = []
    stats: dict[str, tuple[int, int]] = {}
    diagnostics: list[Diagnostic] = []
    # one pass over the 17,000 files of a large project, not one for each of these
    for f in decided:
        if f.staged is not None:
            writes[f.path] = f.staged
            if f.stat is not None:
                stats[f.path] = f.stat
        if f.created:
            created.append(f.path)
        if f.problems:
            diagnostics += f.problems
    generated = {f.path for f in decided}
    still = {f.header_source for f in decided}
    guard = PathGuard.of(tree)
    deletes, vanished = _prunable(tree, guard, recorded, generated, still, territory, diagnostics)
    manifest_bytes: bytes | None = manifest.to_bytes()
    if read_output(tree, MANIFEST_PATH) == manifest_bytes:
        manifest_bytes = None
    new = frozenset(created)
    return Plan(tree, writes, deletes, manifest, territory, manifest_bytes, diagnostics, vanished, new, stats)


def _hand_edit(path: str, strict: bool) -> Diagnostic:
    if strict:
        return make(
            "MLG515",
            f"{path} was edited by hand since mlgitops wrote it; --strict refuses to overwrite the edit",
            Location(path),
            "move the change into the spec (or an override template), or discard it, then compile again",
            severity=Severity.ERROR,
        )
    return make(
        "MLG515",
        f"overwrote hand edit in {path}: it changed since mlgitops wrote it",
        Location(path),
        "generated files are rewritten on every compile; put the change in the spec or an override template",
    )


def _prunable(
    tree: ProjectTree,
    guard: PathGuard,
    recorded: Mapping[str, str],
    generated: set[str],
    still: set[str],
    territory: Territory,
    diagnostics: list[Diagnostic],
) -> tuple[tuple[str, ...], dict[str, int]]:
    """The owned files no longer generated that may be deleted; the others get a warning."""
    deletes: list[str] = []
    vanished: dict[str, int] = {}
    for path in sorted(recorded.keys() - generated - {MANIFEST_PATH}):
        reason = territory.refusal(path) or guard.unsafe_reason(path)
        data = None
        if reason is None:
            info = tree.lstat(path)
            if info is None:
                continue  # already gone
            if not stat.S_ISREG(info.st_mode):
                reason = f"is {describe_mode(info.st_mode)}"
            else:
                data = read_output(tree, path)
                reason = (
                    "cannot be read"
                    if data is None
                    else territory.foreign_root_file(path, data) or prune_refusal(path, data, recorded[path])
                )
        if reason is not None:
            diagnostics.append(
                make(
                    "MLG514",
                    f"not pruning {path}, listed in the ownership manifest: it {reason}",
                    Location(path),
                    "delete it by hand if it is no longer wanted; it is no longer listed as generated",
                )
            )
            continue
        deletes.append(path)
        source = header_source(data or b"", territory.repo_subdir)
        if source:
            vanished[source] = vanished.get(source, 0) + 1
    if vanished:  # a spec still generating files is not gone (only some of its files are)
        vanished = {spec: count for spec, count in vanished.items() if spec not in still}
    return tuple(deletes), vanished


def header_source(data: bytes, repo_subdir: str) -> str:
    """The spec named in a generated file's header ("" when it has none), relative to the
    project (a file at the repository root names it from there: ``repo_subdir``)."""
    if not data.startswith(HEADER_START):
        return ""
    line = data[len(HEADER_START) : data.find(b"\n")].decode("utf-8", "replace")
    source = line.removesuffix(". Do not edit.").strip()
    return source.removeprefix(f"{repo_subdir}/") if repo_subdir else source


def _orphan(tree: ProjectTree, territory: Territory, data: bytes, recorded: str | None) -> bool:
    """True when ``data``, a root CI file this project's manifest lists with its very hash,
    names in its header a project that is no longer there: this project, before it moved."""
    if recorded is None or sha256(data) != recorded:
        return False
    source = header_source(data, "")
    subdir = source.removesuffix("/mlgitops.yaml")  # the root .gitlab-ci.yml names the project file
    if subdir == source or not subdir or path_syntax_problem(subdir) is not None:
        return False
    try:
        return tree.lstat(f"{root_prefix(territory.repo_subdir)}{subdir}/mlgitops.yaml") is None
    except OSError:  # a link or a file on the way: not provably gone
        return False


def read_output(tree: ProjectTree, relative: str) -> bytes | None:
    """A generated file's bytes; None when it is missing, a link, not a regular file, larger
    than any output or unreadable."""
    try:
        return tree.read(relative, MAX_OUTPUT_BYTES)
    except OSError:
        return None


def file_hashes(files: list[OutputFile]) -> dict[str, str]:
    return {f.path: sha256(f.content.encode()) for f in files}
