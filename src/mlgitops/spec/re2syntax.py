"""Is a regular expression valid RE2, the syntax Prometheus (Go's ``regexp``) compiles?

A label matcher ``=~``/``!~`` whose regex Go rejects makes Prometheus refuse the whole rule
file, so every SLO alert of the project stops.  With the optional ``re2`` extra
(``google-re2``) the regex is compiled by RE2 itself; without it, :func:`subset_problem`
decides conservatively: it refuses what RE2 lacks (lookaround, backreferences, possessive
quantifiers, atomic groups, conditionals, comments, escapes and flags outside RE2's) and
compiles the rest with Python's ``re`` to catch plain syntax errors.  Either way the few
places where Go and the C++ RE2 differ (``\\C``) follow Go.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

# Escapes Go's regexp/syntax knows; \Q (quoting), \x, \p, \P and octal digits are read apart.
_LETTER_ESCAPES = frozenset("afnrtvdDsSwWbBAz")
_CLASS_ONLY_OUTSIDE = frozenset("bBAz")  # assertions: not characters, so not inside [...]
_REPEAT = re.compile(r"\{([0-9]+)(?:(,)([0-9]*))?\}")
_MAX_REPEAT = 1000
_FLAG_GROUP = re.compile(r"\(\?([A-Za-z]*)(?:-([A-Za-z]*))?([:)])")
_GROUP_NAME = re.compile(r"\(\?P?<([A-Za-z0-9_]+)>")
_POSIX_CLASS = re.compile(r"\[:(\^?)([a-z]+):\]")
_POSIX_NAMES = frozenset(
    {"alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct"}
    | {"space", "upper", "word", "xdigit"}
)
_HEX = re.compile(r"x(?:([0-9A-Fa-f]{2})|\{([0-9A-Fa-f]{1,6})\})")
_UNICODE_CLASS = re.compile(r"[pP](?:([A-Za-z])|\{\^?([A-Za-z_]+)\})")
_PERL_GROUPS = {
    "(?=": "lookahead (?=...)",
    "(?!": "negative lookahead (?!...)",
    "(?<=": "lookbehind (?<=...)",
    "(?<!": "negative lookbehind (?<!...)",
    "(?>": "atomic group (?>...)",
    "(?#": "comment (?#...)",
    "(?(": "conditional (?(...)...)",
    "(?P=": "backreference (?P=name)",
    "(?P>": "recursion (?P>name)",
}


class _Problem(Exception):
    """What RE2 would say about the regex; raised by the scanner, returned as text."""


def re2_problem(pattern: str) -> str | None:
    """Why Go's regexp (RE2 syntax) rejects ``pattern``, or None when it compiles."""
    if "\\C" in pattern and _go_lacks_any_byte(pattern):
        return "\\C (any byte) is C++ RE2 only; Go's regexp, which Prometheus uses, has no \\C"
    compile_re2 = _re2_compiler()
    return compile_re2(pattern) if compile_re2 is not None else subset_problem(pattern)


def _go_lacks_any_byte(pattern: str) -> bool:
    """An unescaped ``\\C`` (not ``\\\\C``)."""
    return re.search(r"(?<!\\)(?:\\\\)*\\C", pattern) is not None


def _re2_compiler() -> Callable[[str], str | None] | None:
    try:
        import re2  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError:
        return None
    options = re2.Options()
    options.log_errors = False  # RE2 would print every error on stderr

    def compile_re2(pattern: str) -> str | None:
        try:
            re2.compile(pattern, options=options)
        except re2.error as exc:
            reason = exc.args[0] if exc.args else exc
            return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        return None

    return compile_re2


def subset_problem(pattern: str) -> str | None:
    """The fallback without RE2: a conservative reading of RE2's syntax (see the module doc)."""
    try:
        spelt = _Scanner(pattern).python_pattern()
    except _Problem as problem:
        return str(problem)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possible nested set" and the like: not our user's
            re.compile(spelt)
    except re.error as exc:
        return f"not a valid regular expression: {exc.msg}"
    except (RecursionError, OverflowError):
        return "the regular expression is too complex"
    return None


