"""Stage 2, load: the strict YAML front door.

Each spec file becomes a :class:`SourceDocument`: the plain Python data
(dicts, lists, str, int, float, bool, None) plus the composed node tree, kept
so that any later stage can turn a data path such as
``("spec", "deployments", "prod", "version")`` into a ``file:line:col``.

Scalars follow the YAML 1.2 core schema, not PyYAML's YAML 1.1 defaults, so
``yes``/``no``/``on``/``off`` stay strings and ``2026-11-01`` stays a string
(the "Norway problem" never reaches a spec).  Parsing and composing run in
libyaml's C code; only the node-to-data walk is Python.

Everything that can go wrong becomes a diagnostic; nothing raises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml._yaml import CParser
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mlgitops.diagnostics import Diagnostic, Location, make

MAX_FILE_BYTES = 1 << 20
MAX_EXPANDED_NODES = 100_000
MAX_DEPTH = 64
# libyaml's composer recurses on the C stack and crashes the interpreter on
# tens of thousands of nested collections, so a document with many openers is
# first measured with the (flat) event stream before it is composed.
_OPENER_BUDGET = 2_000

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ, _MERGE = _TAG + "map", _TAG + "seq", _TAG + "merge"
_TAB_INDENT = re.compile(r"^[ \t]*\t[ \t]*\S", re.MULTILINE)

JsonValue = Any  # what a YAML document becomes: nested dict/list/scalars


class _CoreResolver(yaml.resolver.BaseResolver):
    """Implicit typing per the YAML 1.2 core schema (plus ``<<`` merge keys)."""


for _tag, _pattern, _first in (
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (_NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (_INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        _FLOAT,
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    (_MERGE, r"^<<$", "<"),
):
    _CoreResolver.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


class _StrictLoader(CParser, _CoreResolver):
    """libyaml's parser and composer with the core-schema resolver."""

    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        _CoreResolver.__init__(self)


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """One loaded YAML file: its data and the means to locate any part of it."""

    path: Path
    display: str
    text: str
    root: Node
    data: dict[str, JsonValue]

    def locate(self, data_path: Sequence[str | int], *, key: bool = False) -> Location:
        """Location of the value at ``data_path`` (or of its key when ``key``).

        A path that runs past what exists points at the key of the deepest part
        that does (its value when it has no key), which is where a missing field
        belongs.
        """
        node: Node = self.root
        mark = node.start_mark
        key_mark = None
        for step in data_path:
            found = _child(node, step)
            if found is None:
                mark = key_mark or mark
                break
            key_node, node = found
            key_mark = key_node.start_mark if key_node is not None else None
            mark = key_mark if key and key_mark is not None else node.start_mark
        return _at(self.display, mark)

    def node_at(self, data_path: Sequence[str | int]) -> Node | None:
        """The node of the value at ``data_path``, or None when the path does not exist."""
        node: Node = self.root
        for step in data_path:
            found = _child(node, step)
            if found is None:
                return None
            node = found[1]
        return node

    def location(self) -> Location:
        return Location(self.display, 1, 1)


def _child(node: Node, step: str | int) -> tuple[Node | None, Node] | None:
    if isinstance(node, SequenceNode) and isinstance(step, int):
        return (None, node.value[step]) if 0 <= step < len(node.value) else None
    if isinstance(node, MappingNode):
        # Later keys win, as they do in construction; merged mappings come last.
        merged: list[Node] = []
        for key_node, value_node in reversed(node.value):
            if key_node.tag == _MERGE:
                merged.extend(value_node.value if isinstance(value_node, SequenceNode) else [value_node])
            elif isinstance(key_node, ScalarNode) and key_node.value == str(step):
                return key_node, value_node
        for source in merged:
            found = _child(source, step)
            if found is not None:
                return found
    return None


def _at(display: str, mark: Any) -> Location:
    """Location of a libyaml mark (0-based) as a 1-based line and column."""
    if mark is None:
        return Location(display, 1, 1)
    return Location(display, mark.line + 1, mark.column + 1)


