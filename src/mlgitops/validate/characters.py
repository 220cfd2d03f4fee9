"""Text that kustomize cannot carry exactly is refused wherever a spec holds text (MLG210).

Argo CD and Flux build every environment with kustomize, and kustomize's YAML (go-yaml, in
kubectl's kustomize v5.5) mishandles two kinds of text that are valid YAML
(tests/test_hostile_strings.py found both):

* U+0085 (NEL) is read as a line break and written back as a space, so a description, owner,
  route or argument holding one reaches the cluster changed;
* a text that begins with a tab and spans lines is written back in a form kustomize then
  refuses to read ("found a tab character where an indentation space is expected"): the
  whole environment fails to build.

A raw NEL or tab in a file means something else to our YAML reader (a line break; indentation
or a plain character), so the file's text is searched first for what can put one in a value
(an escape, or a tab at all), and the data walked only when that is there.
"""

from __future__ import annotations

from typing import Any

from mlgitops.diagnostics import Diagnostic, make
from mlgitops.load import SourceDocument
from mlgitops.validate.numbers import DataPath

NEL = "\x85"
_SIGNS = ("\\x85", "\\N", "\\u0085", "\\U00000085", "\\t", "\\x09", "\\u0009", "\t")


def unfaithful_paths(doc: SourceDocument) -> list[tuple[DataPath, str]]:
    """The data path of every key or text in ``doc`` that kustomize would change or refuse, with
    what is wrong with it, in document order."""
    if not any(sign in doc.text for sign in _SIGNS):
        return []
    found: list[tuple[DataPath, str]] = []
    _collect(doc.data, (), found)
    return found


def _problem(text: str) -> str | None:
    if NEL in text:
        return "holds U+0085 (NEL), which kustomize turns into a space"
    if text.startswith("\t") and "\n" in text:
        return "begins with a tab and spans lines, which kustomize cannot read back"
    return None


def _collect(node: Any, path: DataPath, found: list[tuple[DataPath, str]]) -> None:
    items = node.items() if type(node) is dict else enumerate(node)
    for step, value in items:
        problem = (_problem(step) if type(step) is str else None) or (
            _problem(value) if type(value) is str else None
        )
        if problem is not None:
            found.append(((*path, step), problem))
        elif type(value) is dict or type(value) is list:
            _collect(value, (*path, step), found)


def unfaithful_diagnostic(doc: SourceDocument, path: DataPath, problem: str, where: str) -> Diagnostic:
    """MLG210 for the key or text at ``path`` (``where``: the path spelt for the message)."""
    return make(
        "MLG210",
        f"{where}: the text {problem}",
        doc.locate(path),
        "Argo CD and Flux build each environment with kustomize, which mishandles this text; "
        "write a space or \\n for NEL, and no tab before the first character of a multi-line text",
    )
