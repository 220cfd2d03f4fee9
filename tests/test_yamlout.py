"""mlgitops' own YAML emitter writes exactly the data it is given, for YAML 1.1 and 1.2 readers.

``yaml.safe_load`` is PyYAML, a YAML 1.1 reader (``yes``, ``on``, ``0777`` and
``1_000`` mean other things there): reading our output back with it proves that
Kubernetes, Argo CD and other YAML 1.1 consumers see the same values.  The
project's own loader (YAML 1.2 core schema) must agree too.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlgitops.load import parse_documents
from mlgitops.render import yamlout

YAML_WORDS = [
    "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "off", "OFF", "y", "Y", "n", "N",
    "true", "True", "false", "FALSE", "null", "Null", "NULL", "~", "", " ",
    "1.10", "1.0", "1e3", "1E-3", ".5", "5.", "+1", "-1", "0", "00", "0777", "0o17", "0x1F", "0b101",
    "1_000", "1:20", "190:20:30", "2026-01-01", "2026-01-01T10:00:00Z", ".inf", "-.inf", ".nan", "NaN",
    "inf", "=", "<<", "-", "--", "---", "...", "- a", "? a", ": a", "a: b", "a:b", "#", "a #b", "a#b",
    "&a", "*a", "!a", "!!str", "%a", "@a", "`a", "|", ">", "'", '"', "\\", "{", "}", "[", "]", ",", "a,b",
    "{{ x }}", "${{ x }}", "{= x =}", "{% x %}",
]  # fmt: skip
CONTROL = "".join(chr(c) for c in [*range(0x00, 0x20), 0x7F, 0x85, 0xA0, 0x2028, 0x2029, 0xFEFF, 0xFFFE])
# Characters that must never appear raw in the output (a tab may, inside a literal block).
RAW_FORBIDDEN = frozenset(
    [chr(c) for c in range(0x20) if chr(c) not in "\t\n"]
    + [chr(c) for c in range(0x7F, 0xA0)]
    + ["\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff"]
)
text = st.one_of(
    st.sampled_from(YAML_WORDS),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.text(st.sampled_from("ab \n\t\r:#-'\"\\{}[]|>!&*%@`,?~." + CONTROL), max_size=20),
    st.lists(st.sampled_from([*YAML_WORDS, "\n", " ", "\t"]), max_size=6).map("".join),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),  # nan != nan: checked on its own below
    text,
)
data = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(text, children, max_size=5)),
    max_leaves=25,
)


def read_with_pyyaml(output: str) -> Any:
    return yaml.safe_load(output)


def read_with_mlgitops(output: str) -> Any:
    documents, problem = parse_documents(output)
    assert problem is None, f"{problem} in:\n{output}"
    assert len(documents) == 1
    return documents[0]


@settings(max_examples=600, deadline=None)
@given(data)
def test_pyyaml_reads_back_exactly_what_was_written(value: Any) -> None:
    output = yamlout.dump(value)
    assert read_with_pyyaml(output) == value, output


@settings(max_examples=600, deadline=None)
@given(data)
def test_the_mlgitops_loader_reads_back_exactly_what_was_written(value: Any) -> None:
    output = yamlout.dump(value)
    assert read_with_mlgitops(output) == value, output


@settings(max_examples=300, deadline=None)
@given(data)
def test_output_is_deterministic_and_well_formed(value: Any) -> None:
    output = yamlout.dump(value)
    assert yamlout.dump(value) == output
    assert output.endswith("\n")
    raw = sorted({c for c in output if c in RAW_FORBIDDEN})
    assert not raw, f"raw control or line-break characters {raw!r} in the output (escape them)"


@settings(max_examples=300, deadline=None)
@given(st.lists(data, min_size=1, max_size=4))
def test_several_documents_read_back_as_several(documents: list[Any]) -> None:
    output = yamlout.dump_documents(documents)
    assert list(yaml.safe_load_all(output)) == documents
    parsed, problem = parse_documents(output)
    assert problem is None and parsed == documents


@settings(max_examples=300, deadline=None)
@given(data)
def test_flow_style_reads_back_exactly(value: Any) -> None:
    """``flow`` is what templates write for ``{= expression =}``: one line, same data."""
    output = yamlout.flow(value)
    assert "\n" not in output
    assert yaml.safe_load(f"key: {output}\n") == {"key": value}
    assert read_with_mlgitops(f"key: {output}\n") == {"key": value}


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e-05, 1e16, -2.5e-300, 0.1, -0.0])
def test_special_floats(value: float) -> None:
    for read in (read_with_pyyaml, read_with_mlgitops):
        back = read(yamlout.dump({"x": value}))["x"]
        assert isinstance(back, float)
        if math.isnan(value):
            assert math.isnan(back)
        else:
            assert back == value and math.copysign(1, back) == math.copysign(1, value)


@pytest.mark.parametrize(
    "word", ["yes", "no", "on", "off", "y", "n", "null", "~", "1.10", "2026-01-01", "0777"]
)
def test_yaml_1_1_words_are_quoted(word: str) -> None:
    assert yamlout.dump({"k": word}) == f'k: "{word}"\n'


def test_plain_strings_stay_plain() -> None:
    assert yamlout.dump({"name": "iris-classifier", "path": "deploy/dev"}) == (
        "name: iris-classifier\npath: deploy/dev\n"
    )
