"""The strict YAML front door (src/mlgitops/load.py)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from yaml.nodes import ScalarNode

from mlgitops.codes import CODES, Severity
from mlgitops.diagnostics import Diagnostic, Location
from mlgitops.load import (
    MAX_DEPTH,
    MAX_EXPANDED_NODES,
    MAX_FILE_BYTES,
    SourceDocument,
    load_document,
    load_text,
)

DISPLAY = "models/m.yaml"
STR_TAG = "tag:yaml.org,2002:str"


def load(text: str | bytes) -> tuple[SourceDocument | None, list[Diagnostic]]:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return load_text(raw, Path(DISPLAY), DISPLAY)


def data_of(text: str | bytes) -> dict[str, Any]:
    doc, problems = load(text)
    assert doc is not None, problems
    assert problems == []
    return doc.data


def rejected(text: str | bytes) -> Diagnostic:
    doc, problems = load(text)
    assert doc is None, f"accepted: {doc.data if doc else None}"
    assert len(problems) == 1, problems
    return problems[0]


def at(line: int, column: int) -> Location:
    return Location(DISPLAY, line, column)


# --- YAML 1.2 core schema scalars -----------------------------------------------------------


@pytest.mark.parametrize(
    "word",
    ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "OFF", "Y", "N"],
)
def test_yaml_1_1_booleans_stay_strings(word: str) -> None:
    assert data_of(f"value: {word}\n") == {"value": word}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("FALSE", False),
        ("null", None),
        ("Null", None),
        ("NULL", None),
        ("~", None),
        ("", None),
        ("tRUE", "tRUE"),
        ("nULL", "nULL"),
    ],
)
def test_core_booleans_and_nulls(text: str, value: object) -> None:
    assert data_of(f"value: {text}\n") == {"value": value}


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-01",
        "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.10 -5",
        "1:30",
        "1_000",
        "0b1010",
        "0O17",
    ],
)
def test_yaml_1_1_dates_sexagesimals_and_underscores_stay_strings(text: str) -> None:
    assert data_of(f"value: {text}\n") == {"value": text}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("-7", -7),
        ("+3", 3),
        ("010", 10),  # decimal in YAML 1.2, not octal
        ("0o17", 15),
        ("0o0", 0),
        ("0x1F", 31),
        ("0xff", 255),
        ("123456789012345678901234567890", 123456789012345678901234567890),
    ],
)
def test_core_integers(text: str, value: int) -> None:
    data = data_of(f"value: {text}\n")
    assert data == {"value": value}
    assert type(data["value"]) is int


@pytest.mark.parametrize(("text", "value"), [("0x", "0x"), ("0o8", "0o8"), ("-0x1", "-0x1"), ("0xg", "0xg")])
def test_almost_integers_are_strings(text: str, value: str) -> None:
    assert data_of(f"value: {text}\n") == {"value": value}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.5", 1.5),
        ("-.5", -0.5),
        ("1.", 1.0),
        ("1e3", 1000.0),
        ("6.02E+23", 6.02e23),
        (".inf", math.inf),
        (".Inf", math.inf),
        ("+.INF", math.inf),
        ("-.inf", -math.inf),
    ],
)
def test_core_floats(text: str, value: float) -> None:
    data = data_of(f"value: {text}\n")
    assert data == {"value": value}
    assert type(data["value"]) is float


@pytest.mark.parametrize("text", [".nan", ".NaN", ".NAN"])
def test_nan(text: str) -> None:
    assert math.isnan(data_of(f"value: {text}\n")["value"])


@pytest.mark.parametrize("text", [".Nan", "inf", "nan", "-.nan", "1.2.3", "1e", "e3"])
def test_almost_floats_are_strings(text: str) -> None:
    assert data_of(f"value: {text}\n") == {"value": text}


def test_quoted_and_explicitly_tagged_scalars() -> None:
    assert data_of("a: 'true'\nb: \"12\"\nc: !!str 12\nd: !!int '12'\ne: !!float 1\nf: '2026-01-01'\n") == {
        "a": "true",
        "b": "12",
        "c": "12",
        "d": 12,
        "e": 1.0,
        "f": "2026-01-01",
    }


def test_block_scalars() -> None:
    assert data_of("a: |\n  line one\n  line two\nb: >-\n  folded\n  text\n") == {
        "a": "line one\nline two\n",
        "b": "folded text",
    }


def test_keys_are_always_their_text() -> None:
    assert data_of("1: a\ntrue: b\n~: c\nyes: d\n0x10: e\n") == {
        "1": "a",
        "true": "b",
        "~": "c",
        "yes": "d",
        "0x10": "e",
    }


# --- anchors, aliases and merge keys -------------------------------------------------------

MERGE_TEXT = """\
base: &base
  x: 1
  y: 2
