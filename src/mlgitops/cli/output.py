"""The one way the CLI writes to the terminal: control characters made visible on the way.

Messages quote spec values and the text reporter prints source lines, and a spec is
written by whoever opened the pull request: a quoted ``"\\e]0;…"`` or ``"\\e[2J"`` in a
description would otherwise drive the reader's terminal (hide lines, fake a clean run,
set the window title).  See :func:`mlgitops.reporters.visible_controls`.
"""

from __future__ import annotations

from typing import Any

import click

from mlgitops.reporters import visible_controls


def echo(message: Any = None, *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` of text that cannot drive the terminal."""
    click.echo(visible_controls(message) if isinstance(message, str) else message, err=err, nl=nl)
