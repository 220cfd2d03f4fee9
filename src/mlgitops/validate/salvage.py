"""One run, every problem: a spec file whose schema failed still takes part in the
cross-file, reference and policy checks, through the fields that are valid.

The broken fields are left out of a copy of the data, a round at a time, as far as the
spec allows them to be absent: a wrong optional field is dropped; a required one takes its
enclosing mapping with it (a broken ``deployments.dev.version`` drops ``dev``), and when
that reaches the document's top level (a broken ``metadata.name``) the attempt ends and
the file sits the later checks out, as before.

Leaving a field out makes its default apply, which a later check could then blame (a
dropped ``waivePromotionOrder`` would fail the promotion order, a dropped
``serving.artifact`` would be "set in no layer").  So :class:`Distrust` keeps what was
dropped, and :func:`trusted` leaves out the later diagnostics that could be owed to it:
any inside a mapping that lost a field; a check of merged values that reads a section
that lost one (``_READS``); and, when the project file was salvaged, every check of
merged values, since its settings reach every model.  A problem is reported by the check
that found it, never by one that ran on a stand-in.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from mlgitops.diagnostics import Diagnostic
from mlgitops.load import SourceDocument

SpecT = TypeVar("SpecT", bound=BaseModel)
DataPath = tuple[str | int, ...]

# Each round drops what the previous one reported; a field nested in a broken one may
# show up only once its parent validates, hence a few rounds, not one.
_ROUNDS = 4


# The sections of a model's spec a check of the merged values reads, by code: its verdict
# in a salvaged file stands only if nothing was dropped there.  A code of the resolve,
# Kubernetes-limit or policy stages missing here reads anything and is never trusted.
_READS: dict[str, frozenset[str]] = {
    **dict.fromkeys(
        ("MLG316", "MLG317", "MLG320", "MLG330", "MLG331", "MLG332", "MLG333", "MLG334", "MLG335"),
        frozenset({"serving", "monitoring"}),
    ),
    # a runtime's name and its protocols: the serving settings, and their per-environment overrides
    **dict.fromkeys(("MLG380", "MLG381"), frozenset({"serving", "deployments"})),
    "MLG401": frozenset({"evaluation"}),
    "MLG402": frozenset({"monitoring"}),
    "MLG403": frozenset({"serving", "training", "evaluation"}),
}


@dataclass(frozen=True, slots=True)
class Distrust:
    """What was dropped from a salvaged file: the line spans (first, last; 1-based) of the
    mappings that held a dropped field, and the spec sections it came from."""

    spans: tuple[tuple[int, int], ...]
    sections: frozenset[str]
    # The project file's settings reach every model's merged values: with any of them
    # dropped, no check of merged values can be trusted, in any file.
    everywhere: bool = False

    def covers(self, diagnostic: Diagnostic, *, merged: bool) -> bool:
        """Whether ``diagnostic`` of a later check could be owed to what was dropped;
        ``merged``: a check of the merged values (resolve, Kubernetes limits, policies)."""
        where = diagnostic.location
        assert where is not None
        if any(first <= where.line <= last for first, last in self.spans):
            return True
        if not merged:
            return False  # a reference check reads only what it points at
        reads = _READS.get(diagnostic.code)
        return reads is None or not reads.isdisjoint(self.sections)


@dataclass(frozen=True, slots=True)
class Salvaged(Generic[SpecT]):
    """The spec without its broken fields, and what was dropped."""

    spec: SpecT
    distrust: Distrust


def salvage(doc: SourceDocument, model: type[SpecT], broken: Iterable[DataPath]) -> Salvaged[SpecT] | None:
    """``doc`` validated without the fields at ``broken`` (and what they hid), or None when
    a required field is among them."""
    from mlgitops.validate.schema import data_path

    data: Any = copy.deepcopy(doc.data)
    dropped: list[DataPath] = []
    pending = [_droppable(path) for path in broken]
    for _ in range(_ROUNDS):
        if any(path is None for path in pending):
            return None
        for path in pending:
            assert path is not None
            _drop(data, path)
            dropped.append(path)
        try:
            spec = model.model_validate(data)
        except ValidationError as exc:
            pending = []
            for error in exc.errors(include_url=False):
                kind = error["type"]
                path = data_path(data, error["loc"], keep_missing=kind in ("missing", "extra_forbidden"))
                # a field that is missing (once its broken value went) takes its mapping with
                # it; a required mapping ends the attempt at the document's top level
                pending.append(_droppable(path[:-1] if kind == "missing" else path))
            continue
        spans = tuple(span for path in dropped if (span := _parent_span(doc, path)))
        return Salvaged(spec, Distrust(spans, frozenset(map(_section, dropped))))
    return None


def trusted(
    diagnostics: Sequence[Diagnostic], distrusted: Mapping[str, Distrust], *, merged: bool
) -> list[Diagnostic]:
    """The later checks' ``diagnostics`` minus those a salvaged file's dropped fields may cause."""
    if not distrusted:
        return list(diagnostics)
    if merged and any(d.everywhere for d in distrusted.values()):
        return []
    return [
        d
        for d in diagnostics
        if d.location is None
        or d.location.file not in distrusted
        or not distrusted[d.location.file].covers(d, merged=merged)
    ]


def _section(path: DataPath) -> str:
    """The part of the spec a dropped field belongs to (a deployment's override counts as
    the section it overrides: ``deployments.prod.serving`` is ``serving``)."""
    if path[0] != "spec" or len(path) < 2:
        return str(path[0])
    if path[1] == "deployments" and len(path) >= 4:
        return str(path[3])
    return str(path[1])


def _droppable(path: DataPath) -> DataPath | None:
    """The mapping key to drop for a problem at ``path``: a list item is never removed alone
    (the items after it would move, and every later location with them), so a problem in one
    drops the whole list.  None for the document's top level, which is all required."""
    trimmed = list(path)
    while trimmed and isinstance(trimmed[-1], int):
        trimmed.pop()
    return tuple(trimmed) if len(trimmed) >= 2 else None


def _drop(data: Any, path: DataPath) -> None:
    node = data
    for step in path[:-1]:
        in_dict = isinstance(node, dict) and step in node
        if in_dict or (isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)):
            node = node[step]
        else:
            return  # already gone with a dropped parent
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _parent_span(doc: SourceDocument, path: DataPath) -> tuple[int, int] | None:
    """The lines of the mapping that held the dropped field (the whole mapping: its other
    fields may be judged against the missing one)."""
    parent = doc.node_at(path[:-1])
    if parent is None:
        return None
    end = parent.end_mark
    # A block collection ends at the start of the line after it.
    last = end.line if end.column == 0 else end.line + 1
    return parent.start_mark.line + 1, max(last, parent.start_mark.line + 1)
