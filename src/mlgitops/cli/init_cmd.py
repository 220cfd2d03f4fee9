"""`mlgitops init`."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("directory", type=click.Path(path_type=Path), default=Path(), metavar="[DIR]")
@click.option("--name", help="Project name (default: the directory's name).")
@click.option(
    "--repository",
    default="https://github.com/example/ml-platform.git",
    show_default=True,
    help="Git URL GitOps tools sync from.",
)
@click.option("--ci", type=click.Choice(["github", "gitlab"]), default="github", show_default=True)
@click.option("--gitops", type=click.Choice(["argocd", "flux"]), default="argocd", show_default=True)
@click.option("--serving", type=click.Choice(["kserve", "kubernetes"]), default="kserve", show_default=True)
def init(directory: Path, name: str | None, repository: str, ci: str, gitops: str, serving: str) -> int:
    """Create a new project in DIR: mlgitops.yaml, one example model, and
    everything 'mlgitops compile' generates from them (CI workflows, serving,
    GitOps objects), so that validate, compile and check pass right away.

    Existing files are never overwritten.
    """
    from mlgitops.errors import UserError
    from mlgitops.pipeline import compile_project
    from mlgitops.scaffold import Scaffold, write_scaffold

    directory.mkdir(parents=True, exist_ok=True)
    project_name = name or directory.resolve().name.lower().replace("_", "-")
    written = write_scaffold(directory, Scaffold(project_name, repository, ci, gitops, serving))
    result = compile_project(directory)
    if not result.ok:
        for path in written:  # leave nothing half-made behind
            path.unlink(missing_ok=True)
        raise UserError("the new project does not compile (please report this)", result.diagnostics)
    for path in written:
        click.echo(f"created  {path}")
    click.echo(f"compiled {len(result.files)} generated files")
    click.echo("next: edit the specs, then run 'mlgitops validate' and 'mlgitops compile'")
    return 0