class _LoadProblem(Exception):
    """Internal signal: stop composing this document and report ``diagnostic``."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def load_document(path: Path, display: str) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Read, parse and construct one YAML file strictly."""
    start = Location(display, 1, 1)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                make(
                    "MLG102",
                    f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} (1 MiB)",
                    start,
                    "split the spec or move large data out of it",
                )
            ]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [
            make("MLG113", f"cannot read file: {exc.strerror or exc}", start, "check the file's permissions")
        ]
    return load_text(raw, path, display)


def load_text(raw: bytes, path: Path, display: str) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Parse and construct ``raw`` (the bytes of ``path``) strictly."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Everything before the first bad byte decodes: count lines and columns in characters.
        before = raw[: exc.start].decode("utf-8")
        line, column = _position(before, len(before))
        return None, [
            make(
                "MLG101",
                f"byte 0x{raw[exc.start]:02x} at offset {exc.start} is not valid UTF-8",
                Location(display, line, column),
                "save the file as UTF-8",
            )
        ]
    text = text.removeprefix("\ufeff")
    if "\t" in text:
        tab = _TAB_INDENT.search(text)
        if tab is not None:
            line, column = _position(text, text.index("\t", tab.start()))
            return None, [
                make(
                    "MLG106",
                    "tab character in indentation",
                    Location(display, line, column),
                    "YAML indentation must use spaces; replace the tab with spaces",
                )
            ]
    try:
        root = _compose(text, display)
        data = _Constructor(display).construct_root(root)
    except _LoadProblem as problem:
        return None, [problem.diagnostic]
    return SourceDocument(path, display, text, root, data), []


def _compose(text: str, display: str) -> Node:
    if text.count("[") + text.count("{") + text.count("- ") > _OPENER_BUDGET:
        _check_depth(text, display)
    loader = _StrictLoader(text)
    try:
        root = loader.get_node() if loader.check_node() else None
        if root is not None and loader.check_node():
            extra = loader.get_node()
            raise _LoadProblem(
                make(
                    "MLG107",
                    "this file holds more than one YAML document",
                    _extra_document(text, display, extra),
                    "keep one spec per file; remove the extra '---' document",
                )
            )
    except yaml.YAMLError as exc:
        raise _LoadProblem(_syntax_diagnostic(exc, text, display)) from None
    finally:
        loader.dispose()
    if root is None or (isinstance(root, ScalarNode) and root.tag == _NULL and not root.value):
        raise _LoadProblem(
            make("MLG108", "the file is empty", Location(display, 1, 1), "a spec is a YAML mapping")
        )
    if not isinstance(root, MappingNode):
        line, column = _clamp(text, root.start_mark.line + 1, root.start_mark.column + 1)
        raise _LoadProblem(
            make(
                "MLG108",
                "the document is not a mapping",
                Location(display, line, column),
                "a spec starts with 'apiVersion: mlgitops/v1' and 'kind: ...'",
            )
        )
    return root


def _extra_document(text: str, display: str, extra: Node | None) -> Location:
    """Where a second document starts: the '---' before its content."""
    lines = _LINE_BREAK.split(text)
    line = extra.start_mark.line + 1 if extra is not None else len(lines)
    for number in range(min(line, len(lines)), 0, -1):
        if lines[number - 1].startswith("---"):
            return Location(display, number, 1)
    line, column = _clamp(text, line, 1)
    return Location(display, line, column)


def _check_depth(text: str, display: str) -> None:
    depth = 0
    parser = CParser(text)
    try:
        while (event := parser.get_event()) is not None:
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    raise _LoadProblem(_too_deep(_at(display, mark)))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError as exc:
        raise _LoadProblem(_syntax_diagnostic(exc, text, display)) from None
    finally:
        parser.dispose()


