"""A small, deterministic YAML emitter for generated files.

mlgitops writes YAML itself instead of through PyYAML's dumper so that the
bytes depend only on the data, never on a library version, and so that every
string that some YAML 1.1 reader (Kubernetes, Argo CD, GitHub) could take for
something else (``yes``, ``on``, ``1.10``, ``2026-11-01``, ``0777``) is quoted.
Output: block style, two-space indentation, keys in the order given, strings
plain only when unambiguous, multi-line strings as ``|`` literals.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring as encode_json_string
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./-]*$")
_YAML11_WORDS = frozenset(
    {
        *("y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO"),
        *("true", "True", "TRUE", "false", "False", "FALSE"),
        *("on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL"),
    }
)
# Characters YAML cannot hold literally (C0/C1 controls, DEL, surrogates, BOM, line/paragraph separators).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff\u2028\u2029]")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_NEEDS_ESCAPE = re.compile(
    '[\\\\"\n\t\r\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff\u2028\u2029]'
)


def dump_documents(documents: Sequence[Any]) -> str:
    """YAML text of several documents, separated by ``---``."""
    return "---\n".join(dump(document) for document in documents)


def dump(document: Any) -> str:
    lines: list[str] = []
    _node(document, 0, lines)
    return "\n".join(lines) + "\n"


def quote(text: str) -> str:
    """A double-quoted YAML scalar that reads back as exactly ``text`` (also valid in flow context)."""
    if len(text) > 64 and not _UNPRINTABLE.search(text):
        # JSON's string escapes are a subset of YAML's, and the C encoder is far faster than a
        # regex callback per character on long texts (e.g. JSON embedded in a ConfigMap). Called
        # directly: json.dumps with an option builds a new encoder object on every call.
        return encode_json_string(text)
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def scalar(value: Any) -> str:
    """One scalar in its canonical spelling."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return _float(value)
    if isinstance(value, str):
        return value if is_plain(value) else quote(value)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _float(value: float) -> str:
    """``repr`` with a dot in the mantissa: YAML 1.1 reads ``1e-05`` as a string, ``1.0e-05`` as a float."""
    text = repr(value)
    mantissa, exponent_mark, exponent = text.partition("e")
    if exponent_mark and "." not in mantissa:
        return f"{mantissa}.0e{exponent}"
    return text


def flow(value: Any) -> str:
    """Single-line flow YAML (also JSON-compatible for strings and numbers)."""
    kind = type(value)
    if kind is dict or (kind not in _SCALAR_TYPES and isinstance(value, Mapping)):
        return "{" + ", ".join(f"{quote(str(k))}: {flow(v)}" for k, v in value.items()) + "}"
    if kind is list or kind is tuple:
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if kind is str:
        return quote(value)
    return scalar(value)


def is_plain(text: str) -> bool:
    return _PLAIN.fullmatch(text) is not None and text not in _YAML11_WORDS  # fullmatch: "a\n" is not plain


@functools.lru_cache(maxsize=8192)
def key(name: str) -> str:
    """Keys repeat endlessly across documents (name, labels, …): their spelling is memoized."""
    return name if is_plain(name) else quote(name)


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    known = _ESCAPES.get(char)
    if known is not None:
        return known
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def literal_ok(text: str) -> bool:
    return (
        "\n" in text
        and not text.startswith((" ", "\t", "\n"))  # the first line sets the block's indentation
        and "\r" not in text
        and not _UNPRINTABLE.search(text)
    )


# Types are compared exactly (``type(x) is dict``): an isinstance check against the Mapping ABC
# costs a slow path on every node, and generated documents hold millions of nodes.
_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _is_mapping(value: Any) -> bool:
    kind = type(value)
    return kind is dict or (kind not in _SCALAR_TYPES and kind is not list and isinstance(value, Mapping))


def text(value: str) -> str:
    """A one-line string's spelling (short ones memoized: namespaces, labels, images repeat in
    every file; long ones rarely do, and would only fill the cache)."""
    return _short_text(value) if len(value) <= 80 else value if is_plain(value) else quote(value)


@functools.lru_cache(maxsize=16384)
def _short_text(value: str) -> str:
    return value if is_plain(value) else quote(value)


