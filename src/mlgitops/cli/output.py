"""The one way the CLI writes to the terminal: control characters made visible on the way.

Messages quote spec values and the text reporter prints source lines, and a spec is
written by whoever opened the pull request: a quoted ``"\\e]0;…"`` or ``"\\e[2J"`` in a
description would otherwise drive the reader's terminal (hide lines, fake a clean run,
set the window title).  See :func:`mlgitops.reporters.visible_controls`.  The one
exception is :class:`~mlgitops.reporters.Painted` text, which a reporter has already
escaped and coloured.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from mlgitops.reporters import Painted, visible_controls


def echo(message: Any = None, *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` of text that cannot drive the terminal."""
    if isinstance(message, Painted):
        # color=True: click would strip the codes on a pipe, but FORCE_COLOR asked for them
        click.echo(message, err=err, nl=nl, color=True)
        return
    click.echo(visible_controls(message) if isinstance(message, str) else message, err=err, nl=nl)


def colour_wanted(*, err: bool = False) -> bool:
    """Whether to colour what goes to stdout (or stderr): on a terminal, unless ``NO_COLOR``
    is set to anything (no-color.org); ``FORCE_COLOR`` asks for it on a pipe too."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = sys.stderr if err else sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream is no terminal
        return False
