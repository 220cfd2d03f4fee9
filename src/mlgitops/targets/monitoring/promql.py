"""PromQL series selectors: parse, render, match, and invent series that match them.

The rules are built from selectors (defaults from :mod:`mlgitops.targets.monitoring.metricmap`
or the spec's ``monitoring.metrics``), and the promtool tests need input series
that a selector selects, or deliberately does not.  Matching follows Prometheus:
regular expressions are anchored at both ends, and a missing label equals "".
Regular expressions are evaluated with Python's ``re``, which agrees with RE2 on
the syntax selectors use (classes, groups, alternation, repetition).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

_NAME = re.compile(r"\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*")
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?', re.DOTALL)
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_QUOTE = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_QUOTING = re.compile(r'[\\"\x00-\x1f\x7f]')
# Label values tried when a series must (not) match: absent first, then common spellings.
_FALLBACKS = ("", "x", "0", "200", "500", "2xx", "5xx", "ok", "error", "GET", "a1")


class SelectorError(ValueError):
    """Not a selector this module understands (the spec's pattern only admits ones it does)."""


@dataclass(frozen=True, slots=True)
class Matcher:
    label: str
    op: str  # "=", "!=", "=~", "!~"
    value: str  # unquoted

    def matches(self, actual: str) -> bool:
        if self.op in ("=", "!="):
            hit = actual == self.value
        else:
            try:
                hit = re.fullmatch(self.value, actual) is not None
            except re.error:
                hit = False
        return hit if self.op in ("=", "=~") else not hit

    def render(self) -> str:
        return f"{self.label}{self.op}{quote(self.value)}"


@dataclass(frozen=True, slots=True)
class Selector:
    metric: str
    matchers: tuple[Matcher, ...] = ()

    def render(self) -> str:
        if not self.matchers:
            return self.metric
        return self.metric + "{" + ", ".join(m.render() for m in self.matchers) + "}"

    def labels(self) -> set[str]:
        return {m.label for m in self.matchers}

    def with_matchers(self, *extra: Matcher, replace_labels: bool = True) -> Selector:
        """This selector and ``extra``; with ``replace_labels`` they replace matchers on their label."""
        names = {m.label for m in extra}
        kept = tuple(m for m in self.matchers if not (replace_labels and m.label in names))
        return replace(self, matchers=kept + tuple(extra))

    def matches(self, metric: str, labels: Mapping[str, str]) -> bool:
        return metric == self.metric and all(m.matches(labels.get(m.label, "")) for m in self.matchers)


def quote(text: str) -> str:
    """A PromQL double-quoted string (Go escapes) holding ``text``."""
    if _NEEDS_QUOTING.search(text) is None:  # the common case, and rules quote thousands of values
        return f'"{text}"'
    out = []
    for char in text:
        if char in _QUOTE:
            out.append(_QUOTE[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


_REGEX_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$])")


def regex_literal(text: str) -> str:
    """An RE2 pattern matching exactly ``text`` (its special characters escaped)."""
    return _REGEX_SPECIAL.sub(r"\\\1", text)


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "xuU" and len(code) > 1:
        return chr(int(code[1:], 16))
    if len(code) == 3 and code.isdigit():
        return chr(int(code, 8))
    # \\ \" \' and the C escapes; an escape Go would reject keeps its character (\d stays \d)
    return _SIMPLE_ESCAPES.get(code, code if code in "\\\"'" else "\\" + code)


def parse(text: str) -> Selector:
    """``metric{label op "value", ...}`` → :class:`Selector`."""
    head = _NAME.match(text)
    if head is None:
        raise SelectorError(f"not a series selector: {text!r}")
    metric, rest = head.group(1), text[head.end() :].strip()
    matchers: list[Matcher] = []
    if rest:
        if not (rest.startswith("{") and rest.endswith("}")):
            raise SelectorError(f"not a series selector: {text!r}")
        body, position = rest[1:-1], 0
        while body[position:].strip():
            found = _MATCHER.match(body, position)
            if found is None:
                raise SelectorError(f"cannot read the label matchers of {text!r}")
            label, op, raw = found.groups()
            matchers.append(Matcher(label, op, _ESCAPE.sub(_unescape, raw)))
            position = found.end()
    return Selector(metric, tuple(matchers))


def series(selector: Selector, avoid: Iterable[Selector] = ()) -> dict[str, str] | None:
    """Labels (without the metric name) of a series ``selector`` selects and no selector in ``avoid``
    selects; None when no such series can be found.  Labels whose value would be "" are left out."""
    blockers = [a for a in avoid if a.metric == selector.metric]
    constrained = sorted(selector.labels() | {label for a in blockers for label in a.labels()})
    choices = []
    for label in constrained:
        wanted = [m for m in selector.matchers if m.label == label]
        values = [v for v in candidates(label, [selector, *blockers]) if all(m.matches(v) for m in wanted)]
        if not values:
            return None
        choices.append(values[:6])
    # Few labels and few values each: try combinations in a fixed order, first fit wins.
    for combination in itertools.islice(itertools.product(*choices), 4096):
        labels = {label: value for label, value in zip(constrained, combination, strict=True) if value}
        if selector.matches(selector.metric, labels) and not any(
            b.matches(selector.metric, labels) for b in blockers
        ):
            return labels
    return None


def candidates(label: str, selectors: Iterable[Selector]) -> list[str]:
    """Values worth trying for ``label``: absent, values and examples of every matcher on it, fallbacks."""
    found: list[str] = [""]
    for selector in selectors:
        for m in selector.matchers:
            if m.label == label:
                found += [m.value] if m.op in ("=", "!=") else examples(m.value)
    found += _FALLBACKS
    return list(dict.fromkeys(found))


def examples(pattern: str, limit: int = 8) -> list[str]:
    """A few strings the anchored regular expression ``pattern`` matches (best effort, verified)."""
    try:
        compiled = re.compile(pattern)
        options = _Walker(pattern).alternatives()
    except (re.error, _Unsupported):
        return []
    return [s for s in dict.fromkeys(options) if compiled.fullmatch(s)][:limit]


class _Unsupported(Exception):
    pass


_CLASS_ESCAPES = {"d": "0", "w": "a", "s": " ", "D": "x", "W": "-", "S": "x"}


class _Walker:
    """Expands a regular expression into a few example strings: each alternative branch, the first
    and last character of each class, the minimum count (and one more) of each repetition."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0

    def alternatives(self) -> list[str]:
        result = self._alternation()
        if self.pos != len(self.text):
            raise _Unsupported(self.text)
        return result

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _alternation(self) -> list[str]:
        branches = [self._sequence()]
        while self._peek() == "|":
            self.pos += 1
            branches.append(self._sequence())
        # interleaved, so that every branch contributes within the limit
        return _limit(s for group in itertools.zip_longest(*branches) for s in group if s is not None)

    def _sequence(self) -> list[str]:
        parts: list[list[str]] = [[""]]
        while self._peek() not in ("", "|", ")"):
            atom = self._atom()
            parts.append(self._repeat(atom))
        return _limit("".join(p) for p in itertools.product(*parts))

    def _atom(self) -> list[str]:
        char = self._peek()
        self.pos += 1
        if char == "(":
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            elif self.text.startswith("?P<", self.pos):
                self.pos = self.text.index(">", self.pos) + 1
            elif self._peek() == "?":
                raise _Unsupported(self.text)
            inner = self._alternation()
            if self._peek() != ")":
                raise _Unsupported(self.text)
            self.pos += 1
            return inner
        if char == "[":
            return self._class()
        if char == ".":
            return ["0", "a"]
        if char in "^$":
            return [""]
        if char == "\\":
            escaped = self._peek()
            self.pos += 1
            return [_CLASS_ESCAPES.get(escaped, escaped)]
        if char in "*+?{":
            raise _Unsupported(self.text)
        return [char]

    def _class(self) -> list[str]:
        end = self.text.find("]", self.pos + 1)
        if end < 0:
            raise _Unsupported(self.text)
        body = self.text[self.pos : end]
        self.pos = end + 1
        negated = body.startswith("^")
        members = re.compile("[" + body + "]")
        pool = "a0x-_.Z9" + "".join(chr(c) for c in range(0x20, 0x7F))
        fitting = [c for c in pool if members.fullmatch(c)]
        if not fitting:
            raise _Unsupported(self.text)
        return list(dict.fromkeys([fitting[0], fitting[-1]] if not negated else fitting[:2]))

    def _repeat(self, atom: list[str]) -> list[str]:
        char = self._peek()
        low, high = 1, 1
        if char and char in "*+?":
            self.pos += 1
            low, high = {"*": (0, 1), "+": (1, 2), "?": (0, 1)}[char]
        elif char == "{":
            end = self.text.find("}", self.pos)
            counts = self.text[self.pos + 1 : end].split(",") if end > 0 else []
            if not counts or not all(c.strip().isdigit() or c.strip() == "" for c in counts):
                raise _Unsupported(self.text)
            self.pos = end + 1
            low = int(counts[0] or 0)
            high = low + 1 if len(counts) > 1 and not counts[1].strip() else int(counts[-1] or low)
        if self._peek() == "?":  # lazy: same strings
            self.pos += 1
        return _limit(itertools.chain.from_iterable([a * n for a in atom] for n in (low, high)))


def _limit(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(itertools.islice(values, 16)))
