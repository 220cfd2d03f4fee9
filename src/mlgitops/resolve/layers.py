"""Merging of spec layers with provenance.

Layers are merged lowest first.  Within a layer only the fields the user
actually wrote count (pydantic's ``model_fields_set``):

* nested objects (``resources``, ``autoscaling``, ``transformer``, …) merge field by field;
* mappings (``env``, ``nodeSelector``, ``annotations``) merge key by key;
* lists (``args``, ``tolerations``, …) and scalars replace what lower layers set;
* an explicit ``null`` removes what lower layers set, down to mlgitops' own
  defaults, so the serving platform's default applies (the target omits the field,
  or refuses the null in ``validate`` where the platform has no default).

Every leaf of the result remembers the :class:`Origin` it came from, and every
explicit ``null`` that decided a value is kept in ``nulls`` (for ``explain`` and for
errors located on the null).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pydantic.fields import FieldInfo

from mlgitops.diagnostics import Location
from mlgitops.load import SourceDocument
from mlgitops.spec.base import SpecModel
from mlgitops.spec.common import SecretSource

Path = tuple[str, ...]


class Origin(NamedTuple):
    """Where a resolved value was written: a layer name and a place in a document.

    A NamedTuple rather than a dataclass: resolution creates one per resolved
    leaf (hundreds of thousands for a large project), and tuples are cheapest.
    """

    layer: str
    doc: SourceDocument | None = None
    path: tuple[str | int, ...] = ()

    def child(self, *steps: str | int) -> Origin:
        return Origin(self.layer, self.doc, self.path + steps)

    def location(self) -> Location | None:
        return self.doc.locate(self.path) if self.doc is not None else None

    def describe(self) -> str:
        location = self.location()
        where = f"{location.file}:{location.line}" if location else "built in"
        return f"{where} ({self.layer})"


@dataclass(frozen=True, slots=True)
class Layer:
    """One source of settings: a spec object (or None) and where it sits."""

    spec: SpecModel | None
    origin: Origin


@dataclass(frozen=True, slots=True)
class Merged:
    """The merged values (nested dicts keyed by YAML names), each leaf's origin, and the
    origin of each explicit ``null`` still in force (the value it removed is absent)."""

    values: Mapping[str, Any]
    origins: Mapping[Path, Origin]
    nulls: Mapping[Path, Origin] = field(default_factory=dict)

    def get(self, *path: str, default: Any = None) -> Any:
        node: Any = self.values
        for step in path:
            if not isinstance(node, Mapping) or step not in node:
                return default
            node = node[step]
        return node

    def origin(self, *path: str) -> Origin | None:
        """Origin of the leaf at ``path``, or of the closest leaf below it."""
        found = self.origins.get(path)
        if found is not None:
            return found
        below = [o for p, o in self.origins.items() if p[: len(path)] == path]
        return below[0] if below else None

    def null(self, *path: str) -> Origin | None:
        """Origin of the explicit ``null`` that removed the value at ``path`` (or a mapping
        above it), when one did."""
        for size in range(len(path), 0, -1):
            found = self.nulls.get(path[:size])
            if found is not None:
                return found
        return None


def top_value(layers: Sequence[Layer], field: str) -> Any:
    """The value of a top-level scalar ``field`` after merging, without merging everything."""
    for layer in reversed(layers):
        if layer.spec is not None and field in layer.spec.model_fields_set:
            return getattr(layer.spec, field)
    return None


# How one layer changes the merged values, worked out from its spec objects once (a model's
# own layer is merged into every environment it is deployed to): (kind, key, data path,
# value, origin) in merge order. The value of a NESTED step is the steps below it; of a
# MAPPING step, its (key, value, data path, origin) items.
NESTED, MAPPING, NULL, VALUE = range(4)
_PLAIN = (str, int, float, list)  # the leaves most fields hold (bool is an int)
Step = tuple[int, str, Path, Any, Origin]


@dataclass(frozen=True, slots=True)
class FlatLayer:
    """A layer as the steps that merge it (see :func:`flatten`)."""

    steps: tuple[Step, ...]


def flatten(layer: Layer, fields: Mapping[str, FieldInfo] | None = None) -> FlatLayer:
    """``layer`` as the steps that merge it, to merge it into several results without
    reading its spec objects again; ``fields`` as for :func:`merge`."""
    if layer.spec is None:
        return FlatLayer(())
    return FlatLayer(_steps(layer.spec, layer.origin, (), fields))


def merge(
    layers: Iterable[Layer | FlatLayer],
    fields: Mapping[str, FieldInfo] | None = None,
    onto: Merged | None = None,
) -> Merged:
    """Merge ``layers`` lowest first, on top of a copy of ``onto`` when given.

    ``fields`` limits the top-level fields taken (a flattened layer was limited when
    flattened).  ``onto`` lets a caller merge the layers shared by many models once and
    reuse the result.
    """
    values: dict[str, Any] = _copy_tree(onto.values) if onto else {}
    origins: dict[Path, Origin] = dict(onto.origins) if onto else {}
    nulls: dict[Path, Origin] = dict(onto.nulls) if onto else {}
    for layer in layers:
        flat = layer if isinstance(layer, FlatLayer) else flatten(layer, fields)
        _apply(flat.steps, values, origins, nulls)
    return Merged(values, origins, nulls)


def _copy_tree(values: Mapping[str, Any]) -> dict[str, Any]:
    """Copy the nested dicts of merged values (leaves are immutable or never mutated)."""
    return {k: _copy_tree(v) if isinstance(v, dict) else v for k, v in values.items()}


def _steps(
    model: SpecModel, origin: Origin, prefix: Path, fields: Mapping[str, FieldInfo] | None = None
) -> tuple[Step, ...]:
    # The class's own field dict: ``model_fields`` is a property computed on every access,
    # and this runs for every spec object of every layer.
    known = fields or type(model).__pydantic_fields__
    steps: list[Step] = []
    # Only what the user wrote counts; sorted, so merge order never depends on set iteration.
    for name in sorted(model.model_fields_set):
        field = known.get(name)
        if field is None:
            continue  # a Deployment's own fields (version, canary) are not serving settings
        key = field.alias or name
        value = getattr(model, name)
        path = (*prefix, key)
        here = origin.child(key)
        if value is None:
            steps.append((NULL, key, path, value, here))
        elif isinstance(value, _PLAIN):  # asked first: a spec class's isinstance goes through abc
            steps.append((VALUE, key, path, value, here))
        elif isinstance(value, dict):
            items = tuple((k, item, (*path, k), here.child(k)) for k, item in value.items())
            steps.append((MAPPING, key, path, items, here))
        elif isinstance(value, SpecModel) and not isinstance(value, SecretSource):
            steps.append((NESTED, key, path, _steps(value, here, path), here))
        else:
            steps.append((VALUE, key, path, value, here))
    return tuple(steps)


def _apply(
    steps: Sequence[Step], values: dict[str, Any], origins: dict[Path, Origin], nulls: dict[Path, Origin]
) -> None:
    for kind, key, path, value, here in steps:
        previous = values.get(key)
        if kind in (NESTED, MAPPING):
            if not isinstance(previous, dict):
                _replace(values, origins, key, path, previous)
                previous = values[key] = {}
            if kind == NESTED:
                _apply(value, previous, origins, nulls)
            else:
                for item_key, item, item_path, item_origin in value:
                    previous[item_key] = item
                    origins[item_path] = item_origin
        else:
            _replace(values, origins, key, path, previous)
            if nulls:
                _forget(nulls, path)
            if kind == NULL:
                nulls[path] = here
            else:
                values[key] = value
                origins[path] = here


def _replace(
    values: dict[str, Any], origins: dict[Path, Origin], key: str, path: Path, previous: Any
) -> None:
    """Remove what a lower layer set at ``path`` (a whole subtree when it was a mapping)."""
    if previous is None and key not in values:
        return
    values.pop(key, None)
    if isinstance(previous, dict):
        _forget(origins, path)
    else:
        origins.pop(path, None)


def _forget(origins: dict[Path, Origin], path: Path) -> None:
    """Drop the origins of ``path`` and everything below it (it is being replaced)."""
    size = len(path)
    for known in [p for p in origins if p[:size] == path]:
        del origins[known]
