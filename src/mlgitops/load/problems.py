"""Load-stage problems: the internal signal, and turning libyaml errors and marks into locations."""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml._yaml import CParser

from mlgitops.diagnostics import Diagnostic, Location, make

MAX_DEPTH = 64

# Line breaks as libyaml counts them (its marks are what most locations come from).
LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


class LoadProblem(Exception):
    """Internal signal: stop composing this document and report ``diagnostic``."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def at(display: str, mark: Any) -> Location:
    """Location of a libyaml mark (0-based) as a 1-based line and column."""
    if mark is None:
        return Location(display, 1, 1)
    return Location(display, mark.line + 1, mark.column + 1)


def check_depth(text: str, display: str, max_depth: int = MAX_DEPTH) -> None:
    """Measure nesting with the flat event stream (no recursion) before composing."""
    depth = 0
    parser = CParser(text)
    try:
        while (event := parser.get_event()) is not None:
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > max_depth:
                    raise LoadProblem(too_deep(at(display, event.start_mark)))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError as exc:
        raise LoadProblem(syntax_diagnostic(exc, text, display)) from None
    finally:
        parser.dispose()


def too_deep(location: Location) -> Diagnostic:
    return make(
        "MLG114",
        f"the document nests deeper than {MAX_DEPTH} levels",
        location,
        "no mlgitops spec nests this deep; flatten the structure",
    )


def syntax_diagnostic(exc: yaml.YAMLError, text: str, display: str) -> Diagnostic:
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    context = getattr(exc, "context", None)
    mark = problem_mark or context_mark
    if context == "while scanning a simple key" and context_mark is not None:
        mark = context_mark  # a key without ':' is reported where the next line starts
    hint = "look for an unclosed bracket or quote, a missing ':' after a key, or inconsistent indentation"
    if mark is not None:
        line, column = clamp(text, mark.line + 1, mark.column + 1)
        message = str(getattr(exc, "problem", None) or exc)
        if context and context_mark is not None and context_mark is not mark:
            message += f" ({context} at line {context_mark.line + 1}, column {context_mark.column + 1})"
        elif context:
            message += f" ({context})"
    elif isinstance(exc, yaml.reader.ReaderError):
        # libyaml reports the offset in bytes of the UTF-8 encoding.
        offset = len(text.encode("utf-8")[: exc.position].decode("utf-8", errors="ignore"))
        line, column = position(text, offset)
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = f"character U+{char:04X} is not allowed in YAML"
        hint = "remove the control character; most editors do not show it"
    else:
        line, column, message = 1, 1, str(exc)
    return make("MLG103", f"YAML syntax error: {message}", Location(display, line, column), hint)


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of the character at ``offset`` of ``text``."""
    line, start = 1, 0
    for found in LINE_BREAK.finditer(text, 0, offset):
        line, start = line + 1, found.end()
    return line, offset - start + 1


def clamp(text: str, line: int, column: int) -> tuple[int, int]:
    """Keep a position inside the text: the end of the stream becomes the end of the last line."""
    lines = LINE_BREAK.split(text)
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # the final line break does not start another line
    if line > len(lines):
        return len(lines), len(lines[-1]) + 1
    return line, min(column, len(lines[line - 1]) + 1)
