"""`mlgitops schema`."""

from __future__ import annotations

import click

from mlgitops.cli.output import echo


@click.command()
@click.option(
    "--kind",
    type=click.Choice(["all", "project", "model"]),
    default="all",
    show_default=True,
    help="Which kind's schema to print; 'all' accepts either, chosen by 'kind:'.",
)
def schema(kind: str) -> int:
    """Print the JSON Schema (draft 2020-12) of the spec language.

    Point your editor at it for completion and inline errors, for example
    with a modeline on the first line of each spec:

    \b
      # yaml-language-server: $schema=schemas/model.v1.json

    The same files ship in the repository under schemas/.
    """
    from mlgitops.spec.jsonschema import combined_schema, dumps, kind_schema

    document = combined_schema() if kind == "all" else kind_schema(kind)
    echo(dumps(document), nl=False)
    return 0
