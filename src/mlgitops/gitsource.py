"""Reading a project as it was at a git revision, without touching the work tree or the index.

``diff --base REF`` needs the specs of REF.  They are read with ``git ls-tree``
and one ``git cat-file --batch`` process, and written into a temporary
directory that mirrors the project's subdirectory, so the usual pipeline can
compile them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
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


def _commit(repo: Repository, ref: str) -> str:
    commit = ""
    if ref and not ref.startswith("-"):  # never let REF be read as an option of git
        commit = _git(repo.top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False).strip()
    if not commit:
        raise UserError(
            f"git revision {ref!r} does not exist here (in CI, fetch it first: git fetch origin {ref})"
        )
    return commit


# A spec version larger than the loader's limit is not read: it could not have been compiled.
_MAX_SPEC_BYTES = 1024 * 1024


@dataclass
class SpecHistory:
    """The versions each spec file deployed, environment by environment, in every commit up to
    a base revision (``validate --base``, ``diff --base``): what "served before" means for the
    promotion order and for deprecated models (validate/promotion.py).

    Asked lazily, per file, only for deployments the current spec cannot vouch for: one ``git
    log`` and one ``git cat-file --batch`` per file asked about."""

    repo: Repository
    commit: str
    _seen: dict[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)

    @classmethod
    def at(cls, project_root: Path, ref: str) -> SpecHistory:
        repo = repository(project_root)
        return cls(repo, _commit(repo, ref))

    def versions(self, spec_file: str) -> Mapping[str, frozenset[str]]:
        found = self._seen.get(spec_file)
        if found is None:
            found = self._seen[spec_file] = self._read(spec_file)
        return found

    def _read(self, spec_file: str) -> Mapping[str, frozenset[str]]:
        path = f"{self.repo.subdir}/{spec_file}" if self.repo.subdir else spec_file
        log = _git(
            self.repo.top, "log", "--format=", "--raw", "--no-abbrev", "--no-renames", self.commit, "--", path
        )
        blobs = []
        for line in log.splitlines():  # ":100644 100644 <old> <new> M\t<path>"
            fields = line.split("\t", 1)[0].split()
            if len(fields) >= 4 and fields[3].strip("0"):
                blobs.append(fields[3])
        served: dict[str, set[str]] = {}
        for text in _cat_blobs(self.repo.top, list(dict.fromkeys(blobs))):
            for env, versions in _deployed(text).items():
                served.setdefault(env, set()).update(versions)
        return {env: frozenset(versions) for env, versions in served.items()}


def _deployed(text: bytes) -> dict[str, set[str]]:
    """Environment → the stable and canary versions one old spec text deploys (best effort: a
    text that is not a spec deploys nothing)."""
    if len(text) > _MAX_SPEC_BYTES:
        return {}
    try:
        data = yaml.load(text, Loader=yaml.CSafeLoader)  # the C safe loader
    except yaml.YAMLError:
        return {}
    spec = data.get("spec") if isinstance(data, dict) else None
    deployments = spec.get("deployments") if isinstance(spec, dict) else None
    if not isinstance(deployments, dict):
        return {}
    out: dict[str, set[str]] = {}
    for env, deployment in deployments.items():
        if not isinstance(deployment, dict):
            continue
        canary = deployment.get("canary")
        for version in (
            deployment.get("version"),
            canary.get("version") if isinstance(canary, dict) else None,
        ):
            if isinstance(version, (str, int, float)):
                out.setdefault(str(env), set()).add(str(version))
    return out


def materialize(repo: Repository, ref: str, destination: Path) -> None:
    """Write the project's files as they are at ``ref`` under ``destination``."""
    commit = _commit(repo, ref)
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
