"""Numbers that are not finite: NaN and ±infinity are refused wherever a spec holds a number.

YAML spells them ``.nan``, ``.inf`` and ``-.inf`` (and ``1e999`` overflows to infinity).
Every comparison with NaN is false, so ``min: .nan`` on an evaluation gate passes
whatever the metric, and an infinite autoscaling target cannot be written to a
Kubernetes object at all.  One walk over the loaded data finds them before the schema
is applied, so no field, list or override can let one through.
"""

from __future__ import annotations

import math
from typing import Any

from yaml.nodes import ScalarNode

from mlgitops.diagnostics import Diagnostic, make
from mlgitops.load import SourceDocument

DataPath = tuple[str | int, ...]


def non_finite_paths(data: Any) -> list[DataPath]:
    """The data paths of every NaN or infinite float in ``data``, in document order."""
    found: list[DataPath] = []
    if _has_non_finite(data):  # the quick answer for every sound file; paths only when needed
        _collect(data, (), found)
    return found


def _has_non_finite(node: Any) -> bool:
    # type() rather than isinstance, and ``x - x != 0`` (true for NaN and ±inf only) rather
    # than math.isfinite: the loader builds plain dicts, lists and floats, and this runs over
    # every value of every spec file.
    values = node.values() if type(node) is dict else node
    for value in values:
        kind = type(value)
        if kind is dict or kind is list:
            if _has_non_finite(value):
                return True
        elif kind is float and value - value != 0:
            return True
    return False


def _collect(node: Any, path: DataPath, found: list[DataPath]) -> None:
    items = node.items() if type(node) is dict else enumerate(node)
    for step, value in items:
        kind = type(value)
        if kind is dict or kind is list:
            _collect(value, (*path, step), found)
        elif kind is float and not math.isfinite(value):
            found.append((*path, step))


def non_finite_diagnostic(doc: SourceDocument, path: DataPath, where: str) -> Diagnostic:
    """MLG208 for the number at ``path`` (``where``: the path spelt for the message)."""
    node = doc.node_at(path)
    written = node.value if isinstance(node, ScalarNode) else "this number"
    return make(
        "MLG208",
        f"{where}: {written} is not a finite number",
        doc.locate(path),
        "NaN and infinity pass or fail comparisons wrongly (a gate with min: .nan passes any "
        "metric); write a finite number",
    )
