"""A model's IR as bytes for a digest (the render cache's record of what a model's files were
rendered from, :mod:`mlgitops.emit.rendercache`): complete, and the same in every process and run.

``repr`` of the frozen dataclasses is both, but costs a tenth of a second a thousand models
(dataclasses' recursion-guarded ``__repr__``, then every field's name and value as text). Here each
IR class gets a function, generated once from its fields' annotations, that turns an object into
a tuple of its fields' values in field order: a plain value (a string, number, bool, None or a tuple
of those) as it is, a nested IR object through its class's function, an optional one as None or
that, a tuple of them as a tuple of theirs, anything else as its ``repr``. ``marshal`` (format 2,
which neither interns nor shares objects, so the bytes depend on the values alone, not on which
objects happen to be shared) then writes that tree in C. ``marshal.loads`` gives the tree back, so
two trees with the same bytes are equal, and since each class's tuple holds all its fields in order
at positions the annotations fix, two models with the same tree are equal.
A value ``marshal`` cannot write (a field holding something its annotation does not allow) falls
back to the ``repr`` of the whole model, still complete.
"""

from __future__ import annotations

import dataclasses
import hashlib
import marshal
import types
import typing
from collections.abc import Callable
from typing import Any

from mlgitops.ir import types as ir_types

# marshal's format 2: floats in binary, and no references between objects (format 3 on) nor
# interned strings (TYPE_INTERNED, format 3 on), which would depend on the objects, not the values.
_MARSHAL_FORMAT = 2
_PLAIN = frozenset({str, int, float, bool, type(None)})


def model_digest(model: ir_types.Model) -> str:
    """SHA-256 of the model's IR (hex)."""
    try:
        data = b"t" + marshal.dumps(_ENCODERS[ir_types.Model](model), _MARSHAL_FORMAT)
    except ValueError:  # an unmarshallable value: a field holding what its annotation forbids
        data = b"r" + repr(model).encode()
    return hashlib.sha256(data).hexdigest()


def _is_ir_class(value: object) -> bool:
    in_ir = getattr(value, "__module__", None) == ir_types.__name__
    return in_ir and isinstance(value, type) and dataclasses.is_dataclass(value)


def _plain(annotation: Any) -> bool:
    """True when every value the annotation allows marshals as it is."""
    if annotation in _PLAIN:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, tuple):
        return all(arg is Ellipsis or _plain(arg) for arg in typing.get_args(annotation))
    return False


def _expression(annotation: Any, value: str) -> str:
    """Python source turning ``value``, of type ``annotation``, into what marshal writes."""
    if _plain(annotation):
        return value
    if _is_ir_class(annotation):
        return f"_{annotation.__name__}({value})"
    arguments = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and len(arguments) == 2 and type(None) in arguments:
        [inner] = [arg for arg in arguments if arg is not type(None)]
        return f"(None if {value} is None else {_expression(inner, value)})"
    if origin is tuple and len(arguments) == 2 and arguments[1] is Ellipsis and _is_ir_class(arguments[0]):
        return f"tuple(map(_{arguments[0].__name__}, {value}))"
    return f"repr({value})"  # e.g. a date: its repr is complete and the same everywhere


def _encoders() -> dict[type, Callable[[Any], tuple[Any, ...]]]:
    """One function per IR class, generated as source from its fields (as ``dataclasses`` and
    ``namedtuple`` generate theirs): a field read and a tuple built in one Python frame per object,
    where a walk over ``dataclasses.fields`` would cost several calls per field."""
    classes = [value for value in vars(ir_types).values() if _is_ir_class(value)]
    namespace = vars(ir_types)
    source = []
    for cls in classes:
        hints = typing.get_type_hints(cls, namespace)
        values = "".join(f"{_expression(hints[f.name], f'o.{f.name}')}, " for f in dataclasses.fields(cls))
        source.append(f"def _{cls.__name__}(o):\n    return ({values})\n")
    generated: dict[str, Any] = {}
    exec(compile("\n".join(source), f"<{__name__}>", "exec"), generated)  # our own field names only
    return {cls: generated[f"_{cls.__name__}"] for cls in classes}


_ENCODERS = _encoders()