def _node(value: Any, indent: int, lines: list[str]) -> None:
    kind = type(value)
    if kind is list or kind is tuple:
        if not value:
            lines.append(" " * indent + "[]")
        _sequence(value, indent, lines, " " * indent)
    elif kind is dict or _is_mapping(value):
        if not value:
            lines.append(" " * indent + "{}")
        _mapping(value, indent, lines, " " * indent)
    elif isinstance(value, str) and literal_ok(value):
        _literal(" " * indent, value, indent + 2, lines)  # a root block scalar's content must be indented too
    else:
        lines.append(" " * indent + scalar(value))


def _mapping(value: Any, indent: int, lines: list[str], first: str) -> None:
    """The entries of a mapping at ``indent``, the first one after ``first`` (its indentation,
    or a list item's ``- `` at the same column)."""
    pad = " " * indent
    append = lines.append
    inner = indent + 2
    for name, item in value.items():
        head = first + key(name if type(name) is str else str(name)) + ":"
        first = pad
        # The commonest entries written here, not in mapping_entry: a call per entry is a fifth
        # of the emitter's time.
        item_kind = type(item)
        if item_kind is str and "\n" not in item:
            append(head + " " + (_short_text(item) if len(item) <= 80 else text(item)))
        elif item_kind is int:
            append(f"{head} {item}")
        elif item_kind is dict and item:
            append(head)
            _mapping(item, inner, lines, " " * inner)
        elif (item_kind is list or item_kind is tuple) and item:
            append(head)
            _sequence(item, inner, lines, " " * inner)
        else:
            mapping_entry(head, item, indent, lines)


def _sequence(value: Any, indent: int, lines: list[str], first: str) -> None:
    """The items of a list at ``indent``, the first one's dash after ``first`` (its indentation,
    or an outer item's ``- ``)."""
    pad = " " * indent
    append = lines.append
    for item in value:
        dash = first + "- "
        first = pad
        item_kind = type(item)
        if item_kind is str and "\n" not in item:
            append(dash + (_short_text(item) if len(item) <= 80 else text(item)))
        elif item_kind is dict and item:
            _mapping(item, indent + 2, lines, dash)
        elif (item_kind is list or item_kind is tuple) and item:
            _sequence(item, indent + 2, lines, dash)
        else:
            start = len(lines)
            list_item(item, indent, lines)
            lines[start] = dash + lines[start][indent + 2 :]


def mapping_entry(head: str, value: Any, indent: int, lines: list[str]) -> None:
    kind = type(value)
    if kind is str or isinstance(value, str):  # a str subclass (engine.Trusted) as its text
        if "\n" in value and literal_ok(value):
            _literal(head + " ", value, indent + 2, lines)
        else:
            lines.append(head + " " + text(value))
    elif kind is list or kind is tuple:
        if value:
            lines.append(head)
            _sequence(value, indent + 2, lines, " " * (indent + 2))
        else:
            lines.append(head + " []")
    elif kind is dict or _is_mapping(value):
        if value:
            lines.append(head)
            _mapping(value, indent + 2, lines, " " * (indent + 2))
        else:
            lines.append(head + " {}")
    else:
        lines.append(f"{head} {scalar(value)}")


def list_item(value: Any, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    kind = type(value)
    if kind is str or isinstance(value, str):
        if "\n" in value and literal_ok(value):
            _literal(pad + "- ", value, indent + 2, lines)
        else:
            lines.append(pad + "- " + text(value))
    elif (kind is list or kind is tuple) and value:
        _sequence(value, indent + 2, lines, pad + "- ")
    elif _is_mapping(value) and value:
        _mapping(value, indent + 2, lines, pad + "- ")
    elif kind is list or kind is tuple or _is_mapping(value):
        lines.append(pad + "- " + flow(value))
    else:
        lines.append(pad + "- " + scalar(value))


def _literal(prefix: str, text: str, indent: int, lines: list[str]) -> None:
    """A ``|`` block scalar; ``prefix`` is what precedes the indicator (``key: ``, ``- ``)."""
    if text.endswith("\n\n"):
        chomp = "+"
    elif text.endswith("\n"):
        chomp = ""
    else:
        chomp = "-"
    body = text[:-1] if text.endswith("\n") else text
    lines.append(f"{prefix}|{chomp}")
    pad = " " * indent
    lines.extend((pad + line) if line else "" for line in body.split("\n"))
