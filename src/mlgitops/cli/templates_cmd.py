"""`mlgitops templates list|show|export`."""

from __future__ import annotations

from pathlib import Path

import click

from mlgitops.cli.output import echo


@click.group()
def templates() -> None:
    """The built-in templates compile renders, to read or to start overrides from.

    A project replaces any of them by setting spec.templates to a directory
    holding <target>/<name>.j2 files; 'export' writes that layout.

    \b
      mlgitops templates list [TARGET]          one TARGET/NAME per line
      mlgitops templates show TARGET/NAME       print one template
      mlgitops templates export [TARGET] DIR    copy them into DIR
    """


@templates.command("list", short_help="List the built-in templates as TARGET/NAME.")
@click.argument("target", required=False)
def list_(target: str | None) -> int:
    """List the built-in templates (of TARGET only, if given) as TARGET/NAME."""
    from mlgitops.template_catalog import catalogue

    for reference in catalogue(target):
        echo(reference)
    return 0


@templates.command(short_help="Print one built-in template.")
@click.argument("reference", metavar="TARGET/NAME")
def show(reference: str) -> int:
    """Print the built-in template TARGET/NAME (e.g. kserve/inferenceservice.yaml.j2)."""
    from mlgitops.template_catalog import template_text

    echo(template_text(reference), nl=False)
    return 0


@templates.command(short_help="Copy the built-in templates into DIR to override them.")
@click.argument("arguments", nargs=-1, required=True, metavar="[TARGET] DIR")
def export(arguments: tuple[str, ...]) -> int:
    """Write the built-in templates of this mlgitops version (of TARGET only, if
    given) into DIR as <target>/<name>.j2, the layout spec.templates expects.

    Nothing is overwritten: if any of the files exists, nothing is written.
    Delete the templates you do not change, so that they follow mlgitops
    upgrades.
    """
    from mlgitops.errors import UsageError
    from mlgitops.template_catalog import export_templates

    if len(arguments) > 2:
        raise UsageError("export takes [TARGET] DIR")
    target, directory = (None, arguments[0]) if len(arguments) == 1 else arguments
    exported = export_templates(Path(directory), target)
    for relative in exported.files:
        echo(f"created  {Path(directory) / relative}")
    where = (
        f"to {exported.project / 'mlgitops.yaml'}"
        if exported.project is not None
        else "to your project's mlgitops.yaml (the path is relative to the project root)"
    )
    echo(f"add {where}, under spec:")
    echo(f"  templates: {exported.setting}")
    return 0
