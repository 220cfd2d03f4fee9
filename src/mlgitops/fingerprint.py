"""Fingerprints of a compile's inputs.

* :func:`input_hash`: the spec files and override templates.  Recorded in the
  committed ownership manifest: it changes only when the project's own inputs do.
* :func:`cache_key`: the input hash plus everything else the output depends on
  (mlgitops' version and source, its built-in templates, today's date for
  sunset warnings).  Kept in ``.mlgitops/cache.json``, which git ignores; when it
  matches and every owned file still has its recorded hash, the tree is already
  what a compile would write and ``compile`` skips the work.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from json.encoder import encode_basestring_ascii as encode_string
from pathlib import Path
from typing import Any

import mlgitops
from mlgitops.boundedread import ReadRefused, read_bounded
from mlgitops.emit.manifest import Manifest
from mlgitops.emit.safefs import ProjectTree
from mlgitops.emit.territory import path_syntax_problem
from mlgitops.load import MAX_FILE_BYTES
from mlgitops.repoplace import strip_root_prefix

_PACKAGE_DIR = Path(mlgitops.__file__).resolve().parent
CACHE_PATH = ".mlgitops/cache.json"


def input_hash(root: Path, inputs: Iterable[Path], templates: Mapping[str, str]) -> str | None:
    """The spec files (each read bounded, as the loader would) and the accepted override
    templates' texts; None when a spec file cannot be read as a spec (validation says why)."""
    digest = hashlib.sha256()
    for path in sorted(inputs):
        try:
            data = read_bounded(path, MAX_FILE_BYTES)
        except ReadRefused:
            return None
        _update(digest, "in", path.relative_to(root).as_posix(), data)
    for name in sorted(templates):
        _update(digest, "tpl", name, templates[name].encode())
    return digest.hexdigest()


def cache_key(spec_hash: str, builtin_templates: Path, today: datetime.date, repo_subdir: str = "") -> str:
    """``repo_subdir``: the project's place in its repository, which GitOps and CI files name, so
    a project moved there is compiled again, not found up to date."""
    digest = hashlib.sha256()
    digest.update(f"{spec_hash}\nmlgitops {mlgitops.__version__}\n{today.isoformat()}\n".encode())
    digest.update(f"subdir {repo_subdir!r}\n".encode())
    _add_tree(digest, "pkg", _PACKAGE_DIR, ".py")
    _add_tree(digest, "builtin", builtin_templates)
    return digest.hexdigest()


def renderer_fingerprint(builtin_templates: Path) -> str:
    """What rendering depends on besides the IR: mlgitops' version and code and its templates."""
    digest = hashlib.sha256(f"mlgitops {mlgitops.__version__}\n".encode())
    _add_tree(digest, "pkg", _PACKAGE_DIR, ".py")
    _add_tree(digest, "builtin", builtin_templates)
    return digest.hexdigest()


def read_cache(tree: ProjectTree) -> tuple[str, dict[str, list[int]]] | None:
    """The cache key of the last compile and the (size, mtime) of each file it wrote."""
    from mlgitops.emit.state import read_sealed

    data = read_sealed(tree, CACHE_PATH)
    if data is None:
        return None
    try:
        document: Any = json.loads(data)
        key, stats = document["key"], document["stats"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    if not isinstance(key, str) or not isinstance(stats, dict):
        return None
    return key, stats


def write_cache(
    tree: ProjectTree, key: str, paths: Sequence[str], known: Mapping[str, tuple[int, int]] | None = None
) -> None:
    """Record the key and each owned file's size and mtime: like git's index, a file whose
    stat is unchanged is taken to be unchanged, so an unchanged compile reads no file.
    ``paths``: sorted, the order they are listed in. ``known``: the size and mtime of files just
    written (staged and renamed into place), which are not stat'ed again: a first compile's tens
    of thousands of files."""
    from mlgitops.emit.state import write_local

    known = known or {}
    unknown = [path for path in paths if path not in known]
    looked = {path: (info.st_size, info.st_mtime_ns) for path, info in tree.lstat_sorted(unknown)}
    # Written as text, the JSON json.dumps would give: 17,000 files' entries, built as lists and
    # dumped, took three times as long. ASCII bytes, joined once (megabytes: every copy adds to
    # the compile's peak memory).
    stats = b", ".join(
        [
            f"{encode_string(path)}: [{stat[0]}, {stat[1]}]".encode()
            for path in paths
            if (stat := known.get(path) or looked.get(path)) is not None
        ]
    )
    write_local(
        tree, CACHE_PATH, b"".join([f'{{"key": {encode_string(key)}, "stats": {{'.encode(), stats, b"}}\n"])
    )


def _add_tree(digest: hashlib._Hash, kind: str, directory: Path, suffix: str = "") -> None:
    """Each file below ``directory`` whose name ends in ``suffix``, outside ``__pycache__``, in the
    order of its path's parts (as sorted ``Path``s): mlgitops' own files, trusted, read whole.
    Listed with ``os.scandir``, not ``Path.rglob``: half the time, and every compile asks."""
    if not directory.is_dir():
        return
    for name, path in sorted(_files_below(str(directory), "", suffix), key=lambda found: found[0].split("/")):
        with open(path, "rb") as stream:  # noqa: PTH123 (a str path from scandir)
            _update(digest, kind, name, stream.read())


def _files_below(directory: str, relative: str, suffix: str) -> Iterator[tuple[str, str]]:
    """(path relative to the top, path) of each file below ``directory``, ``relative`` to the top."""
    with os.scandir(directory) as entries:
        for entry in entries:
            name = f"{relative}/{entry.name}" if relative else entry.name
            if entry.is_dir():
                if entry.name != "__pycache__":
                    yield from _files_below(entry.path, name, suffix)
            elif entry.name.endswith(suffix) and entry.is_file():
                yield name, entry.path


def _update(digest: hashlib._Hash, kind: str, name: str, data: bytes) -> None:
    digest.update(f"{kind}\0{name}\0{len(data)}\0".encode())
    digest.update(data)


def is_up_to_date(tree: ProjectTree, manifest: Manifest | None, key: str) -> bool:
    """True when the cache records this key and every owned file is still a regular file with
    the size and modification time the last compile left it with."""
    cached = read_cache(tree)
    if manifest is None or cached is None or cached[0] != key:
        return False
    stats = cached[1]
    for path in manifest.files:
        recorded = stats.get(path)
        try:
            # A project below its repository root owns CI files above it, reached by ../ (safefs).
            plain = strip_root_prefix(tree.repo_subdir, path) or path
            info = tree.lstat(path) if path_syntax_problem(plain) is None else None
        except OSError:
            return False
        if info is None or not stat.S_ISREG(info.st_mode) or recorded != [info.st_size, info.st_mtime_ns]:
            return False
    return True
