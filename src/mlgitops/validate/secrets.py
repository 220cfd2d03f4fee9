"""Secret-looking literals anywhere in a spec (MLG310).

Secrets belong in a Kubernetes Secret or the CI's secret store and are
referenced with ``fromSecret`` / ``fromCiSecret``.  The diagnostic never
repeats the suspected secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mlgitops.diagnostics import Diagnostic, make
from mlgitops.load import SourceDocument

_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("an AWS access key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
        ("a GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
        ("a GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
        ("a Slack token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
        ("a Google API key", r"\bAIza[0-9A-Za-z_-]{35}"),
        ("an API secret key", r"\b(?:sk|rk)[-_](?:live_|ant-|proj-)?[A-Za-z0-9_-]{20,}"),
        ("a Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}"),
        ("a private key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
        ("a JSON web token", r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
        ("a password inside a URL", r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"),
        ("a storage account key", r"(?i)AccountKey=[A-Za-z0-9+/=]{20,}"),
    )
)
_SECRET_NAME = re.compile(
    r"(?i)(?:passw(?:or)?d|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)"
)
_NOT_SECRET_NAME = re.compile(r"(?i)(?:_(?:file|path|dir|url|uri|header|name|id|ref|env))$")
# Maps whose keys the user names freely: only there does a key name say "this is a secret".
_FREE_MAPS = frozenset({"env", "params", "annotations", "labels", "nodeSelector"})
_HINT = "reference it instead: {fromSecret: {name: <secret>, key: <key>}} or {fromCiSecret: <NAME>}"


def find_secrets(doc: SourceDocument) -> list[Diagnostic]:
    diagnostics = []
    for path, key_name, value in _strings(doc.data, (), False):
        what = _looks_like_secret(key_name, value)
        if what:
            diagnostics.append(
                make(
                    "MLG310",
                    f"this value looks like {what}; secrets must not be written in specs",
                    doc.locate(path),
                    _HINT,
                )
            )
    return diagnostics


def _looks_like_secret(key_name: str | None, value: str) -> str | None:
    for what, pattern in _SHAPES:
        if pattern.search(value):
            return what
    if (
        key_name is not None
        and value.strip()
        and _SECRET_NAME.search(key_name)
        and not _NOT_SECRET_NAME.search(key_name)
    ):
        return f"a secret (the key {key_name!r} names one)"
    return None


def _strings(
    node: Any, path: tuple[str | int, ...], in_free_map: bool
) -> Iterator[tuple[tuple[str | int, ...], str | None, str]]:
    """Yield (path, the user's key name or None, text) for every string in the data."""
    if isinstance(node, dict):
        for key, value in node.items():
            if in_free_map and isinstance(value, str):
                # Inside env, params, … the key is the user's name for this value.
                yield (*path, key), key, value
            else:
                yield from _strings(value, (*path, key), not in_free_map and key in _FREE_MAPS)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _strings(item, (*path, index), False)
    elif isinstance(node, str):
        yield path, None, node
