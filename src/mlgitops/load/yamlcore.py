"""libyaml with YAML 1.2 core-schema scalars, and the strict node → data constructor."""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml._yaml import CParser
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mlgitops.diagnostics import make
from mlgitops.load.problems import MAX_DEPTH, LoadProblem, at, check_depth, syntax_diagnostic, too_deep

MAX_EXPANDED_NODES = 100_000

# libyaml's composer recurses on the C stack and crashes the interpreter on
# tens of thousands of nested collections, so a document with many openers is
# first measured with the (flat) event stream before it is composed.
OPENER_BUDGET = 2_000

TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (TAG + t for t in ("str", "int", "float", "bool", "null"))
MAP, SEQ, MERGE = TAG + "map", TAG + "seq", TAG + "merge"
_SCALAR_TAGS = frozenset({STR, INT, FLOAT, BOOL, NULL})
_TAG_HINT = "only plain YAML (mappings, lists, strings, numbers, booleans, null) is accepted"

JsonValue = Any  # what a YAML document becomes: nested dict/list/scalars

_INT_RE = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_RE = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_NUMBER_START = frozenset("-+0123456789.")
_BOOLS = frozenset({"true", "True", "TRUE", "false", "False", "FALSE"})
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
# The plain scalars that are not text and do not start like a number.
_WORD_TAGS = {**dict.fromkeys(_BOOLS, BOOL), **dict.fromkeys(_NULLS, NULL), "<<": MERGE}


class StrictLoader(CParser):
    """libyaml's parser and composer with YAML 1.2 core-schema implicit typing.

    ``resolve`` is called by the C composer for every node, so it is a few
    set lookups and at most two regex matches rather than PyYAML's generic
    resolver walk.
    """

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """Path resolvers are not used; the composer calls this for every collection."""

    def ascend_resolver(self) -> None:
        """See :meth:`descend_resolver`."""

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is not ScalarNode:
            return SEQ if kind is SequenceNode else MAP
        if not implicit[0]:
            return STR  # quoted, or tagged '!': text
        # plain_scalar_tag's words spelt here, a call fewer for most of a file's scalars (keys).
        return plain_scalar_tag(value) if value[:1] in _NUMBER_START else _WORD_TAGS.get(value, STR)


def plain_scalar_tag(value: str) -> str:
    """The tag YAML 1.2's core schema gives an untagged plain scalar (``<<`` is a merge key)."""
    if value[:1] in _NUMBER_START:
        if _INT_RE.match(value):
            return INT
        if _FLOAT_RE.match(value):
            return FLOAT
        return STR
    return _WORD_TAGS.get(value, STR)


# The same rules as (tag, pattern, first characters), for PyYAML resolvers (used by tests).
IMPLICIT_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    (NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), "~nN"),
    (INT, _INT_RE, "-+0123456789"),
    (FLOAT, _FLOAT_RE, "-+0123456789."),
)


class Constructor:
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

    def _problem(self, code: str, message: str, node: Node, hint: str | None = None) -> LoadProblem:
        mark = node.start_mark
        return LoadProblem(make(code, message, at(self.display, mark), hint))

    def build(self, node: Node, depth: int) -> tuple[JsonValue, int]:
        if type(node) is ScalarNode:
            return self._scalar(node), 1  # scalars are cheap to rebuild: no memo needed
        key = id(node)
        cached = self.memo.get(key)
        if cached is not None:
            return cached
        if key in self.in_progress:
            raise self._problem("MLG105", "an alias refers to a collection that contains it", node)
        if depth > MAX_DEPTH:
            raise LoadProblem(too_deep(at(self.display, node.start_mark)))
        self.in_progress.add(key)
        if isinstance(node, SequenceNode):
            self._expect_tag(node, SEQ)
            items, size = [], 1
            for child in node.value:
                value, child_size = self.build(child, depth + 1)
                items.append(value)
                size += child_size
            result: tuple[JsonValue, int] = (items, size)
        else:
            assert isinstance(node, MappingNode)
            self._expect_tag(node, MAP)
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
            if key_node.tag == MERGE:
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
        if tag == STR:
            return value
        if tag == NULL:
            if value not in _NULLS:
                raise self._problem("MLG103", f"{value!r} is not null", node)
            return None
        if tag == BOOL:
            if value not in _BOOLS:
                raise self._problem("MLG103", f"{value!r} is not a boolean (true or false)", node)
            return value.lower() == "true"
        if tag == INT:
            try:
                return int(value, 0) if value[:2] in ("0o", "0x") else int(value, 10)
            except ValueError:
                raise self._problem("MLG103", f"{value!r} is not an integer", node) from None
        if tag == FLOAT:
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
    return repr("!!" + tag.removeprefix(TAG) if tag.startswith(TAG) else tag)


def parse_documents(text: str) -> tuple[list[JsonValue], tuple[str, int] | None]:
    """Parse generated (not user-written) YAML that may hold several documents.

    Used to read rendered templates back: same scalar rules and strictness as
    specs, but any number of documents and any root type.  Returns the
    documents, or a problem as (message, 1-based line).
    """
    if text.count("[") + text.count("{") + text.count("- ") > OPENER_BUDGET:
        try:
            check_depth(text, "<rendered>", MAX_DEPTH)
        except LoadProblem as problem:
            location = problem.diagnostic.location
            return [], (problem.diagnostic.message, location.line if location else 1)
    loader = StrictLoader(text)
    documents: list[JsonValue] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data, _size = Constructor("<rendered>").build(node, 1)
            documents.append(data)
    except yaml.YAMLError as exc:
        diagnostic = syntax_diagnostic(exc, text, "<rendered>")
        return [], (diagnostic.message, diagnostic.location.line if diagnostic.location else 1)
    except LoadProblem as problem:
        location = problem.diagnostic.location
        return [], (problem.diagnostic.message, location.line if location else 1)
    finally:
        loader.dispose()
    return documents, None


def compose_valid(text: str) -> Node:
    """The node tree of a document that already loaded without problems."""
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    assert node is not None
    return node
