"""How the core tells a caller where a long run is, without printing.

``pipeline.py`` calls :meth:`Observer.stage` as each stage starts; the CLI passes an
observer that draws progress on a terminal and times the stages (``cli/progress.py``),
tests pass one that records.  The default does nothing.
"""

from __future__ import annotations

from typing import Protocol


class Observer(Protocol):
    def stage(self, name: str, items: int) -> None:
        """Stage ``name`` starts on ``items`` things (files, models, generated files)."""


class Silent:
    """The observer of a caller that does not watch."""

    def stage(self, name: str, items: int) -> None:
        return None


SILENT: Observer = Silent()