extra: &extra {z: 3, x: 30}
derived:
  <<: *base
  y: 20
multi:
  <<: [*extra, *base]
  w: 0
scalar: &word hello
again: *word
items: &items [a, b]
copy: *items
"""


def test_anchors_aliases_and_merge_keys() -> None:
    assert data_of(MERGE_TEXT) == {
        "base": {"x": 1, "y": 2},
        "extra": {"z": 3, "x": 30},
        "derived": {"x": 1, "y": 20},  # own keys override merged ones
        "multi": {"z": 3, "x": 30, "y": 2, "w": 0},  # earlier merge sources win
        "scalar": "hello",
        "again": "hello",
        "items": ["a", "b"],
        "copy": ["a", "b"],
    }


def test_merge_only_accepts_mappings() -> None:
    assert rejected("a:\n  <<: 5\n").code == "MLG103"
    problem = rejected("l: &l [1]\na:\n  <<: [*l]\n")
    assert problem.code == "MLG103"
    assert problem.location == at(1, 4)


def test_undefined_alias() -> None:
    problem = rejected("a: *nope\n")
    assert problem.code == "MLG103"
    assert problem.location == at(1, 4)


# --- locate() -------------------------------------------------------------------------------

LOCATE_TEXT = """\
apiVersion: mlgitops/v1
kind: Model
spec:
  deployments:
    prod: {version: 1.4.2, canary: {traffic: 10}}
  list:
    - first
    - name: second
      value: 2
  defaults: &defaults
    cpu: 500m
  serving:
    <<: *defaults
    memory: 1Gi
