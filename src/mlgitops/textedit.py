"""Surgical edits of YAML text: change a scalar, add or remove a key, touching nothing else.

``promote`` must leave comments, key order, quoting, anchors, flow style and
blank lines byte-identical outside what it changes.  A YAML round-trip
(dump after load) cannot promise that: it re-indents and re-flows.  Instead
the document is parsed with libyaml, whose marks give the exact character
span of every node, and the text is spliced at those spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mlgitops.load.yamlcore import STR, StrictLoader, plain_scalar_tag

_SIMPLE_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./+-]*$")


class EditError(Exception):
    """The document's shape does not allow the edit (e.g. the key holds an alias)."""


@dataclass(frozen=True, slots=True)
class Splice:
    start: int
    end: int
    text: str


def parse(text: str) -> MappingNode:
    loader = StrictLoader(text)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    if not isinstance(root, MappingNode):
        raise EditError("the document is not a mapping")
    return root


def child(mapping: MappingNode, key: str) -> tuple[ScalarNode, Node] | None:
    for key_node, value_node in mapping.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def shared_nodes(root: Node) -> set[int]:
    """``id()`` of every node that appears more than once in the tree: an anchor and its aliases.

    The composer hands out the *same* node object for ``&anchor`` and each ``*alias``,
    with the marks of the anchor, so a splice at such a node's span would edit the
    anchor's text and change every place that uses it.  Edits refuse such nodes.
    """
    seen: set[int] = set()
    repeated: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            repeated.add(id(node))
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                stack += [key_node, value_node]
        elif isinstance(node, SequenceNode):
            stack += node.value
    return repeated


def newline(text: str) -> str:
    """The line break the text uses (CRLF when its first line ends so), for inserted lines."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def scalar_text(value: str | int, like: ScalarNode | None = None) -> str:
    """``value`` spelt as YAML, keeping the quoting style of the scalar it replaces."""
    if isinstance(value, int):
        return str(value)
    style = like.style if like is not None else None
    if style == "'" and "'" not in value:
        return f"'{value}'"
    if style == '"' or not (_SIMPLE_PLAIN.match(value) and plain_scalar_tag(value) == STR):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def replace_scalar(node: Node, value: str | int) -> Splice:
    if not isinstance(node, ScalarNode) or node.style in ("|", ">"):
        raise EditError("the value to change is not a single-line scalar")
    return Splice(node.start_mark.index, node.end_mark.index, scalar_text(value, node))


def add_entry(text: str, mapping: MappingNode, key: str, value_yaml: str) -> Splice:
    """Add ``key: value_yaml`` as the last entry of ``mapping`` (value_yaml is flow YAML)."""
    if mapping.flow_style:
        close = mapping.end_mark.index - 1
        if text[close] != "}":
            raise EditError("cannot find the end of the flow mapping")
        separator = ", " if mapping.value else ""
        return Splice(close, close, f"{separator}{key}: {value_yaml}")
    if not mapping.value:
        raise EditError("cannot add to an empty block mapping")
    first_key = mapping.value[0][0]
    indent = " " * first_key.start_mark.column
    insert_at = _end_of_line(text, _content_end(mapping.value[-1][1]))
    eol = newline(text)
    prefix = "" if insert_at == 0 or text[insert_at - 1] == "\n" else eol
    return Splice(insert_at, insert_at, f"{prefix}{indent}{key}: {value_yaml}{eol}")


def remove_entry(text: str, mapping: MappingNode, key: str) -> Splice:
    entries = mapping.value
    found = [i for i, (k, _) in enumerate(entries) if isinstance(k, ScalarNode) and k.value == key]
    if not found:
        raise EditError(f"no key {key!r} to remove")
    index = found[0]
    key_node, value_node = entries[index]
    if mapping.flow_style:
        if index > 0:  # remove ", key: value" after the previous entry
            start = entries[index - 1][1].end_mark.index
            return Splice(start, value_node.end_mark.index, "")
        end = entries[1][0].start_mark.index if len(entries) > 1 else value_node.end_mark.index
        return Splice(key_node.start_mark.index, end, "")
    start = text.rfind("\n", 0, key_node.start_mark.index) + 1
    if text[start : key_node.start_mark.index].strip():
        raise EditError("the key does not start its own line")
    end = _end_of_line(text, _content_end(value_node))
    if index == 0:
        return Splice(start, end, "")  # comments above a first key may head the whole mapping
    floor = _end_of_line(text, _content_end(entries[index - 1][1]))
    return Splice(_comments_above(text, start, key_node.start_mark.column, floor), end, "")


def _comments_above(text: str, line_start: int, column: int, floor: int) -> int:
    """Where the comment lines right above a key begin (same indentation, no blank line
    between, after the previous entry's last line): they speak of the key, and go with it
    when it is removed."""
    while line_start > floor:
        previous = text.rfind("\n", 0, line_start - 1) + 1
        line = text[previous:line_start].rstrip("\r\n")
        if not line.lstrip().startswith("#") or len(line) - len(line.lstrip(" ")) != column:
            break
        line_start = previous
    return line_start


def apply(text: str, splices: list[Splice]) -> str:
    """Apply non-overlapping splices (in any order)."""
    for splice in sorted(splices, key=lambda s: s.start, reverse=True):
        text = text[: splice.start] + splice.text + text[splice.end :]
    return text


def _content_end(node: Node) -> int:
    """End of a node's own text: for block collections, libyaml's end mark runs on to the next
    token (past blank lines and comments that belong to what follows), so use the last child."""
    while isinstance(node.value, list) and node.value and not getattr(node, "flow_style", False):
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    return int(node.end_mark.index)


def _end_of_line(text: str, index: int) -> int:
    """Index just after the line break ending the line that holds ``index - 1``."""
    if index > 0 and text[index - 1] == "\n":
        return index  # block values end at the start of the next line already
    newline = text.find("\n", index)
    return len(text) if newline == -1 else newline + 1
