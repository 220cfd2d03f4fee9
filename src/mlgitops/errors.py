"""The exception hierarchy.

Everything mlgitops raises on purpose derives from :class:`MlgitopsError`.  The
top-level handler in the CLI maps user errors to exit 1, usage errors to exit 2
and anything else (a bug in mlgitops) to exit 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlgitops.diagnostics import Diagnostic


class MlgitopsError(Exception):
    """Root of every error mlgitops raises deliberately."""

    exit_code = 1


class UserError(MlgitopsError):
    """The user's input is wrong; the message (and diagnostics) say how."""

    exit_code = 1

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics = tuple(diagnostics)


class UsageError(MlgitopsError):
    """The command line itself is wrong (bad option, missing argument)."""

    exit_code = 2
