"""Canonical YAML written straight from a built-in template, without the parse back.

Parsing each rendered text back and writing it again (``canonical.py``) was a third of a
compile. The built-in templates are written in canonical form already (block style, two-space
indentation, each literal scalar as ``yamlout`` spells it; ``tests/test_direct_render.py``
proves it over the examples and the benchmark project), so what is left to canonicalize is the
values the template inserts. In this mode ``{= value =}`` writes:

* a scalar in its canonical spelling (``yamlout.text``, ``yamlout.scalar``): plain only where no
  YAML reader can take it for anything else, so no spec value changes the document's structure;
* an empty mapping or list as ``{}`` / ``[]``;
* anything that needs lines of its own (a non-empty mapping or list, a multi-line text) as a
  placeholder, which :func:`splice` replaces with the block ``yamlout`` writes for it at the
  placeholder's indentation, exactly as the canonical emitter would.

Override templates never take this path: they are untrusted, and their output is parsed back
and checked (``Engine.render_data``).

A render may also leave entries out of some mappings (the labels and annotations kustomizations
set, ``targets/shared_labels.py``): a :class:`Leave` edits each block value that holds such a
mapping as it is spliced, so what is left out is never written (and never scanned for again).
"""

from __future__ import annotations

import bisect
import itertools
import secrets
from collections.abc import Mapping
from typing import Any, Protocol

from mlgitops.render import yamlout

OPEN = "\ue000"
CLOSE = "\ue001"


class Blocks:
    """The values a render writes as blocks, kept out of the text until :func:`splice`.

    The placeholder carries a nonce of its own (:class:`Nonces`), so no spec text can forge one
    (and a text holding the marker character at all is refused). With ``empty_too`` an empty
    mapping is a block as well (written ``{}`` all the same), so that a :class:`Leave` sees it.
    """

    def __init__(self, nonce: str, empty_too: bool = False) -> None:
        self.prefix = f"{OPEN}{nonce}:"
        self.values: list[Any] = []
        self.empty_too = empty_too

    def placeholder(self, value: Any) -> str:
        self.values.append(value)
        return f"{self.prefix}{len(self.values) - 1}{CLOSE}"


class Nonces:
    """A new nonce for each render: a random part drawn once, and a count. Drawing 64 random bits
    per render took a system call each time, 17,000 of them in a 1,000-model compile."""

    def __init__(self) -> None:
        self._random = secrets.token_hex(8)
        self._count = itertools.count()

    def next(self) -> str:
        return f"{self._random}.{next(self._count)}"


class Misplaced(Exception):
    """A block value stands where the template's text cannot take lines of its own."""


DROP = object()
"""What :meth:`Leave.value` returns for a mapping it left empty: its entry is not written."""


class Leave(Protocol):
    """Entries a render leaves out of the mappings at some paths of its documents.

    ``starts`` holds the (column, key) of every block value that can hold such a mapping: only
    those are looked at (the keys above them worked out from the text), the others are written
    as they are."""

    @property
    def starts(self) -> frozenset[tuple[int, str]]: ...

    def value(self, document: int, kind: str, path: tuple[str, ...], value: Any) -> Any:
        """``value``, at ``path`` of the ``document``-th document (of ``kind``), without the
        entries left out; :data:`DROP` for a mapping left empty."""
        ...

    def finish(self, kinds: Mapping[int, str]) -> None:
        """Called once the documents (their kinds by number) are written: raise for a mapping
        that had to be there and was not."""
        ...


def text(value: str, blocks: Blocks) -> str:
    """A (target-escaped) text's spelling: one line, or a placeholder for a ``|`` block."""
    if "\n" in value and yamlout.literal_ok(value):
        return blocks.placeholder(value)
    if OPEN in value:
        raise Misplaced("a text holds the character U+E000, which mlgitops reserves")
    return yamlout.text(value)


def collection(value: Any, blocks: Blocks) -> str:
    """A normalized (``dict``/``list``) value's spelling: flow when empty, else a placeholder."""
    if not value and not (blocks.empty_too and type(value) is dict):
        return "{}" if type(value) is dict else "[]"
    return blocks.placeholder(value)


_SEPARATOR = "\n---\n"


class _Documents:
    """Where each document of a rendered text starts, and its kind (its ``kind:`` line)."""

    def __init__(self, rendered: str) -> None:
        self.starts = [0]
        while (found := rendered.find(_SEPARATOR, self.starts[-1])) >= 0:
            self.starts.append(found + len(_SEPARATOR))
        ends = [start - len(_SEPARATOR) for start in self.starts[1:]] + [len(rendered)]
        self.kinds: dict[int, str] = {}
        for number, (start, end) in enumerate(zip(self.starts, ends, strict=True)):
            self.kinds[number] = _kind(rendered, start, end)

    def number(self, position: int) -> int:
        return bisect.bisect_right(self.starts, position) - 1


def _kind(rendered: str, start: int, end: int) -> str:
    """What the first ``kind:`` line between ``start`` and ``end`` names (found by ``str.find``:
    it is near the top), or nothing."""
    if rendered.startswith("kind: ", start):
        line = start
    else:
        found = rendered.find("\nkind: ", start, end)
        if found < 0:
            return ""
        line = found + 1
    line_end = rendered.find("\n", line, end)
    return rendered[line + len("kind: ") : end if line_end < 0 else line_end]


