"""GitHub Actions expressions as the generated workflows write them, evaluated for the test
runners (tests/ci_stub_runner.py, tests/e2e/workflow.py): literals, context names, ``!``,
``&&``, ``||`` (which yield an operand, as on GitHub), ``==``/``!=`` (strings compared without
case), parentheses, ``startsWith``/``endsWith``/``contains`` and the status functions. What
a runner cannot look up fails there, so an expression the runners do not understand is never
silently true."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

Value = str | bool

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<op>&&|\|\||==|!=|!|\(|\)|,)"
    r"|(?P<number>-?[0-9]+(?:\.[0-9]+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_.*-]*))"
)
_FUNCTIONS: Mapping[str, Callable[[str, str], bool]] = {
    "startswith": lambda text, part: text.lower().startswith(part.lower()),
    "endswith": lambda text, part: text.lower().endswith(part.lower()),
    "contains": lambda text, part: part.lower() in text.lower(),
}
# Nothing has failed when a runner reaches a job or step (a failure stops the run).
STATUS: Mapping[str, bool] = {"cancelled": False, "failure": False, "success": True, "always": True}


def truthy(value: Value) -> bool:
    """A value in a condition; a boolean input passed through ``with:`` arrives as text."""
    if isinstance(value, bool):
        return value
    return value.strip().lower() not in ("", "false", "0")


def as_text(value: Value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else value


class _Parser:
    def __init__(self, source: str, lookup: Callable[[str], str]) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        source = source.rstrip()
        while position < len(source):
            match = _TOKEN.match(source, position)
            if match is None or match.end() == position:
                raise AssertionError(f"cannot read the expression {source!r} at {position}")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
        self.lookup = lookup

    def peek(self) -> str:
        return self.tokens[0][1] if self.tokens else ""

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if not self.tokens or (expected is not None and self.tokens[0][1] != expected):
            raise AssertionError(f"expected {expected or 'more'} in the expression, found {self.peek()!r}")
        return self.tokens.pop(0)

    def either(self) -> Value:
        value = self.both()
        while self.peek() == "||":
            self.take()
            other = self.both()
            value = value if truthy(value) else other
        return value

    def both(self) -> Value:
        value = self.unary()
        while self.peek() == "&&":
            self.take()
            other = self.unary()
            value = other if truthy(value) else value
        return value

    def unary(self) -> Value:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        value = self.primary()
        if self.peek() in ("==", "!="):
            negate = self.take()[1] == "!="
            equal = as_text(value).lower() == as_text(self.primary()).lower()
            return equal != negate
        return value

    def primary(self) -> Value:
        kind, token = self.take()
        if token == "(":
            value = self.either()
            self.take(")")
            return value
        if kind == "string":
            return token[1:-1].replace("''", "'")
        if kind == "number":
            return token
        if token in ("true", "false"):
            return token == "true"
        if token == "null":
            return ""
        if self.peek() == "(":
            return self.call(token)
        return self.lookup(token)

    def call(self, name: str) -> Value:
        self.take("(")
        arguments: list[Value] = []
        while self.peek() != ")":
            arguments.append(self.either())
            if self.peek() == ",":
                self.take()
        self.take(")")
        if name.lower() in STATUS and not arguments:
            return STATUS[name.lower()]
        if name.lower() in _FUNCTIONS and len(arguments) == 2:
            return _FUNCTIONS[name.lower()](as_text(arguments[0]), as_text(arguments[1]))
        raise AssertionError(f"the test runners do not know the function {name}")


def evaluate(source: str, lookup: Callable[[str], str]) -> Value:
    """The value of ``source`` (without ``${{ }}``); ``lookup`` gives a context name's value."""
    parser = _Parser(source, lookup)
    value = parser.either()
    if parser.tokens:
        raise AssertionError(f"unexpected {parser.peek()!r} in the expression {source!r}")
    return value


def condition(written: object, lookup: Callable[[str], str]) -> bool:
    """An ``if:`` (with or without ``${{ }}``); none means true."""
    if written is None:
        return True
    source = str(written).strip()
    if source.startswith("${{") and source.endswith("}}"):
        source = source[3:-2]
    return truthy(evaluate(source, lookup))
