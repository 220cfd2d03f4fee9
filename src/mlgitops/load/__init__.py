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

import re
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from mlgitops.boundedread import ReadRefused, TooLarge, read_bounded
from mlgitops.diagnostics import Diagnostic, Location, make
from mlgitops.load.document import SourceDocument
from mlgitops.load.problems import (
    LINE_BREAK,
    MAX_DEPTH,
    LoadProblem,
    check_depth,
    clamp,
    position,
    syntax_diagnostic,
)
from mlgitops.load.yamlcore import (
    MAX_EXPANDED_NODES,
    NULL,
    OPENER_BUDGET,
    Constructor,
    JsonValue,
    StrictLoader,
    parse_documents,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPANDED_NODES",
    "MAX_FILE_BYTES",
    "JsonValue",
    "SourceDocument",
    "best_effort_text",
    "load_document",
    "load_text",
    "parse_documents",
]

MAX_FILE_BYTES = 1 << 20
_TAB_INDENT = re.compile(r"^[ \t]*\t[ \t]*\S", re.MULTILINE)


def load_document(path: Path, display: str) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Read (at most :data:`MAX_FILE_BYTES`), parse and construct one YAML file strictly."""
    start = Location(display, 1, 1)
    try:
        raw = read_bounded(path, MAX_FILE_BYTES)
    except TooLarge as exc:
        return None, [
            make(
                "MLG102",
                f"file {exc.reason} (1 MiB)",
                start,
                "split the spec or move large data out of it",
            )
        ]
    except ReadRefused as exc:
        return None, [make("MLG113", f"file {exc.reason}", start, "check the file's permissions")]
    return load_text(raw, path, display)


def best_effort_text(path: Path) -> str:
    """The file's text for showing context next to a load error (never raises, never reads much)."""
    try:
        return read_bounded(path, MAX_FILE_BYTES).decode("utf-8", errors="replace")
    except ReadRefused:
        return ""


def load_text(raw: bytes, path: Path, display: str) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Parse and construct ``raw`` (the bytes of ``path``) strictly."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Everything before the first bad byte decodes: count lines and columns in characters.
        before = raw[: exc.start].decode("utf-8")
        line, column = position(before, len(before))
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
            line, column = position(text, text.index("\t", tab.start()))
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
        data = Constructor(display).construct_root(root)
    except LoadProblem as problem:
        return None, [problem.diagnostic]
    return SourceDocument(path, display, text, data, root), []


def _compose(text: str, display: str) -> Node:
    if text.count("[") + text.count("{") + text.count("- ") > OPENER_BUDGET:
        check_depth(text, display)
    loader = StrictLoader(text)
    try:
        root = loader.get_node() if loader.check_node() else None
        if root is not None and loader.check_node():
            extra = loader.get_node()
            raise LoadProblem(
                make(
                    "MLG107",
                    "this file holds more than one YAML document",
                    _extra_document(text, display, extra),
                    "keep one spec per file; remove the extra '---' document",
                )
            )
    except yaml.YAMLError as exc:
        raise LoadProblem(syntax_diagnostic(exc, text, display)) from None
    finally:
        loader.dispose()
    if root is None or (isinstance(root, ScalarNode) and root.tag == NULL and not root.value):
        raise LoadProblem(
            make("MLG108", "the file is empty", Location(display, 1, 1), "a spec is a YAML mapping")
        )
    if not isinstance(root, MappingNode):
        line, column = clamp(text, root.start_mark.line + 1, root.start_mark.column + 1)
        raise LoadProblem(
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
    lines = LINE_BREAK.split(text)
    line = extra.start_mark.line + 1 if extra is not None else len(lines)
    for number in range(min(line, len(lines)), 0, -1):
        if lines[number - 1].startswith("---"):
            return Location(display, number, 1)
    line, column = clamp(text, line, 1)
    return Location(display, line, column)
