"""`mlgitops promote`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mlgitops.cli.failures import reported
from mlgitops.cli.names import complete_models
from mlgitops.cli.options import ProjectChoice, environment_option, format_option, project_options
from mlgitops.cli.output import echo

if TYPE_CHECKING:
    from mlgitops.promote import Request


@click.command()
@click.argument("model", shell_complete=complete_models)
@environment_option("--to", "Environment to promote to.", required=True)
@click.option("--version", help="Version to promote (default: the one in the previous environment).")
@click.option(
    "--canary",
    type=click.IntRange(0, 99),
    metavar="PERCENT",
    help="Deploy the version as a canary taking PERCENT of the traffic; the stable version stays "
    "(0: deployed, no user traffic; needs a gateway-api or istio router).",
)
@click.option(
    "--weight",
    type=click.IntRange(0, 99),
    metavar="PERCENT",
    help="Move the current canary to PERCENT of the traffic.",
)
@click.option(
    "--finish-canary",
    is_flag=True,
    help="Make the canary the stable version and remove the canary (with a router, the old "
    "stable workload is pruned).",
)
@click.option("--abort-canary", is_flag=True, help="Remove the canary; the stable version takes all traffic.")
@click.option(
    "--force",
    is_flag=True,
    help="Allow a version the previous environment never ran (marks the deployment "
    "waivePromotionOrder: true).",
)
@click.option(
    "--reason",
    help="With --force: why the order is waived (written as the deployment's reason:, which "
    "environments with approval: required demand).",
)
@click.option("--dry-run", is_flag=True, help="Show the edit without writing it.")
@project_options(positional=False)
@format_option(
    ("text", "json", "github"),
    "text shows the diff and a suggested commit; json is for CI scripts (the diagnostics "
    "document when the promotion is refused); github adds a notice, or annotations on refusal.",
)
def promote(
    model: str,
    environment: str,
    version: str | None,
    canary: int | None,
    weight: int | None,
    finish_canary: bool,
    abort_canary: bool,
    force: bool,
    reason: str | None,
    dry_run: bool,
    project: ProjectChoice,
    fmt: str,
) -> int:
    """Move a version of MODEL to an environment by editing MODEL's spec in place.

    Only the scalars that must change are touched: comments, key order,
    quoting and layout elsewhere stay byte-identical. The edited project is
    validated before anything is written. Promotion order is enforced: the
    version must have run in the previous environment unless --force.
    Prints the suggested commit message and pull-request title; commit the
    spec and run 'mlgitops compile' (CI does both).
    """
    from mlgitops.errors import UsageError
    from mlgitops.promote import Request

    moves = [
        name
        for name, on in (
            ("--weight", weight is not None),
            ("--finish-canary", finish_canary),
            ("--abort-canary", abort_canary),
        )
        if on
    ]
    if len(moves) > 1 or (moves and (canary is not None or version is not None)):
        raise UsageError(
            f"{' and '.join(moves) if len(moves) > 1 else moves[0]}: pass one of --weight, "
            "--finish-canary, --abort-canary, and neither --canary nor --version with it"
        )
    if reason is not None and not force:
        raise UsageError("--reason explains a --force; pass it with --force")
    request = Request(
        model,
        environment,
        version,
        canary,
        finish_canary,
        force,
        weight=weight,
        abort_canary=abort_canary,
        reason=reason,
    )
    return reported(fmt, lambda: _promote(request, dry_run, project, fmt))


def _promote(request: Request, dry_run: bool, project: ProjectChoice, fmt: str) -> int:
    from mlgitops.promote import plan_promotion, write_spec
    from mlgitops.reporters.promote_report import render

    promotion, _ = plan_promotion(project.ref(), request)
    if not dry_run:
        write_spec(promotion.spec_path, promotion.after)
    echo(render(promotion, fmt, written=not dry_run), nl=False)
    return 0
