"""Progress on stderr and per-stage timings: the observer the CLI hands the pipeline.

On a terminal, a run that has lasted a second shows the stage it is in (redrawn in
place, wiped at the end); on a pipe or in CI nothing, unless ``--progress`` asks for it
(then one plain line per stage, for logs).  ``--verbose`` prints each stage's time when
the run ends.  Nothing here touches stdout, which carries the report.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

# A run shorter than this shows no progress: a flicker would only distract.
SHOW_AFTER_SECONDS = 1.0


class TerminalProgress:
    def __init__(
        self,
        *,
        forced: bool = False,
        verbose: bool = False,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._terminal = _is_terminal(self._stream)
        self._enabled = forced or (self._terminal and not os.environ.get("CI"))
        self._forced = forced
        self._verbose = verbose
        self._clock = clock
        self._started = clock()
        self._current: tuple[str, int, float] | None = None
        self._timings: list[tuple[str, int, float]] = []
        self._drawn = False

    def stage(self, name: str, items: int) -> None:
        now = self._clock()
        self._close(now)
        self._current = (name, items, now)
        if self._enabled and (self._forced or now - self._started >= SHOW_AFTER_SECONDS):
            line = f"mlgitops: {name} ({items})…"
            if self._terminal:
                self._write(f"\r{line}\x1b[K")  # redraw in place, clear what is left of the line
                self._drawn = True
            else:
                self._write(line + "\n")

    def finish(self) -> None:
        """The run is over: wipe the progress line, then the timings under ``--verbose``."""
        self._close(self._clock())
        if self._drawn:
            self._write("\r\x1b[K")
            self._drawn = False
        if self._verbose:
            width = max((len(name) for name, _, _ in self._timings), default=0)
            for name, items, seconds in self._timings:
                self._write(f"{name:<{width}}  {seconds:7.3f} s  ({items})\n")
            self._write(f"{'total':<{width}}  {self._clock() - self._started:7.3f} s\n")

    def _close(self, now: float) -> None:
        if self._current is not None:
            name, items, began = self._current
            self._timings.append((name, items, now - began))
            self._current = None

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
