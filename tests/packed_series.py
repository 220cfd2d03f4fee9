"""Reads the packed metadata series of the shared rules (``packing.packed``) back as the
series Prometheus records, for tests that look at the rule text: each term's value and its
packed label split into the fields the unpacking ``label_replace`` calls name (the last field
takes the rest; an empty field is no label).  A term grouped by value
(``prometheus_shapes.by_value``: the models selected by ``model=~"a|b"``, its one field the
packed text) is a series of value 1 per model it lists.  tests/test_packed_metadata.py checks
with promtool that Prometheus reads them the same way."""

from __future__ import annotations

import re

_TERM = re.compile(r'label_replace\(vector\(([^)]*)\), "mlgitops_packed", "((?:[^"\\]|\\.)*)", "", ""\)')
_STRING = r'"((?:[^"\\]|\\.)*)"'
_SELECTED = re.compile(
    rf'label_replace\([\w:]*\{{[^}}]*model=~{_STRING}\}}, "mlgitops_packed", {_STRING}, "", ""\)'
)
_REGEX_ESCAPE = re.compile(r"\\(.)")
_FIELD = re.compile(r'"(\w+)", "\$1", "mlgitops_packed"')
_ESCAPE = re.compile(r"\\(x[0-9a-f]{2}|.)")
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unquote(text: str) -> str:
    def one(found: re.Match[str]) -> str:
        code = found[1]
        return chr(int(code[1:], 16)) if code.startswith("x") else _SIMPLE.get(code, code)

    return _ESCAPE.sub(one, text)


# what ends each packed union: the packed label dropped once its fields are read (on a line of
# its own: a term grouped by value may set the packed label to an empty text)
_END = '\n"mlgitops_packed", "", "", "")'


def series(expr: str) -> list[tuple[str, dict[str, str]]]:
    """(value, labels) of every term of the packed unions in a metadata rule's ``expr`` (one, or
    several joined, as the routing series' owner and route are), in order."""
    unions = expr.split(_END)[:-1]
    assert unions, expr
    out = []
    for union in unions:
        fields = _FIELD.findall(union)
        assert fields, union
        for value, packed in _TERM.findall(union):
            texts = _unquote(packed).replace("$$", "$").split("|", len(fields) - 1)
            assert len(texts) == len(fields), (fields, packed)
            out.append((value, {f: t for f, t in zip(fields, texts, strict=True) if t}))
        for listed, packed in _SELECTED.findall(union):
            assert len(fields) == 1, fields
            text = _unquote(packed).replace("$$", "$")
            for name in _unquote(listed).split("|"):  # model names hold no "|"
                labels = {"model": _REGEX_ESCAPE.sub(r"\1", name), fields[0]: text}
                out.append(("1", {label: t for label, t in labels.items() if t}))
    return out


def outside(expr: str) -> str:
    """``expr`` without its packed terms: the PromQL around the texts they carry."""
    return _SELECTED.sub("", _TERM.sub("", expr))
