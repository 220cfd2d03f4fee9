"""Reusing the per-model files of the previous compile.

A model's files from the per-model targets are a pure function of the model's
IR, the project's settings, the built-in templates and mlgitops itself.  After
a compile, ``.mlgitops/render-cache.json`` (git-ignored) records for each model
a hash of its IR and the path and SHA-256 of each of its files.  The next
compile (or ``diff``) takes a model's files from disk instead of rendering them
when its IR hash is unchanged and every file still has its recorded hash, so a
change to one model renders one model.  ``check`` never uses this: it renders
everything, since it exists to catch what differs on disk; it writes it, though, for
the ``diff`` or ``compile`` that follows it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from json.encoder import encode_basestring_ascii as encode_string
from pathlib import Path
from typing import Any, TypeVar

from mlgitops import ir
from mlgitops.emit.manifest import sha256
from mlgitops.emit.safefs import ProjectTree
from mlgitops.emit.state import RENDER_CACHE_PATH, read_sealed, write_local
from mlgitops.emit.territory import MAX_OUTPUT_BYTES, Territory
from mlgitops.ir import digest
from mlgitops.targets.base import GeneratedPath, OutputFile

F = TypeVar("F")


def _digest(value: Any) -> str:
    # The IR is frozen dataclasses, tuples and scalars: its repr is complete and stable.
    return hashlib.sha256(repr(value).encode()).hexdigest()


def model_digest(model: ir.Model) -> str:
    """What the cache records of a model's IR (worked out where the model is rendered)."""
    return digest.model_digest(model)


def settings_digest(project: ir.Project, renderer: str) -> str:
    return _digest((renderer, dataclasses.replace(project, models=(), retired=())))


def load(
    root: Path,
    project: ir.Project,
    renderer: str,
    keep: Callable[[OutputFile], F],
) -> dict[str, tuple[F, ...]]:
    """The files of each model whose IR and files are as the cache recorded them, each passed
    through ``keep`` as it is read."""
    try:
        opened = ProjectTree(root, project.repo_subdir)
    except OSError:  # the repository root above cannot be reached safely: render everything
        return {}
    with opened as tree:
        data = read_sealed(tree, RENDER_CACHE_PATH)
        if data is None:
            return {}
        try:
            document: Any = json.loads(data)
            if document["settings"] != settings_digest(project, renderer):
                return {}
            entries: Mapping[str, Any] = document["models"]
            reusable: dict[str, tuple[F, ...]] = {}
            territory = Territory.of(project.output, repo_subdir=project.repo_subdir)
            for model in project.models:
                entry = entries.get(model.name)
                if not isinstance(entry, dict) or entry.get("ir") != model_digest(model):
                    continue
                files = _files(tree, territory, model, entry.get("files"), keep)
                if files is not None:
                    reusable[model.name] = files
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return {}
    return reusable


def _files(
    tree: ProjectTree, territory: Territory, model: ir.Model, recorded: Any, keep: Callable[[OutputFile], F]
) -> tuple[F, ...] | None:
    """The model's recorded files, if each is a file mlgitops may write and still holds what
    was recorded (the cache is not trusted to name paths: a forged one could name any)."""
    if not isinstance(recorded, list):
        return None
    files: list[F] = []
    for item in recorded:
        try:
            path, digest, environment = item
            if not isinstance(path, str) or territory.refusal(path) is not None:
                return None
            data = tree.read(path, MAX_OUTPUT_BYTES)
        except (OSError, ValueError, TypeError):
            return None
        if sha256(data) != digest:
            return None  # changed on disk since: render the model again
        files.append(keep(OutputFile(path, data.decode("utf-8"), model.source, environment)))
    return tuple(files)


def save(
    tree: ProjectTree,
    project: ir.Project,
    renderer: str,
    by_model: Mapping[str, Sequence[GeneratedPath]],
    hashes: Mapping[str, str],
    digests: Mapping[str, str],
) -> None:
    """``digests``: :func:`model_digest` of the models, where known (the others are worked out)."""
    # Written as text, the JSON json.dumps would give (but for the order of the models): a
    # document of lists and dicts for 17,000 files, dumped, took half as long again.
    environments = {e.name: encode_string(e.name) for e in project.environments} | {None: "null"}
    entries: list[bytes] = []  # each model's, with separators
    for model in project.models:
        files = by_model.get(model.name)
        if files is None:
            continue
        try:
            # the SHA-256s are the hex digits mlgitops wrote, which need no escaping
            listed = ", ".join(
                [
                    f'[{encode_string(f.path)}, "{hashes[f.path]}", {environments[f.environment]}]'
                    for f in files
                ]
            )
        except KeyError:  # a file not written (or of no environment known): rendered again next time
            continue
        digest = digests.get(model.name) or model_digest(model)
        if entries:
            entries.append(b", ")
        entries.append(f'{encode_string(model.name)}: {{"files": [{listed}], "ir": "{digest}"}}'.encode())
    settings = f'}}, "settings": "{settings_digest(project, renderer)}"}}\n'.encode()
    # ASCII bytes, joined once: megabytes, each further copy of which adds to a compile's peak memory
    document = b"".join([b'{"models": {', *entries, settings])
    # Written aside and moved into place (best effort): ``check`` writes it without the compile
    # lock, and a reader must see one whole file, never two writers' text interleaved.
    write_local(tree, RENDER_CACHE_PATH, document)