def _too_deep(location: Location) -> Diagnostic:
    return make(
        "MLG114",
        f"the document nests deeper than {MAX_DEPTH} levels",
        location,
        "no mlgitops spec nests this deep; flatten the structure",
    )


def _syntax_diagnostic(exc: yaml.YAMLError, text: str, display: str) -> Diagnostic:
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    context = getattr(exc, "context", None)
    mark = problem_mark or context_mark
    if context == "while scanning a simple key" and context_mark is not None:
        mark = context_mark  # a key without ':' is reported where the next line starts
    hint = "look for an unclosed bracket or quote, a missing ':' after a key, or inconsistent indentation"
    if mark is not None:
        line, column = _clamp(text, mark.line + 1, mark.column + 1)
        message = str(getattr(exc, "problem", None) or exc)
        if context and context_mark is not None and context_mark is not mark:
            message += f" ({context} at line {context_mark.line + 1}, column {context_mark.column + 1})"
        elif context:
            message += f" ({context})"
    elif isinstance(exc, yaml.reader.ReaderError):
        # libyaml reports the offset in bytes of the UTF-8 encoding.
        offset = len(text.encode("utf-8")[: exc.position].decode("utf-8", errors="ignore"))
        line, column = _position(text, offset)
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = f"character U+{char:04X} is not allowed in YAML"
        hint = "remove the control character; most editors do not show it"
    else:
        line, column, message = 1, 1, str(exc)
    return make("MLG103", f"YAML syntax error: {message}", Location(display, line, column), hint)


