"""Reading a project as it was at a git revision, without touching the work tree or the index.

``diff --base REF`` needs the specs of REF.  They are read with ``git ls-tree``
and one ``git cat-file --batch`` process, and written into a temporary
directory that mirrors the project's subdirectory, so the usual pipeline can
compile them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Collection, Iterator, Mapping
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
# Paths per git command line and blobs per ``git cat-file`` run: bounded argument lists and memory.
_PATHS_PER_COMMAND = 500
_BLOBS_PER_READ = 500

# environment → the stable and canary versions a spec text deploys there
Deployed = Mapping[str, frozenset[str]]


@dataclass
class SpecHistory:
    """The versions each spec file deployed, environment by environment, up to a base revision
    (``validate --base``, ``diff --base``): what "served before" means for the promotion order
    and for deprecated models (validate/promotion.py).

    Asked in batches, only about the files whose deployments the current spec cannot vouch
    for: :meth:`changed` (one ``git ls-tree``, one ``git cat-file``) tells which of them the
    change edited, and what the base revision deployed; :meth:`versions` reads whole histories
    (one ``git log`` over all the files asked, one ``git cat-file``).  Each blob is parsed once.
    Paths go to git after ``--`` as literal pathspecs and come back NUL-separated: they are
    data, never options or patterns."""

    repo: Repository
    commit: str
    _blob_deploys: dict[str, Deployed] = field(default_factory=dict)  # blob id → what it deploys
    _histories: dict[str, Deployed] = field(default_factory=dict)  # spec file → its whole history

    @classmethod
    def at(cls, project_root: Path, ref: str) -> SpecHistory:
        repo = repository(project_root)
        return cls(repo, _commit(repo, ref))

    def _in_repository(self, spec_file: str) -> str:
        return f"{self.repo.subdir}/{spec_file}" if self.repo.subdir else spec_file

    def changed(self, texts: Mapping[str, str]) -> dict[str, Deployed]:
        """Of these spec files (path relative to the project → current text), those whose text
        at the base revision differs, each with what it deployed there (empty: the base has no
        such file).  A file left out deploys at the base exactly what its text deploys now."""
        paths = {self._in_repository(spec_file): spec_file for spec_file in texts}
        at_base = self._blobs_at_base(paths)
        before = dict(_cat_blobs_chunked(self.repo.top, list(dict.fromkeys(at_base.values()))))
        out: dict[str, Deployed] = {}
        for path, spec_file in paths.items():
            sha = at_base.get(path)
            if sha is None:
                out[spec_file] = {}
            elif _text(before[sha]) != texts[spec_file]:
                out[spec_file] = self._deploys(sha, before[sha])
        return out

    def _blobs_at_base(self, paths: Mapping[str, str]) -> dict[str, str]:
        """Path → blob id at the base revision, for those of ``paths`` that are regular files there."""
        # their directories as pathspecs: a few arguments, and git skips the output tree
        folders = sorted({path.rpartition("/")[0] or path for path in paths})
        found: dict[str, str] = {}
        for chunk in _chunks(folders, _PATHS_PER_COMMAND):
            listing = _git(
                self.repo.top,
                "--literal-pathspecs",
                "ls-tree",
                "-r",
                "-z",
                "--full-tree",
                self.commit,
                "--",
                *chunk,
            )
            for entry in filter(None, listing.split("\0")):
                meta, _, path = entry.partition("\t")
                mode, kind, sha = meta.split()
                if kind == "blob" and mode != "120000" and path in paths:
                    found[path] = sha
        return found

    def versions(self, spec_files: Collection[str]) -> dict[str, Deployed]:
        """For each file, environment → every version (stable or canary) it deployed in the
        first-parent history of the base revision, the states of the branch that was deployed
        (empty: the file has no history)."""
        todo = {self._in_repository(f): f for f in spec_files if f not in self._histories}
        blobs: dict[str, list[str]] = {spec_file: [] for spec_file in todo.values()}
        for chunk in _chunks(sorted(todo), _PATHS_PER_COMMAND):
            log = _git(
                self.repo.top,
                "--literal-pathspecs",
                "log",
                "--first-parent",
                "--diff-merges=first-parent",
                "--format=",
                "--raw",
                "-z",
                "--no-abbrev",
                "--no-renames",
                self.commit,
                "--",
                *chunk,
            )
            for path, sha in _raw_changes(log):
                if path in todo and sha.strip("0"):  # all zeros: the file was deleted
                    blobs[todo[path]].append(sha)
        unread = list(
            dict.fromkeys(sha for shas in blobs.values() for sha in shas if sha not in self._blob_deploys)
        )
        for sha, data in _cat_blobs_chunked(self.repo.top, unread):
            self._deploys(sha, data)
        for spec_file, shas in blobs.items():
            served: dict[str, set[str]] = {}
            for sha in shas:
                for env, versions in self._blob_deploys[sha].items():
                    served.setdefault(env, set()).update(versions)
            self._histories[spec_file] = {env: frozenset(v) for env, v in served.items()}
        return {spec_file: self._histories[spec_file] for spec_file in spec_files}

    def _deploys(self, sha: str, data: bytes) -> Deployed:
        found = self._blob_deploys.get(sha)
        if found is None:
            found = self._blob_deploys[sha] = {
                env: frozenset(versions) for env, versions in _deployed(data).items()
            }
        return found


def _raw_changes(log: str) -> Iterator[tuple[str, str]]:
    """(path, new blob id) of each entry of ``git log --raw -z --format=``: ``:<modes> <old> <new>
    <status>`` NUL ``<path>`` NUL, entry after entry."""
    tokens = log.split("\0")
    index = 0
    while index + 1 < len(tokens):
        meta = tokens[index].lstrip("\n")
        if not meta.startswith(":"):
            index += 1  # a separator between commits
            continue
        fields = meta.split()
        if len(fields) >= 4:
            yield tokens[index + 1], fields[3]
        index += 2


def _text(data: bytes) -> str | None:
    """A blob as the loader reads a spec file (UTF-8, without a byte-order mark)."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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


def _cat_blobs_chunked(top: Path, shas: list[str]) -> Iterator[tuple[str, bytes]]:
    """(blob id, content), reading a bounded number of blobs per ``git cat-file`` run."""
    for chunk in _chunks(shas, _BLOBS_PER_READ):
        yield from zip(chunk, _cat_blobs(top, chunk), strict=True)


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
