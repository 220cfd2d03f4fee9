"""`mlgitops ci settings`: the one-time repository settings the generated CI needs."""

from __future__ import annotations

import click

from mlgitops.cli.failures import reported
from mlgitops.cli.options import ProjectChoice, format_option, project_options, report_for
from mlgitops.cli.output import echo


@click.group()
def ci() -> None:
    """Commands about the generated CI pipelines: `ci settings` prints the one-time
    repository settings (environments, secrets, variables, token permissions) they need."""


@ci.command()
@project_options(positional=False)
@format_option(
    ("text", "gh", "gitlab"),
    "text: the Markdown checklist; gh: the `gh api` calls that make the settings on GitHub; "
    "gitlab: the `glab` calls (variables, protected environments, pipeline schedules).",
)
def settings(project: ProjectChoice, fmt: str) -> int:
    """Print the repository settings the pipelines need: environments with required reviewers,
    the secrets and variables the workflows read, token permissions, cloud identities and
    (GitLab) the pipeline schedules of training.schedule."""
    return reported("text", lambda: _settings(project, fmt))


def _settings(project: ProjectChoice, fmt: str) -> int:
    from mlgitops import ci_settings
    from mlgitops.errors import UserError
    from mlgitops.ir.build import build_project
    from mlgitops.pipeline import validate_project
    from mlgitops.reporters import render

    result = validate_project(project.ref())
    if not result.ok or result.resolved is None:
        echo(render(report_for(result.diagnostics, result), "text"), nl=False, err=True)
        raise UserError("the project has errors; fix them first")
    collected = ci_settings.collect(build_project(result.resolved))
    if fmt == "gh":
        echo(ci_settings.gh_commands(collected), nl=False)
    elif fmt == "gitlab":
        echo(ci_settings.glab_commands(collected), nl=False)
    else:
        echo(ci_settings.markdown(collected), nl=False)
    return 0
