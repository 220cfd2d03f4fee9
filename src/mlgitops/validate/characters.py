"""Text kustomize would change: U+0085 (NEL) is refused wherever a spec holds text.

Argo CD and Flux build every environment with kustomize, whose YAML reader takes NEL for a
line break: a description, owner, route or argument holding one reaches the cluster with a
space in its place (``kubectl kustomize`` v5.5 shows it; tests/test_hostile_strings.py found
it). A raw NEL in a file is a line break to our YAML reader too, so only an escape (``\\x85``,
``\\N``, ``\\u0085``) can put one in a value; the text is searched for those first, and the
data walked only when one is there.
"""

from __future__ import annotations

from typing import Any

from mlgitops.diagnostics import Diagnostic, make
from mlgitops.load import SourceDocument
from mlgitops.validate.numbers import DataPath

NEL = "\x85"
_ESCAPES = ("\\x85", "\\N", "\\u0085", "\\U00000085")


def nel_paths(doc: SourceDocument) -> list[DataPath]:
    """The data paths of every key or text in ``doc`` holding NEL, in document order."""
    if not any(escape in doc.text for escape in _ESCAPES):
        return []
    found: list[DataPath] = []
    _collect(doc.data, (), found)
    return found


def _collect(node: Any, path: DataPath, found: list[DataPath]) -> None:
    items = node.items() if type(node) is dict else enumerate(node)
    for step, value in items:
        if (type(step) is str and NEL in step) or (type(value) is str and NEL in value):
            found.append((*path, step))
        elif type(value) is dict or type(value) is list:
            _collect(value, (*path, step), found)


def nel_diagnostic(doc: SourceDocument, path: DataPath, where: str) -> Diagnostic:
    """MLG210 for the key or text at ``path`` (``where``: the path spelt for the message)."""
    return make(
        "MLG210",
        f"{where}: the text holds U+0085 (NEL), which kustomize turns into a space",
        doc.locate(path),
        "Argo CD and Flux build each environment with kustomize, whose YAML reader takes NEL for a "
        "line break; write a space or \\n instead",
    )
