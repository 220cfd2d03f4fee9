"""A command's refusal in the format it was asked for.

``diff``, ``gate``, ``promote`` and ``explain`` stop with a :class:`UserError` when the
project has errors or the request cannot be met.  In text the top-level handler prints it;
a CI script that asked for JSON reads a JSON document on stdout instead (the diagnostics
document of ``validate``, plus the refusal as ``error``), and a GitHub workflow gets
annotations.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from mlgitops.cli.output import echo
from mlgitops.errors import UserError


def reported(fmt: str, body: Callable[[], int]) -> int:
    """Run ``body``; a user error in a machine format is printed in it (exit 1)."""
    try:
        return body()
    except UserError as exc:
        if fmt not in ("json", "github"):
            raise
        echo(render_refusal(exc, fmt), nl=False)
        return exc.exit_code


def render_refusal(exc: UserError, fmt: str) -> str:
    from mlgitops.reporters import Report, github, json_report

    report = Report(exc.diagnostics, {}, summary=False)
    if fmt == "json":
        document = json_report.document(report)
        document["ok"] = False  # refused, even with no diagnostic to show for it
        document["error"] = str(exc)
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return f"::error title=mlgitops::{github.escape_data(str(exc))}\n" + github.render(report)