# Line breaks as libyaml counts them (its marks are what most locations come from).
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of the character at ``offset`` of ``text``."""
    line, start = 1, 0
    for found in _LINE_BREAK.finditer(text, 0, offset):
        line, start = line + 1, found.end()
    return line, offset - start + 1


def _clamp(text: str, line: int, column: int) -> tuple[int, int]:
    """Keep a position inside the text: the end of the stream becomes the end of the last line."""
    lines = _LINE_BREAK.split(text)
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # the final line break does not start another line
    if line > len(lines):
        return len(lines), len(lines[-1]) + 1
    return line, min(column, len(lines[line - 1]) + 1)


class _Constructor:
    """Node tree → plain data, counting alias expansion and depth as it goes."""

    def __init__(self, display: str) -> None:
        self.display = display
        # Shared (aliased) nodes are built once: id(node) → (data, expanded size).
        self.memo: dict[int, tuple[JsonValue, int]] = {}
        self.in_progress: set[int] = set()

    def construct_root(self, root: Node) -> dict[str, JsonValue]:
        data, size = self.build(root, 1)
        if size > MAX_EXPANDED_NODES:
            raise self._problem(
                "MLG105",
                f"aliases expand this document to {size:,} nodes; the limit is {MAX_EXPANDED_NODES:,}",
                root,
                "this looks like an alias bomb; write the values out or share fewer of them",
            )
        assert isinstance(data, dict)
        return data

    def _problem(self, code: str, message: str, node: Node, hint: str | None = None) -> _LoadProblem:
        mark = node.start_mark
        return _LoadProblem(make(code, message, _at(self.display, mark), hint))

    def build(self, node: Node, depth: int) -> tuple[JsonValue, int]:
        key = id(node)
        cached = self.memo.get(key)
        if cached is not None:
            return cached
        if key in self.in_progress:
            raise self._problem("MLG105", "an alias refers to a collection that contains it", node)
        if depth > MAX_DEPTH:
            raise _LoadProblem(_too_deep(_at(self.display, node.start_mark)))
        if isinstance(node, ScalarNode):
            return self._scalar(node), 1
        self.in_progress.add(key)
        if isinstance(node, SequenceNode):
            self._expect_tag(node, _SEQ)
            items, size = [], 1
            for child in node.value:
                value, child_size = self.build(child, depth + 1)
                items.append(value)
                size += child_size
            result: tuple[JsonValue, int] = (items, size)
        else:
            assert isinstance(node, MappingNode)
            self._expect_tag(node, _MAP)
            result = self._mapping(node, depth)
        self.in_progress.discard(key)
        if result[1] > MAX_EXPANDED_NODES:
            raise self._problem(
                "MLG105",
                f"aliases expand this collection past {MAX_EXPANDED_NODES:,} nodes",
                node,
                "this looks like an alias bomb; write the values out or share fewer of them",
            )
        self.memo[key] = result
        return result

    def _mapping(self, node: MappingNode, depth: int) -> tuple[dict[str, JsonValue], int]:
        own: dict[str, JsonValue] = {}
        merged: dict[str, JsonValue] = {}
        size = 1
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, MappingNode):
                        raise self._problem("MLG103", "'<<' merges only mappings", source)
                    data, merged_size = self.build(source, depth + 1)
                    size += merged_size
                    for merged_key, merged_value in data.items():
                        merged.setdefault(merged_key, merged_value)
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                raise self._problem(
                    "MLG112",
                    "mapping keys must be plain strings",
                    key_node,
                    "write the key as text",
                )
            name = key_node.value
            if name in own:
                raise self._problem(
                    "MLG104",
                    f"duplicate key {name!r}",
                    key_node,
                    "YAML would silently keep only the last value; remove one of them",
                )
            value, child_size = self.build(value_node, depth + 1)
            own[name] = value
            size += child_size
        if merged:
            merged.update(own)
            return merged, size
        return own, size

    def _expect_tag(self, node: Node, tag: str) -> None:
        if node.tag != tag:
            raise self._problem("MLG111", f"unsupported YAML tag {_shown_tag(node.tag)}", node, _TAG_HINT)

    def _scalar(self, node: ScalarNode) -> JsonValue:
        tag, value = node.tag, node.value
        if tag == _STR:
            return value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return value.lower() == "true"
        if tag == _INT:
            try:
                return int(value, 0) if value[:2] in ("0o", "0x") else int(value, 10)
            except ValueError:
                raise self._problem("MLG103", f"{value!r} is not an integer", node) from None
        if tag == _FLOAT:
            try:
                lowered = value.lower()
                if lowered.endswith(".nan"):
                    return math.nan
                return float(lowered.replace(".inf", "inf"))
            except ValueError:
                raise self._problem("MLG103", f"{value!r} is not a number", node) from None
        raise self._problem("MLG111", f"unsupported YAML tag {_shown_tag(tag)}", node, _TAG_HINT)


def _shown_tag(tag: str) -> str:
    """A tag as the user wrote it: ``tag:yaml.org,2002:binary`` → ``'!!binary'``."""
    return repr("!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag)


_SCALAR_TAGS = frozenset({_STR, _INT, _FLOAT, _BOOL, _NULL})
_TAG_HINT = "only plain YAML (mappings, lists, strings, numbers, booleans, null) is accepted"


def parse_documents(text: str) -> tuple[list[JsonValue], tuple[str, int] | None]:
    """Parse generated (not user-written) YAML that may hold several documents.

    Used to read rendered templates back: same scalar rules and strictness as
    specs, but any number of documents and any root type.  Returns the
    documents, or a problem as (message, 1-based line).
    """
    if text.count("[") + text.count("{") + text.count("- ") > _OPENER_BUDGET:
        try:
            _check_depth(text, "<rendered>")
        except _LoadProblem as problem:
            location = problem.diagnostic.location
            return [], (problem.diagnostic.message, location.line if location else 1)
    loader = _StrictLoader(text)
    documents: list[JsonValue] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data, _size = _Constructor("<rendered>").build(node, 1)
            documents.append(data)
    except yaml.YAMLError as exc:
        diagnostic = _syntax_diagnostic(exc, text, "<rendered>")
        return [], (diagnostic.message, diagnostic.location.line if diagnostic.location else 1)
    except _LoadProblem as problem:
        location = problem.diagnostic.location
        return [], (problem.diagnostic.message, location.line if location else 1)
    finally:
        loader.dispose()
    return documents, None
