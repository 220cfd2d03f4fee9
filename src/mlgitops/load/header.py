"""The first two keys of every spec file: they decide which schema applies."""

from __future__ import annotations

from mlgitops.diagnostics import Diagnostic, make
from mlgitops.discover import API_VERSION
from mlgitops.load.document import SourceDocument


def check_header(doc: SourceDocument, kind: str, diagnostics: list[Diagnostic]) -> bool:
    """apiVersion and kind decide which schema applies, so they are checked first."""
    api_version, actual_kind = doc.data.get("apiVersion"), doc.data.get("kind")
    if api_version != API_VERSION:
        shown = "is missing" if api_version is None else f"is {api_version!r}"
        diagnostics.append(
            make(
                "MLG109",
                f"apiVersion {shown}; this mlgitops reads {API_VERSION!r}",
                doc.locate(("apiVersion",)),
                f"start the file with 'apiVersion: {API_VERSION}'",
            )
        )
        return False
    if actual_kind != kind:
        shown = "is missing" if actual_kind is None else f"is {actual_kind!r}"
        expected = "the project file" if kind == "Project" else "a model file"
        diagnostics.append(
            make(
                "MLG110",
                f"kind {shown}; {expected} must have 'kind: {kind}'",
                doc.locate(("kind",)),
                "model specs live under the include patterns, the project in mlgitops.yaml",
            )
        )
        return False
    return True
