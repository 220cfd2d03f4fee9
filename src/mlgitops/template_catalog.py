"""``mlgitops templates``: the built-in templates a project may override, listed, shown and exported.

The catalogue is the one ``spec.templates`` validation uses (``render/overrides.py:
builtin_templates``), so every template listed or exported here is one an override may
replace, and the exported tree has exactly the ``<target>/<name>.j2`` layout it accepts.

Export writes into a directory that is usually inside a repository, which is untrusted:
it never replaces a file, and creates each one relative to a descriptor of its directory
with ``O_EXCL | O_NOFOLLOW`` (``emit/safefs.py``), so a link planted at a template's path
or in place of a target directory is refused, never written through.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from mlgitops.diagnostics import did_you_mean
from mlgitops.emit.safefs import ProjectTree
from mlgitops.errors import UsageError, UserError
from mlgitops.render.overrides import builtin_templates
from mlgitops.resources import templates_dir

SUFFIX = ".j2"


@dataclass(frozen=True, slots=True)
class Exported:
    """What ``export`` wrote: the files (``<target>/<name>.j2``) and the ``spec.templates`` value."""

    directory: Path
    files: tuple[str, ...]
    setting: str
    project: Path | None  # the project whose mlgitops.yaml the setting belongs in, if found


def catalogue(target: str | None = None) -> list[str]:
    """``<target>/<name>.j2`` of every built-in template (of ``target`` only, if given), sorted."""
    known = builtin_templates()
    targets = [_known_target(target, known)] if target is not None else sorted(known)
    return [f"{t}/{name}" for t in targets for name in sorted(known[t])]


def template_text(reference: str) -> str:
    """The text of the built-in template ``TARGET/NAME`` (the ``.j2`` suffix is optional)."""
    target, slash, name = reference.partition("/")
    if not slash or not name or "/" in name:
        raise UsageError(f"expected TARGET/NAME (e.g. kserve/inferenceservice.yaml), not {reference!r}")
    known = builtin_templates()
    target = _known_target(target, known)
    file_name = name if name.endswith(SUFFIX) else name + SUFFIX
    if file_name not in known[target]:
        guess = did_you_mean(file_name, known[target])
        raise UsageError(
            f"{target} has no template {name!r}; {guess + ' ' if guess else ''}"
            f"{target} has {', '.join(sorted(known[target]))}"
        )
    return (templates_dir() / target / file_name).read_text(encoding="utf-8")


def export_templates(directory: Path, target: str | None = None) -> Exported:
    """Write the built-in templates (of ``target``, if given) into ``directory``; all or nothing
    as far as existing files go: if any is already there, nothing is written."""
    wanted = catalogue(target)
    try:
        mode: int | None = os.lstat(directory).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISLNK(mode):
        raise UserError(f"refusing to export into {directory}: it is a symbolic link")
    if mode is not None and not stat.S_ISDIR(mode):
        raise UserError(f"refusing to export into {directory}: it exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    with ProjectTree(directory) as tree:
        in_the_way = [relative for relative in wanted if _occupied(tree, relative)]
        if in_the_way:
            shown = ", ".join(str(directory / relative) for relative in in_the_way)
            raise UserError(
                f"refusing to overwrite {shown}; nothing was exported "
                "(move them away, or export into a new directory and compare)"
            )
        builtin = templates_dir()
        for relative in wanted:
            try:
                tree.write_new(relative, (builtin / relative).read_bytes())
            except FileExistsError:  # appeared since the check: still never overwritten
                raise UserError(f"refusing to overwrite {directory / relative}") from None
            except OSError as exc:
                where = directory / relative
                raise UserError(f"cannot write {where}: {exc.strerror or exc}") from None
    project = _project_of(directory.absolute())
    if project is not None:
        setting = directory.absolute().relative_to(project).as_posix()
    else:
        setting = directory.as_posix()
    return Exported(directory, tuple(wanted), setting, project)


def _occupied(tree: ProjectTree, relative: str) -> bool:
    """Whether anything (a file, a link, a directory) is at ``relative``, or its directory
    cannot be used (a link or a file in place of the target directory)."""
    try:
        return tree.lstat(relative) is not None
    except OSError:
        return True


def _known_target(target: str | None, known: dict[str, frozenset[str]]) -> str:
    if target in known:
        return target
    guess = did_you_mean(target or "", known)
    raise UsageError(
        f"no built-in templates for target {target!r}; {guess + ' ' if guess else ''}"
        f"the targets are {', '.join(sorted(known))}"
    )


def _project_of(directory: Path) -> Path | None:
    """The nearest directory at or above ``directory``'s parent holding mlgitops.yaml: the
    project whose ``spec.templates`` would name the export."""
    for candidate in directory.parents:
        if (candidate / "mlgitops.yaml").is_file():
            return candidate
    return None
