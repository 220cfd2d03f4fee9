"""Reading a project as it was at a git revision, without touching the work tree or the index.

``diff --base REF`` needs the specs of REF.  They are read with ``git ls-tree``
and one ``git cat-file --batch`` process, and written into a temporary
directory that mirrors the project's subdirectory, so the usual pipeline can
compile them.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from mlgitops.emit.territory import path_syntax_problem
from mlgitops.errors import UserError


@dataclass(frozen=True, slots=True)
class Repository:
    top: Path  # the work tree's root
    subdir: str  # the project directory relative to it ("" at the root)


def repository(project_root: Path) -> Repository:
    top = _git(project_root, "rev-parse", "--show-toplevel", check=False).strip()
    if not top:
        raise UserError(f"{project_root} is not inside a git repository; 'diff' compares git revisions")
    top_path = Path(top).resolve()
    relative = project_root.resolve().relative_to(top_path).as_posix()
    return Repository(top_path, "" if relative == "." else relative)


def materialize(repo: Repository, ref: str, destination: Path) -> None:
    """Write the project's files as they are at ``ref`` under ``destination``."""
    commit = ""
    if ref and not ref.startswith("-"):  # never let REF be read as an option of git
        commit = _git(repo.top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False).strip()
    if not commit:
        raise UserError(
            f"git revision {ref!r} does not exist here (in CI, fetch it first: git fetch origin {ref})"
        )
    prefix = f"{repo.subdir}/" if repo.subdir else ""
    listing = _git(repo.top, "ls-tree", "-r", "-z", "--full-tree", commit, "--", repo.subdir or ".")
    blobs: list[tuple[str, str]] = []
    for entry in filter(None, listing.split("\0")):
        meta, _, path = entry.partition("\t")
        mode, kind, sha = meta.split()
        if kind != "blob" or mode == "120000" or not path.startswith(prefix):
            continue  # submodules and symlinks are never spec files
        if path_syntax_problem(path) is not None:
            continue  # a crafted tree object ("..", "."): git never checks such a path out either
        blobs.append((path[len(prefix) :], sha))
    project = [sha for relative, sha in blobs if relative == "mlgitops.yaml"]
    if not project:
        where = repo.subdir or "the repository root"
        raise UserError(f"the project did not exist at {ref!r}: no mlgitops.yaml in {where}")
    output = _output_dir(_cat_blobs(repo.top, project)[0])
    blobs = [(relative, sha) for relative, sha in blobs if _is_input(relative, output)]
    contents = _cat_blobs(repo.top, [sha for _, sha in blobs])
    for (relative, _), data in zip(blobs, contents, strict=True):
        target = destination / PurePosixPath(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _output_dir(project_yaml: bytes) -> str:
    """The compiled tree's directory named by the project file (best effort: default ``deploy``)."""
    try:
        data = yaml.safe_load(project_yaml)
        path = data["spec"]["output"]["path"]
    except Exception:
        return "deploy"
    return str(path).strip("/") if isinstance(path, str) else "deploy"


def _is_input(relative: str, output: str) -> bool:
    """Generated files are compiled afresh, not read: skip the output tree's bulk."""
    top = relative.split("/", 1)[0]
    if top in (".mlgitops", ".github") or relative == ".gitlab-ci.yml":
        return False
    return not (relative == output or relative.startswith(output + "/"))


def _cat_blobs(top: Path, shas: list[str]) -> list[bytes]:
    if not shas:
        return []
    process = subprocess.run(
        ["git", "-C", str(top), "cat-file", "--batch"],
        input="".join(f"{sha}\n" for sha in shas).encode(),
        capture_output=True,
        check=False,
    )
    if process.returncode != 0:
        raise UserError(f"git cat-file failed: {process.stderr.decode(errors='replace').strip()}")
    out, position, contents = process.stdout, 0, []
    for _ in shas:
        header_end = out.index(b"\n", position)
        size = int(out[position:header_end].split()[2])
        start = header_end + 1
        contents.append(out[start : start + size])
        position = start + size + 1  # content is followed by a newline
    return contents


def _git(cwd: Path, *args: str, check: bool = True) -> str:
    try:
        process = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UserError("git is not installed; 'diff' needs it") from None
    if check and process.returncode != 0:
        message = process.stderr.strip() or f"git {' '.join(args)} failed"
        raise UserError(message)
    return process.stdout