class _Scanner:
    """Walks the pattern once, refusing non-RE2 constructs and spelling the rest for ``re``."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.at = 0
        self.out: list[str] = []

    def python_pattern(self) -> str:
        text = self.pattern
        repeated = False  # the previous token is a repetition operator
        lazy = False  # ... already followed by its one '?' (non-greedy)
        while self.at < len(text):
            char = text[self.at]
            if char in "*+?" or (char == "{" and _REPEAT.match(text, self.at)):
                if repeated and char == "?" and not lazy:
                    lazy = True
                    self.emit("?", 1)
                    continue
                if repeated:
                    operator = text[self.at - 1 : self.at + 1]
                    kind = "possessive quantifier" if char == "+" else "nested repetition operator"
                    raise _Problem(f"{operator!r}: RE2 has no {kind}")
                repeated, lazy = True, False
                if char == "{":
                    self.repeat()
                else:
                    self.emit(char, 1)
                continue
            repeated = lazy = False
            if char == "\\":
                self.out.append(self.escape(in_class=False))
            elif char == "[":
                self.char_class()
            elif char == "(" and text.startswith("(?", self.at):
                self.group()
            elif char == "{":
                self.emit("\\{", 1)  # not a repetition: a literal brace, as in Go
            else:
                self.emit(char, 1)
        return "".join(self.out)

    def emit(self, spelt: str, length: int) -> None:
        self.out.append(spelt)
        self.at += length

    def repeat(self) -> None:
        found = _REPEAT.match(self.pattern, self.at)
        assert found is not None
        low, comma, high = found.groups()
        counts = [int(low)] + ([int(high)] if high else [])
        if max(counts) > _MAX_REPEAT:
            raise _Problem(f"repetition {found.group()} exceeds RE2's limit of {_MAX_REPEAT}")
        if high and int(high) < int(low):
            raise _Problem(f"repetition {found.group()} has its bounds the wrong way round")
        self.emit(found.group(), found.end() - self.at)
        del comma

    def group(self) -> None:
        text, at = self.pattern, self.at
        for opener, name in _PERL_GROUPS.items():
            if text.startswith(opener, at):
                raise _Problem(f"RE2 has no {name}")
        named = _GROUP_NAME.match(text, at)
        if named:
            self.emit(f"(?P<{named.group(1)}>", named.end() - at)
            return
        if text.startswith("(?:", at):
            self.emit("(?:", 3)
            return
        flags = _FLAG_GROUP.match(text, at)
        if flags is None:
            raise _Problem(f"RE2 does not know the group {text[at : at + 4]!r}")
        on, off, end = flags.groups()
        letters = on + (off or "")
        unknown = sorted(set(letters) - set("imsU"))
        if unknown or (off is not None and not off) or not letters:
            shown = "".join(unknown) or flags.group()
            raise _Problem(f"{shown!r}: RE2's flags are i, m, s and U")
        # Flags change what matches, not whether the pattern parses: Python gets a plain group
        # (it allows global flags only at the very start, and has no U).
        self.emit("(?:" if end == ":" else "", flags.end() - at)

    def char_class(self) -> None:
        text = self.pattern
        start = self.at
        self.emit("[", 1)
        if text.startswith("^", self.at):
            self.emit("^", 1)
        first = True
        while self.at < len(text):
            char = text[self.at]
            if char == "]" and not first:
                self.emit("]", 1)
                return
            first = False
            posix = _POSIX_CLASS.match(text, self.at)
            if posix:
                if posix.group(2) not in _POSIX_NAMES:
                    raise _Problem(f"{posix.group()!r} is not a POSIX class RE2 knows")
                self.emit("\\W" if posix.group(1) else "\\w", posix.end() - self.at)
            elif char == "\\":
                self.out.append(self.escape(in_class=True))
            elif char in "[]&~|":
                self.emit("\\" + char, 1)  # literal in RE2; Python warns or may read a set operation
            else:
                self.emit(char, 1)
        raise _Problem(f"missing closing ] for the class opened at {start + 1}")

    def escape(self, *, in_class: bool) -> str:
        """Read the escape at ``self.at``; return its spelling for Python."""
        text = self.pattern
        if self.at + 1 >= len(text):
            raise _Problem("trailing backslash at end of expression")
        char = text[self.at + 1]
        self.at += 2
        if char.isascii() and not char.isalnum():
            return "\\" + char  # escaped punctuation: the character itself
        if char in "01234567":
            return self.octal(char)
        if char in "89":
            raise _Problem(f"\\{char}: RE2 has no backreferences")
        if char == "x":
            return self.hexadecimal()
        if char in "pP":
            return self.unicode_class()
        if char == "Q":
            end = text.find("\\E", self.at)
            quoted = text[self.at :] if end < 0 else text[self.at : end]
            self.at = len(text) if end < 0 else end + 2
            return re.escape(quoted)
        if char in _LETTER_ESCAPES and not (in_class and char in _CLASS_ONLY_OUTSIDE):
            return "\\Z" if char == "z" else "\\" + char
        raise _Problem(f"\\{char} is not an escape RE2 knows" + (" inside [...]" if in_class else ""))

    def octal(self, first: str) -> str:
        text = self.pattern
        digits = first
        while len(digits) < 3 and self.at < len(text) and text[self.at] in "01234567":
            digits += text[self.at]
            self.at += 1
        if first != "0" and len(digits) == 1:
            raise _Problem(f"\\{first}: RE2 has no backreferences")
        return re.escape(chr(int(digits, 8)))

    def hexadecimal(self) -> str:
        found = _HEX.match(self.pattern, self.at - 1)
        if found is None:
            raise _Problem("\\x needs two hex digits or {hex digits}")
        code = int(found.group(1) or found.group(2), 16)
        if code > 0x10FFFF:
            raise _Problem(f"\\x{{{found.group(2)}}} is beyond Unicode")
        self.at = found.end()
        return re.escape(chr(code))

    def unicode_class(self) -> str:
        found = _UNICODE_CLASS.match(self.pattern, self.at - 1)
        if found is None:
            raise _Problem("\\p and \\P need a class name: \\pL or \\p{Greek}")
        self.at = found.end()
        # The name is not checked against Unicode's tables here; Python has no \p, so any
        # class stands in for it (what matters below is the syntax around it).
        return "\\w"


def selector_problem(selector: str) -> str | None:
    """What is wrong with the first regex matcher of ``selector`` that Go would not compile.

    ``selector`` has the spec's selector shape already (``metric{label op "value", ...}``).
    The ``{namespace}``, ``{environment}`` and ``{model}`` placeholders are filled with
    DNS-safe names before Prometheus sees the regex, so a plain letter stands in for them.
    """
    body = selector[selector.find("{") + 1 :] if "{" in selector else ""
    for matcher in _MATCHER.finditer(body):
        label, operator, quoted = matcher.groups()
        if operator not in ("=~", "!~"):
            continue
        regex = _PLACEHOLDER.sub("x", go_unquote(quoted))
        problem = re2_problem(regex)
        if problem is not None:
            return f'the regex of {label}{operator}"{quoted}" is not valid RE2: {problem}'
    return None


_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_PLACEHOLDER = re.compile(r"\{(?:namespace|environment|model)\}")


def go_unquote(body: str) -> str:
    """The text of a PromQL double-quoted string's body (Go escapes), as mlgitops reads it.

    The same reading as ``targets/monitoring/promql.py`` (which validation does not import: it would
    bring the renderer along): an escape Go would reject keeps its backslash.
    """
    return _GO_ESCAPE.sub(_go_unescape, body)


_GO_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.DOTALL)
_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _go_unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "xuU" and len(code) > 1:
        return chr(int(code[1:], 16)) if int(code[1:], 16) <= 0x10FFFF else "\\" + code
    if len(code) == 3 and code.isdigit():
        return chr(int(code, 8))
    return _SIMPLE.get(code, code if code in "\\\"'" else "\\" + code)