def splice(rendered: str, blocks: Blocks, leave: Leave | None = None) -> str:
    """``rendered`` with each placeholder line replaced by the block it stands for (less what
    ``leave`` leaves out; a line whose mapping it left empty goes too).

    A placeholder must end its line and follow either ``key: `` or a list's ``- `` (the only
    places where ``yamlout`` starts a nested block); anywhere else is :class:`Misplaced`.
    """
    documents = _Documents(rendered) if leave is not None else None
    # Only the placeholder lines are visited (found by ``str.find``, not a walk over every line):
    # most of a manifest is the template's own text, already canonical.
    pieces: list[str] = []
    done = 0
    find, rfind = rendered.find, rendered.rfind
    while (found := find(OPEN, done)) >= 0:
        line_start = rfind("\n", 0, found) + 1
        line_end = find("\n", found)
        line_end = len(rendered) if line_end < 0 else line_end
        pieces.append(rendered[done:line_start])
        lines = _block(rendered, found, line_start, line_end, blocks, leave, documents)
        if lines:
            pieces.append("\n".join(lines))
            done = line_end
        else:
            done = min(line_end + 1, len(rendered))
    pieces.append(rendered[done:])
    if leave is not None and documents is not None:
        leave.finish(documents.kinds)
    return "".join(pieces)


def _block(
    rendered: str,
    found: int,
    line_start: int,
    line_end: int,
    blocks: Blocks,
    leave: Leave | None,
    documents: _Documents | None,
) -> list[str]:
    """The lines that stand for the line from ``line_start``, whose first ``OPEN`` is at ``found``
    (:func:`splice` goes on past the line's end, so none is before it on the line)."""
    # The line must end with the placeholder: the prefix, digits, CLOSE (so no other OPEN).
    number_start = found + len(blocks.prefix)
    number = rendered[number_start : line_end - 1]
    if (
        rendered[line_end - 1 : line_end] != CLOSE
        or not rendered.startswith(blocks.prefix, found)
        or not number.isdigit()
        or not number.isascii()
    ):
        raise Misplaced("a mapping, list or multi-line text must be a whole YAML value")
    value = blocks.values[int(number)]
    head = rendered[line_start:found]
    body = head.lstrip(" ")
    if (
        leave is not None
        and documents is not None
        and (head == "" or (len(head) - len(body), body[:-2]) in leave.starts)
    ):
        value = _left(rendered, line_start, head, body, value, leave, documents)
        if value is DROP:
            return []
    if head == "":
        return yamlout.dump(value)[:-1].split("\n")  # the document itself
    lines: list[str] = []
    if body[-2:] == ": " and len(body) > 2 and body[:2] != "- ":
        yamlout.mapping_entry(head[:-1], value, len(head) - len(body), lines)
        return lines
    while body.startswith("- "):
        body = body[2:]
    column = len(head) - len(body)
    if body == "":
        # ``- value``: the item's block is written at the dash's column, then given the head
        # (``- ``, or ``- - `` for a list in a list) in place of its own dash.
        yamlout.list_item(value, column - 2, lines)
        lines[0] = head + lines[0][column:]
    elif body.endswith(": ") and len(body) > 2:
        yamlout.mapping_entry(head[:-1], value, column, lines)
    else:
        raise Misplaced("a mapping, list or multi-line text must follow `key: ` or `- `")
    return lines


def _left(
    rendered: str, line_start: int, head: str, body: str, value: Any, leave: Leave, documents: _Documents
) -> Any:
    """``value`` as ``leave`` leaves it (a whole document, or an entry of one of ``leave.starts``)."""
    document = documents.number(line_start)
    if head == "":  # a whole document: its kind is its own
        if type(value) is dict:
            documents.kinds[document] = str(value.get("kind"))
            return leave.value(document, documents.kinds[document], (), value)
        return value
    column = len(head) - len(body)
    if not body.endswith(": ") or body.startswith("- "):
        return value
    parents = _parents(rendered, line_start, column)
    if parents is None:
        return value
    return leave.value(document, documents.kinds[document], (*parents, body[:-2]), value)


def _parents(rendered: str, line_start: int, indent: int) -> tuple[str, ...] | None:
    """The keys of the mappings holding the line at ``line_start`` (at ``indent``), outermost
    first, or ``None`` where a parent is not a plain ``key:`` line two columns out (a list item,
    another document's line)."""
    keys: list[str] = []
    end = line_start - 1
    pad = " " * indent
    while indent > 0 and end >= 0:
        start = rendered.rfind("\n", 0, end) + 1
        if rendered.startswith(pad, start, end):
            end = start - 1  # a line further in (most of those walked past): no slice needed
            continue
        line = rendered[start:end]
        end = start - 1
        body = line.lstrip(" ")
        if not body or len(line) - len(body) >= indent:
            continue
        if len(line) - len(body) != indent - 2 or not body.endswith(":") or body.startswith("- "):
            return None
        keys.append(body[:-1])
        indent -= 2
        pad = pad[2:]
    return tuple(reversed(keys)) if indent == 0 else None
