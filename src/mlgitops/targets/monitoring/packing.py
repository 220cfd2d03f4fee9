"""Tables of constants as PromQL: the packed metadata unions of the shared rules.

Prometheus has no other way to hold a table of constants than recording rules; a rule per row
would be thousands of rules, and a ``label_replace`` per label and row megabytes. So each row is
one ``label_replace(vector(value), "mlgitops_packed", "<field>|<field>|…", "", "")`` term, the
terms an ``or`` (:func:`union`), and the packed label is split into one label per field once,
around the whole union (:func:`packed`); a large table is several rules of one name
(:func:`packed_parts`). docs/monitoring.md explains the encoding; tests/test_packed_metadata.py
runs it through promtool.
"""

from __future__ import annotations

from collections.abc import Iterable

from mlgitops.targets.monitoring.promql import quote

PACKED = "mlgitops_packed"  # the one label a metadata term sets; unpacked once per rule
_SEPARATOR = "|"


def union(terms: list[str]) -> str:
    """The ``or`` of ``terms`` as a balanced tree: ``or`` copies its left side and hashes its
    labels, so a chain of n terms costs n² per evaluation and a balanced one n log n."""
    if len(terms) <= 2:
        return "\nor ".join(terms)
    middle = len(terms) // 2
    # a line per term: the YAML block indents every line of the rule file
    return f"({union(terms[:middle])})\nor ({union(terms[middle:])})"


def packed(fields: tuple[str, ...], rows: Iterable[tuple[str, tuple[str, ...]]]) -> str:
    """One series per row (value, one text per field), each written as ``vector(value)`` with the
    fields joined by ``|`` into one label, :data:`PACKED`, then unpacked into a label per field by
    one ``label_replace`` per field around the whole union (an empty field sets no label, as
    Prometheus drops empty labels).  The last field may hold any text, ``|`` included (it is read
    to the end); the others are names and numbers without ``|``.  ``label_replace`` expands ``$``
    in its replacement (a group reference), so the packed text's ``$`` is written ``$$``; what a
    group captures is copied as it is."""
    terms = _packed_terms(fields, rows)
    return _unpacked(fields, terms) if terms else ""


# The most bytes of terms one packed rule holds (:func:`packed_parts`): about 1,100 SLOs. One
# rule is never cut between PrometheusRule objects (``prometheus.shared_parts``, 900 kB each),
# and the API server takes no object over about 1.5 MiB; so a large environment's metadata is
# several rules of one name, each recording the series of its rows (their labels differ).
PACKED_RULE_BUDGET = 250_000


def packed_parts(
    fields: tuple[str, ...], rows: Iterable[tuple[str, tuple[str, ...]]], budget: int = PACKED_RULE_BUDGET
) -> list[str]:
    """:func:`packed`, cut between rows into expressions of at most ``budget`` bytes of terms
    each (one, holding all rows, below it; none without rows), in the order of ``rows``."""
    parts: list[list[str]] = []
    size = budget
    for term in _packed_terms(fields, rows):
        if size + len(term) > budget:
            parts.append([])
            size = 0
        parts[-1].append(term)
        size += len(term)
    return [_unpacked(fields, terms) for terms in parts]


def _packed_terms(fields: tuple[str, ...], rows: Iterable[tuple[str, tuple[str, ...]]]) -> list[str]:
    terms = []
    for value, texts in rows:
        if len(texts) != len(fields) or any(_SEPARATOR in t for t in texts[:-1]):
            raise ValueError(f"metadata fields {fields} cannot hold {texts}")
        text = quote(_SEPARATOR.join(texts).replace("$", "$$"))
        terms.append(f'label_replace(vector({value}), "{PACKED}", {text}, "", "")')
    return terms


def _unpacked(fields: tuple[str, ...], terms: list[str]) -> str:
    expr = union(terms)
    last = len(fields) - 1
    for index, label in enumerate(fields):
        skip = f"(?:[^|]*[|]){{{index}}}" if index else ""
        # (?s): the free text may hold a line break, which "." does not match otherwise
        regex = f"{skip}((?s:.*))" if index == last else f"{skip}([^|]*)[|](?s:.*)"
        expr = f'label_replace(\n{expr},\n"{label}", "$1", "{PACKED}", "{regex}")'
    return f'label_replace(\n{expr},\n"{PACKED}", "", "", "")'
