"""Frozen, slotted dataclasses pickled as calls of their constructor.

Their own ``__getstate__``/``__setstate__`` go field by field in Python, several times slower,
and a compile's workers send back tens of thousands of them: the models' IR a worker built
(``ir/types.py``), the files a render worker decided and staged (``emit/staging.PlannedFile``).
"""

from __future__ import annotations

from dataclasses import fields
from operator import attrgetter
from typing import Any, TypeVar

C = TypeVar("C", bound=type)


def pickled_by_constructor(cls: C) -> C:
    """Pickle ``cls`` as a call of its constructor with its fields' values (a class decorator)."""
    values = attrgetter(*(f.name for f in fields(cls)))
    single = len(fields(cls)) == 1  # attrgetter of one name gives the value, not a tuple

    def reduce(self: object) -> tuple[Any, ...]:
        return (cls, (values(self),) if single else values(self))

    cls.__reduce__ = reduce  # type: ignore[assignment]
    return cls