"""


@pytest.fixture(scope="module")
def located() -> SourceDocument:
    doc, problems = load(LOCATE_TEXT)
    assert doc is not None, problems
    return doc


@pytest.mark.parametrize(
    ("path", "key", "where"),
    [
        ((), False, (1, 1)),
        (("kind",), False, (2, 7)),
        (("kind",), True, (2, 1)),
        (("spec", "deployments"), True, (4, 3)),
        (("spec", "deployments", "prod", "version"), False, (5, 21)),
        (("spec", "deployments", "prod", "version"), True, (5, 12)),
        (("spec", "deployments", "prod", "canary", "traffic"), False, (5, 46)),
        (("spec", "list", 0), False, (7, 7)),
        (("spec", "list", 1), False, (8, 7)),
        (("spec", "list", 1, "value"), False, (9, 14)),
        (("spec", "list", 1, "value"), True, (9, 7)),
        # A merged value is found where it is written: in the anchored mapping.
        (("spec", "serving", "cpu"), False, (11, 10)),
        (("spec", "serving", "cpu"), True, (11, 5)),
        (("spec", "serving", "memory"), False, (14, 13)),
    ],
)
def test_locate(
    located: SourceDocument, path: tuple[str | int, ...], key: bool, where: tuple[int, int]
) -> None:
    assert located.locate(path, key=key) == at(*where)


@pytest.mark.parametrize(
    ("path", "where"),
    [
        # A missing field belongs under the deepest part that exists: its key.
        (("spec", "deployments", "staging"), (4, 3)),
        (("spec", "deployments", "prod", "canary", "version"), (5, 28)),
        (("spec", "list", 5), (6, 3)),
        (("spec", "list", "name"), (6, 3)),
        (("spec", "kind", 0), (3, 1)),
        (("nothing",), (1, 1)),
        (("spec", "list", 1, "missing"), (8, 7)),
    ],
)
def test_locate_missing_paths(
    located: SourceDocument, path: tuple[str | int, ...], where: tuple[int, int]
) -> None:
    assert located.locate(path) == at(*where)


def test_locate_points_at_the_text(located: SourceDocument) -> None:
    lines = located.text.splitlines()
    for path, expected in [
        (("spec", "deployments", "prod", "version"), "1.4.2"),
        (("spec", "list", 1, "name"), "second"),
        (("spec", "serving", "memory"), "1Gi"),
    ]:
        loc = located.locate(path)
        assert lines[loc.line - 1][loc.column - 1 :].startswith(expected)


# --- rejections, each with its code and location ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        ("a: 1\nb: 2\na: 3\n", "MLG104", (3, 1)),
        ("spec:\n  x: 1\n  y: 2\n  x: 1\n", "MLG104", (4, 3)),
        ("a: {k: 1, k: 2}\n", "MLG104", (1, 11)),
        ("a: &a [*a]\n", "MLG105", (1, 4)),
        ("a:\n\tb: 1\n", "MLG106", (2, 1)),
        ("a:\n  \tb: 1\n", "MLG106", (2, 3)),
        ("a: 1\n---\nb: 2\n", "MLG107", (2, 1)),
        ("a: 1\n---\n", "MLG107", (2, 1)),
        ("a: 1\n--- # second\nb: 2\n", "MLG107", (2, 1)),
        ("- a\n- b\n", "MLG108", (1, 1)),
        ("just text\n", "MLG108", (1, 1)),
        ("# only a comment\n", "MLG108", (1, 1)),
        ("", "MLG108", (1, 1)),
        ("a: [1, 2\n", "MLG103", (1, 9)),
        ("a: b: c\n", "MLG103", (1, 5)),
        ("a: 'unclosed\n", "MLG103", (1, 13)),
        ("a: \x07\n", "MLG103", (1, 4)),
        ("a: !!binary aGVsbG8=\n", "MLG111", (1, 4)),
        ("a: !!python/object:os.system {}\n", "MLG111", (1, 4)),
        ("a: !custom 1\n", "MLG111", (1, 4)),
        ("a: !!set {b: null}\n", "MLG111", (1, 4)),
        ("a: !!omap [b: 1]\n", "MLG111", (1, 4)),
        ("? [a, b]\n: 1\n", "MLG112", (1, 3)),
        ("? {a: 1}\n: 1\n", "MLG112", (1, 3)),
        ("a: !!int abc\n", "MLG103", (1, 4)),
    ],
)
def test_rejections(text: str, code: str, where: tuple[int, int]) -> None:
    problem = rejected(text)
    assert (problem.code, problem.location) == (code, at(*where)), problem.message
    assert problem.severity is Severity.ERROR
    assert problem.message


def test_syntax_error_location_is_where_the_problem_is() -> None:
    # The location is the problem's, not the start of the construct it is in.
    problem = rejected("a: 1\nb: [1, 2\nc: 3\n")
    assert problem.code == "MLG103"
    assert problem.location is not None and problem.location.line >= 2


def test_non_utf8() -> None:
    problem = rejected(b"a: 1\nb: \xff\n")
    assert (problem.code, problem.location) == ("MLG101", at(2, 4))
    assert "0xff" in problem.message


def test_utf16_is_not_utf8() -> None:
    problem = rejected("a: 1\n".encode("utf-16"))
    assert (problem.code, problem.location) == ("MLG101", at(1, 1))


def test_alias_bomb_is_bounded() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 10)}]")
    problem = rejected("\n".join(lines) + "\n")
    assert problem.code == "MLG105"
    assert f"{MAX_EXPANDED_NODES:,}" in problem.message
    assert problem.location is not None and 1 <= problem.location.line <= len(lines)


def test_shared_aliases_below_the_limit_are_fine() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"b{i}: *a" for i in range(100)]
    assert len(data_of("\n".join(lines) + "\n")) == 101


def test_nesting_depth_limit_in_the_constructor() -> None:
    text = "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    problem = rejected(text)
    assert problem.code == "MLG114"
    assert problem.location is not None and problem.location.line == 1


@pytest.mark.parametrize("depth", [3_000, 100_000])
def test_deep_nesting_never_crashes_the_interpreter(depth: int) -> None:
    # libyaml itself stops at 1,000 flow levels ("exceeded maximum nesting depth").
    problem = rejected("a: " + "[" * depth + "]" * depth + "\n")
    assert problem.code in {"MLG114", "MLG103"}
    problem = rejected("a:\n" + "".join("  " * i + "- \n" for i in range(1, min(depth, 5000))))
    assert problem.code in {"MLG114", "MLG103"}


def test_nesting_at_the_limit_is_fine() -> None:
    depth = MAX_DEPTH - 2
    data = data_of("a: " + "[" * depth + "]" * depth + "\n")
    assert isinstance(data["a"], list)


def test_oversize_file(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * (MAX_FILE_BYTES - 3) + b"\n")
    doc, problems = load_document(path, "big.yaml")
    assert doc is None
    assert [(p.code, p.location) for p in problems] == [("MLG102", Location("big.yaml", 1, 1))]


def test_file_at_the_size_limit_loads(tmp_path: Path) -> None:
    path = tmp_path / "max.yaml"
    path.write_bytes(b"a: " + b"x" * (MAX_FILE_BYTES - 4) + b"\n")
    assert path.stat().st_size == MAX_FILE_BYTES
    doc, problems = load_document(path, "max.yaml")
    assert problems == [] and doc is not None


def test_unreadable_files(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.yaml", tmp_path):
        doc, problems = load_document(path, "x.yaml")
        assert doc is None
        assert [(p.code, p.location) for p in problems] == [("MLG113", Location("x.yaml", 1, 1))]


def test_load_document_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    doc, problems = load_document(path, "m.yaml")
    assert problems == [] and doc is not None
    assert (doc.path, doc.display, doc.text, doc.data) == (path, "m.yaml", "a: 1\n", {"a": 1})


# --- BOM and line endings ----------------------------------------------------------------------


def test_utf8_bom_is_dropped() -> None:
    doc, problems = load("\ufeffapiVersion: mlgitops/v1\nkind: Model\n")
    assert problems == [] and doc is not None
    assert doc.data == {"apiVersion": "mlgitops/v1", "kind": "Model"}
    assert not doc.text.startswith("\ufeff")
    assert doc.locate(("kind",)) == at(2, 7)
    assert doc.locate(("apiVersion",), key=True) == at(1, 1)


def test_bom_does_not_shift_error_columns() -> None:
    assert rejected("\ufeffa: 1\na: 2\n").location == at(2, 1)
    assert rejected("\ufeffa: !!binary x\n").location == at(1, 4)


def test_crlf_files_load_like_lf_files() -> None:
    lf = LOCATE_TEXT
    crlf = lf.replace("\n", "\r\n")
    lf_doc, _ = load(lf)
    crlf_doc, problems = load(crlf)
    assert problems == [] and lf_doc is not None and crlf_doc is not None
    assert crlf_doc.data == lf_doc.data
    for path in [("kind",), ("spec", "list", 1, "value"), ("spec", "serving", "cpu"), ("spec", "nothing")]:
        assert crlf_doc.locate(path) == lf_doc.locate(path)
        assert crlf_doc.locate(path, key=True) == lf_doc.locate(path, key=True)


def test_crlf_rejections_are_located_like_lf() -> None:
    for text in ("a: 1\nb: 2\na: 3\n", "a:\n\tb: 1\n", "a: 1\n---\nb: 2\n", "x: 1\na: !!binary x\n"):
        assert rejected(text.replace("\n", "\r\n")).location == rejected(text).location


def test_crlf_block_scalars_use_lf() -> None:
    assert data_of("a: |\r\n  one\r\n  two\r\n") == {"a": "one\ntwo\n"}


# --- properties -------------------------------------------------------------------------------

YAMLISH = st.text(
    alphabet=st.sampled_from(list(":-[]{},#&*!|>'\"%@`?~<.= \n\t\r\ufeffaxk01é\x85\u2028")), max_size=200
)


def _line_splits(text: str) -> Iterator[list[str]]:
    yield text.split("\n")
    yield re.split(r"\r\n|[\r\n\x85\u2028\u2029]", text)


def inside(location: Location, text: str, *, end_of_stream: bool = False) -> bool:
    """Whether a 1-based line:column lies in ``text`` (the column may be one past the line's end).

    ``end_of_stream`` also accepts the start of the line after a last line that
    has no line break, where libyaml puts its end-of-stream marks.
    """
    for lines in _line_splits(text):
        if 1 <= location.line <= len(lines) and 1 <= location.column <= len(lines[location.line - 1]) + 1:
            return True
        if end_of_stream and (location.line, location.column) == (len(lines) + 1, 1) and lines[-1]:
            return True
    return False


def data_paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from data_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from data_paths(child, (*prefix, index))


def check_outcome(raw: bytes) -> None:
    doc, problems = load_text(raw, Path(DISPLAY), DISPLAY)  # must not raise
    assert (doc is None) == bool(problems)
    if doc is None:
        (problem,) = problems
        assert problem.code in CODES and CODES[problem.code].title
        assert problem.location is not None and problem.location.file == DISPLAY
        text = raw.decode("utf-8", errors="replace")
        text = text if problem.code == "MLG101" else text.removeprefix("\ufeff")
        assert inside(problem.location, text, end_of_stream=True), (problem, text)
        return
    assert isinstance(doc.data, dict)
    assert doc.text == raw.decode("utf-8").removeprefix("\ufeff")
    for path in data_paths(doc.data):
        for key in (False, True):
            location = doc.locate(path, key=key)
            assert inside(location, doc.text, end_of_stream=True), (path, location, doc.text)


def test_end_of_stream_marks_stay_inside_the_text() -> None:
    # libyaml marks the end of a stream without a final line break on the next
    # line; SourceDocument.locate clamps such marks to the end of the last line.
    problem = rejected("---")  # an empty document: "not a mapping", marked on line 2 of 1
    assert problem.location is not None and inside(problem.location, "---")
    doc, _ = load("?")
    assert doc is not None
    assert inside(doc.locate(("",)), doc.text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
@example(b"\xef\xbb\xbf")
@example(b"\xff\xfe")
@example(b"a: \xc3")
@example(b"\x00")
def test_arbitrary_bytes_give_diagnostics_not_exceptions(raw: bytes) -> None:
    check_outcome(raw)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(YAMLISH)
@example("a:\r\n  - b\r\n  - c: [d, {e: f}]\r\n")
@example("a: &x {b: 1}\nc:\n  <<: *x\n")
@example("\ufeffa: 1")
@example("a: 1\rb: [\r")
@example("a: \x85b: 2\n")
def test_yaml_like_text_gives_diagnostics_not_exceptions(text: str) -> None:
    check_outcome(text.encode("utf-8"))


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_arbitrary_text_gives_diagnostics_not_exceptions(text: str) -> None:
    check_outcome(text.encode("utf-8"))


@settings(max_examples=50)
@given(st.integers(min_value=1, max_value=20_000), st.sampled_from(["[", "{a: ", "- "]))
def test_any_nesting_depth_gives_diagnostics(depth: int, opener: str) -> None:
    closer = {"[": "]", "{a: ": "}", "- ": ""}[opener]
    body = (
        opener * depth + "x" + closer * depth
        if opener != "- "
        else "".join("  " * i + "- " + ("\n" if i < depth - 1 else "x\n") for i in range(min(depth, 3000)))
    )
    check_outcome(("a: " + body if opener != "- " else "a:\n" + body).encode())


# Round trip: what yaml.safe_dump writes, the loader reads back unchanged.

SCALARS = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none())
KEYS = st.text(max_size=10)
DATA = st.dictionaries(
    KEYS,
    st.recursive(
        SCALARS,
        lambda children: st.one_of(
            st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4)
        ),
        max_leaves=20,
    ),
    max_size=5,
)


class _CoreAwareDumper(yaml.SafeDumper):
    """SafeDumper that also quotes strings which YAML 1.2 (our loader) would read as numbers."""


def _core_resolvers() -> Iterator[tuple[str, re.Pattern[str], list[str]]]:
    from mlgitops.load.yamlcore import IMPLICIT_PATTERNS

    for tag, pattern, first in IMPLICIT_PATTERNS:
        yield tag, pattern, [*first, ""] if tag.endswith(":null") else list(first)


for _tag, _pattern, _first in _core_resolvers():
    _CoreAwareDumper.add_implicit_resolver(_tag, _pattern, _first)


def typed_differently_by_yaml_1_1(value: str) -> bool:
    """A plain scalar that PyYAML's 1.1 dumper leaves unquoted but YAML 1.2 reads as non-text."""
    from mlgitops.load.yamlcore import plain_scalar_tag

    core_tag = plain_scalar_tag(value)
    dumper_tag = yaml.SafeDumper(None).resolve(ScalarNode, value, (True, False))  # type: ignore[arg-type]
    return core_tag != STR_TAG and dumper_tag == STR_TAG


def all_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        yield from value
        for child in value.values():
            yield from all_strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from all_strings(child)


@pytest.mark.slow
@settings(max_examples=300)
@given(DATA, st.booleans(), st.sampled_from([None, True, False]), st.booleans())
def test_round_trip_of_safe_dump(
    data: dict[str, Any], sort_keys: bool, flow: bool | None, unicode: bool
) -> None:
    # PyYAML writes YAML 1.1; strings such as '0o17' or '1e3' are text there but
    # numbers in YAML 1.2, and safe_dump does not quote them (see the test below).
    assume(not any(typed_differently_by_yaml_1_1(s) for s in all_strings(data)))
    # PyYAML's emitter writes a raw NEL (U+0085) into quoted scalars with
    # allow_unicode, where every YAML reader, PyYAML's own too, folds it to a space.
    assume(not (unicode and any("\x85" in s for s in all_strings(data))))
    text = yaml.safe_dump(data, sort_keys=sort_keys, default_flow_style=flow, allow_unicode=unicode)
    assert data_of(text) == data


@pytest.mark.slow
@settings(max_examples=300)
@given(DATA, st.sampled_from([None, True, False]))
def test_round_trip_of_a_yaml_1_2_aware_dump(data: dict[str, Any], flow: bool | None) -> None:
    text = yaml.dump(data, Dumper=_CoreAwareDumper, default_flow_style=flow, sort_keys=False)
    assert data_of(text) == data


@pytest.mark.parametrize(("text", "number"), [("0o17", 15), ("1e3", 1000.0), ("-1.5E3", -1500.0)])
def test_yaml_1_1_dumpers_leave_yaml_1_2_numbers_unquoted(text: str, number: float) -> None:
    """Known difference: safe_dump({'v': '0o17'}) writes `v: 0o17`, a number for YAML 1.2 readers."""
    assert typed_differently_by_yaml_1_1(text)
    assert data_of(yaml.safe_dump({"v": text})) == {"v": number}
    assert data_of(yaml.dump({"v": text}, Dumper=_CoreAwareDumper)) == {"v": text}
