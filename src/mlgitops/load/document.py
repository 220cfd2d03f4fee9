"""A loaded spec file and the way back from a data path to a file:line:col."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mlgitops.diagnostics import Location
from mlgitops.load.problems import clamp
from mlgitops.load.yamlcore import MERGE, Constructor, JsonValue, compose_valid


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """One loaded YAML file: its data and the means to locate any part of it.

    The node tree that maps data paths to lines and columns, and the data, are kept
    from loading, but neither is pickled: a document handed back by a worker process
    composes them again, from its text, only if something needs them (once schema-checked
    there, a model file's data was a third of a large compile's memory and is not read again).
    """

    path: Path
    display: str
    text: str
    loaded: dict[str, JsonValue] | None = field(repr=False, compare=False)  # None: not pickled
    node_tree: Node | None = field(default=None, repr=False, compare=False)
    # Locations worked out before the tree was dropped: (data path, key) → location. Paths a
    # valid project is reported at anyway (each securityContext relaxation is a note), so
    # that reporting them does not compose the whole file again.
    located: dict[tuple[tuple[str | int, ...], bool], Location] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def data(self) -> dict[str, JsonValue]:
        if self.loaded is None:
            object.__setattr__(self, "loaded", Constructor(self.display).construct_root(self.root))
        assert self.loaded is not None
        return self.loaded

    @property
    def root(self) -> Node:
        if self.node_tree is None:
            object.__setattr__(self, "node_tree", compose_valid(self.text))
        assert self.node_tree is not None
        return self.node_tree

    def without_tree(self, keep: Iterable[tuple[str | int, ...]] = ()) -> SourceDocument:
        """The same document, its node tree and data dropped (composed again if a location or
        the data is asked for): kept for thousands of model files, they were most of a large
        compile's memory, and a valid project asks for few locations. Those of the data paths in
        ``keep`` (and their keys) are worked out now and kept."""
        located = {(path, key): self.locate(path, key=key) for path in keep for key in (False, True)}
        return SourceDocument(self.path, self.display, self.text, None, located=located)

    def __reduce__(
        self,
    ) -> tuple[type[SourceDocument], tuple[Path, str, str, None, None, dict[Any, Location]]]:
        return (SourceDocument, (self.path, self.display, self.text, None, None, self.located))

    def locate(self, data_path: Sequence[str | int], *, key: bool = False) -> Location:
        """Location of the value at ``data_path`` (or of its key when ``key``).

        A path that runs past what exists points at the key of the deepest part
        that does (its value when it has no key), which is where a missing field
        belongs.
        """
        if self.node_tree is None and self.located:
            known = self.located.get((tuple(data_path), key))
            if known is not None:
                return known
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
        if mark.index < len(self.text):
            return Location(self.display, mark.line + 1, mark.column + 1)
        # libyaml marks the end of a stream without a final line break on a line that
        # does not exist: keep such locations at the end of the last line.
        line, column = clamp(self.text, mark.line + 1, mark.column + 1)
        return Location(self.display, line, column)

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


def data_paths(value: JsonValue, path: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    """Every path into ``value``, containers before their contents."""
    yield path
    if isinstance(value, dict):
        for name, item in value.items():
            yield from data_paths(item, (*path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from data_paths(item, (*path, index))


def _child(node: Node, step: str | int) -> tuple[Node | None, Node] | None:
    if isinstance(node, SequenceNode) and isinstance(step, int):
        return (None, node.value[step]) if 0 <= step < len(node.value) else None
    if isinstance(node, MappingNode):
        # Later keys win, as they do in construction; merged mappings come last.
        merged: list[Node] = []
        for key_node, value_node in reversed(node.value):
            if key_node.tag == MERGE:
                merged.extend(value_node.value if isinstance(value_node, SequenceNode) else [value_node])
            elif isinstance(key_node, ScalarNode) and key_node.value == str(step):
                return key_node, value_node
        for source in merged:
            found = _child(source, step)
            if found is not None:
                return found
    return None
