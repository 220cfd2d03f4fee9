"""Secret-looking literals anywhere in a spec (MLG310).

Secrets belong in a Kubernetes Secret or the CI's secret store and are
referenced with ``fromSecret`` / ``fromCiSecret``.  The diagnostic never
repeats the suspected secret.
"""

from __future__ import annotations

import itertools
import re
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
        # Mixed case and a digit: real keys are random, "sk-classifier-production" is not.
        (
            "an API secret key",
            r"\b(?:sk|rk)[-_](?:live_|test_|ant-|proj-)?"
            r"(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,}",
        ),
        ("a Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}"),
        ("a private key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
        ("a JSON web token", r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
        # user:password@ in a URL, unless the password is a placeholder: ${VAR}, $(VAR), {{ x }}, %(x)s
        ("a password inside a URL", r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:(?![$%]|\{\{)[^/\s@]+@"),
        # Password=… / PWD=… in an ADO.NET, ODBC or JDBC connection string (or a query string)
        (
            "a password in a connection string",
            r"(?i:(?<![A-Za-z0-9_])(?:password|passwd|pwd)[ \t]*=[ \t]*)"
            r"(?!['\"]?(?:[$%<]|\{\{))(?![;&\s]|$|''|\"\")",
        ),
        ("a storage account key", r"(?i:AccountKey)=[A-Za-z0-9+/=]{20,}"),
    )
)
# The literal part every shape starts with (or, for URLs, contains), in pieces: each piece
# but the last two starts with a literal, which the regex engine looks for first, where the
# alternation of them all would be tried at every position of the text (the whole file is
# scanned, so this counts); the full shapes above only run on text that holds one of them.
_SHAPE_PIECES = tuple(
    re.compile(piece)
    for piece in (
        r"A(?:KIA|SIA|Iza)",
        r"g(?:h[pousr]_|ithub_pat_)",
        r"glpat-",
        r"xox[abprs]-",
        r"hf_",
        r"PRIVATE KEY",
        r"eyJ",
        r"://[^/\s:@]*:[^/\s@]+@",
    )
)
_KEY_PREFIX = re.compile(r"[sr]k[-_]")  # searched for where "k-" or "k_" is
# searched for where the casefolded text holds one of _FOLDED_WORDS (the regex ignores case,
# so "ſ" and the Kelvin sign count as s and k, as they do in the casefolded text)
_FOLDED_PIECE = re.compile(r"(?i:accountkey=|(?:passwd|password|pwd)[ \t]*=)")
_FOLDED_WORDS = ("accountkey=", "passw", "pwd")
_ANY_SHAPE = re.compile("|".join(piece.pattern for piece in (*_SHAPE_PIECES, _KEY_PREFIX, _FOLDED_PIECE)))
# A variable or parameter is secret when a word of its name says so: DB_PASSWORD,
# apiKey, client-secret; not TOKENIZERS_PARALLELISM, max_tokens or SECRET_NAME.
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SECRET_WORDS = frozenset(
    {"password", "passwd", "passphrase", "secret", "token", "apikey", "credential", "credentials"}
)
_SECRET_PAIRS = frozenset({("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key")})
# A last word that makes the value a pointer to a secret, not the secret itself.
_REFERENCE_WORDS = frozenset(
    {"file", "path", "dir", "url", "uri", "header", "name", "id", "ref", "env", "endpoint", "host", "type"}
)
_HARMLESS_VALUES = frozenset({"", "true", "false", "yes", "no", "on", "off", "none", "null"})
# Maps whose keys the user names freely: only there does a key name say "this is a secret".
# (Annotations and labels are left to the shape checks: their keys are other tools' settings,
# such as vault.hashicorp.com/agent-inject-secret-db, whose values are paths, not secrets.)
_FREE_MAPS = frozenset({"env", "params"})
_REFERENCE = "{fromSecret: {name: <secret>, key: <key>}} or {fromCiSecret: <NAME>}"
# Only env maps take a secret reference; elsewhere the hint says where the secret can go.
_HINTS = {
    "env": f"reference it instead: {_REFERENCE}",
    "params": "training.params take no secret references (each becomes a --name=value argument): "
    f"move it to training.env as {_REFERENCE} and read it from the environment",
    "args": f"args take no secret references: pass it in env as {_REFERENCE} and read the variable",
}
_ELSEWHERE = (
    "this field takes no secret reference: keep the secret in a Kubernetes Secret or the CI's "
    f"secret store and hand it to the workload through env as {_REFERENCE}"
)


def find_secrets(doc: SourceDocument) -> list[Diagnostic]:
    diagnostics = []
    # One scan of the whole file answers "could any value have a secret's shape?";
    # escape sequences in quoted scalars are the only way a shape could hide from it.
    shapes = _holds_shape(doc.text) or "\\" in doc.text
    for path, key_name, free_map, value in _strings(doc.data, (), None, every_string=shapes):
        what = _looks_like_secret(key_name, value, free_map, shapes=shapes)
        if what:
            diagnostics.append(
                make(
                    "MLG310",
                    f"this value looks like {what}; secrets must not be written in specs",
                    doc.locate(path),
                    _hint(path, free_map),
                )
            )
    return diagnostics


def _holds_shape(text: str) -> bool:
    """``_ANY_SHAPE.search(text) is not None``, a piece at a time (see _SHAPE_PIECES)."""
    if any(piece.search(text) for piece in _SHAPE_PIECES):
        return True
    if ("k-" in text or "k_" in text) and _KEY_PREFIX.search(text):
        return True
    folded = text.casefold()
    return any(word in folded for word in _FOLDED_WORDS) and _FOLDED_PIECE.search(text) is not None


def _hint(path: tuple[str | int, ...], free_map: str | None) -> str:
    """Where the secret can go instead, for the field ``path`` (an env or params value when
    ``free_map`` says so): only env maps take a reference."""
    if free_map is not None:
        return _HINTS[free_map]
    if len(path) >= 2 and path[-2] == "args":
        return _HINTS["args"]
    return _ELSEWHERE


def secret_shape(value: str) -> str | None:
    """What ``value`` looks like, if it has a secret's shape (a token, a key, a password)."""
    return _looks_like_secret(None, value)


def _looks_like_secret(
    key_name: str | None, value: str, free_map: str | None = "env", *, shapes: bool = True
) -> str | None:
    """What ``value`` looks like, if a secret; ``key_name`` is its name in an env or params map."""
    if shapes and _ANY_SHAPE.search(value) is not None:  # one scan for the common case: no shape
        for what, pattern in _SHAPES:
            if pattern.search(value):
                return what
    if (
        key_name is not None
        and _names_secret(key_name, free_map)
        and value.strip().lower() not in _HARMLESS_VALUES
    ):
        return f"a secret (the key {key_name!r} names one)"
    return None


def _names_secret(name: str, free_map: str | None = "env") -> bool:
    words = [w.lower() for w in _WORD.findall(name)]
    if not words or words[-1] in _REFERENCE_WORDS:
        return False
    # In hyper-parameters "token" is language-model vocabulary (pad_token: "[PAD]").
    secret_words = _SECRET_WORDS - {"token"} if free_map == "params" else _SECRET_WORDS
    return any(w in secret_words for w in words) or any(
        pair in _SECRET_PAIRS for pair in itertools.pairwise(words)
    )


def _strings(
    data: Any, path: tuple[str | int, ...], free_map: str | None, *, every_string: bool = True
) -> list[tuple[tuple[str | int, ...], str | None, str | None, str]]:
    """(path, the user's key name or None, the env/params map it is in, text), in document order.

    With ``every_string`` false only the values of env and params maps are listed
    (the only strings whose key name can make them secret).
    """
    found: list[tuple[tuple[str | int, ...], str | None, str | None, str]] = []
    _collect(data, path, free_map, found, every_string)
    return found


def _collect(
    node: Any,
    path: tuple[str | int, ...],
    free_map: str | None,
    found: list[tuple[tuple[str | int, ...], str | None, str | None, str]],
    every_string: bool,
) -> None:
    # type() rather than isinstance: the loader builds plain dicts, lists and strings, and this
    # runs over every value of every spec file (as numbers.py's walk does).
    if type(node) is dict:
        for key, value in node.items():
            kind = type(value)
            if free_map is not None and kind is str:
                # Inside env and params the key is the user's name for this value.
                found.append(((*path, key), key, free_map, value))
            elif kind is dict or kind is list:
                inner = key if free_map is None and key in _FREE_MAPS else None
                _collect(value, (*path, key), inner, found, every_string)
            elif every_string and kind is str:
                found.append(((*path, key), None, None, value))
    elif type(node) is list:
        for index, item in enumerate(node):
            kind = type(item)
            if kind is dict or kind is list:
                _collect(item, (*path, index), None, found, every_string)
            elif every_string and kind is str:
                found.append(((*path, index), None, None, item))
