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
"""

from __future__ import annotations

import secrets
from typing import Any

from mlgitops.render import yamlout

OPEN = "\ue000"
CLOSE = "\ue001"


class Blocks:
    """The values a render writes as blocks, kept out of the text until :func:`splice`.

    The placeholder carries a random nonce per render, so no spec text can forge one (and a
    text holding the marker character at all is refused).
    """

    def __init__(self) -> None:
        self.prefix = f"{OPEN}{secrets.token_hex(8)}:"
        self.values: list[Any] = []

    def placeholder(self, value: Any) -> str:
        self.values.append(value)
        return f"{self.prefix}{len(self.values) - 1}{CLOSE}"


class Misplaced(Exception):
    """A block value stands where the template's text cannot take lines of its own."""


def text(value: str, blocks: Blocks) -> str:
    """A (target-escaped) text's spelling: one line, or a placeholder for a ``|`` block."""
    if "\n" in value and yamlout.literal_ok(value):
        return blocks.placeholder(value)
    if OPEN in value:
        raise Misplaced("a text holds the character U+E000, which mlgitops reserves")
    return yamlout.text(value)


def collection(value: Any, blocks: Blocks) -> str:
    """A normalized (``dict``/``list``) value's spelling: flow when empty, else a placeholder."""
    if not value:
        return "{}" if type(value) is dict else "[]"
    return blocks.placeholder(value)


def splice(rendered: str, blocks: Blocks) -> str:
    """``rendered`` with each placeholder line replaced by the block it stands for.

    A placeholder must end its line and follow either ``key: `` or a list's ``- `` (the only
    places where ``yamlout`` starts a nested block); anywhere else is :class:`Misplaced`.
    """
    # Only the placeholder lines are visited (found by ``str.find``, not a walk over every line):
    # most of a manifest is the template's own text, already canonical.
    pieces: list[str] = []
    done = 0
    while (found := rendered.find(OPEN, done)) >= 0:
        line_start = rendered.rfind("\n", 0, found) + 1
        line_end = rendered.find("\n", found)
        line_end = len(rendered) if line_end < 0 else line_end
        pieces.append(rendered[done:line_start])
        pieces.append("\n".join(_block(rendered[line_start:line_end], blocks)))
        done = line_end
    pieces.append(rendered[done:])
    return "".join(pieces)


def _block(line: str, blocks: Blocks) -> list[str]:
    """The lines that stand for ``line``, which holds one placeholder."""
    start = line.find(blocks.prefix)
    number = line[start + len(blocks.prefix) : -1]
    if start < 0 or not line.endswith(CLOSE) or not number.isdigit() or line.count(OPEN) != 1:
        raise Misplaced("a mapping, list or multi-line text must be a whole YAML value")
    value = blocks.values[int(number)]
    head = line[:start]
    body = head.lstrip(" ")
    while body.startswith("- "):
        body = body[2:]
    column = len(head) - len(body)
    lines: list[str] = []
    if head == "":
        return yamlout.dump(value)[:-1].split("\n")  # the document itself
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
