"""``init``: a new project that validates, compiles and passes ``check`` as it is.

The specs' modelines point editors at a JSON Schema that exists: the one this version
of mlgitops ships, copied into the project's ``schemas/`` (as the examples point at the
repository's ``schemas/``).  A URL would be fetched from a site that may not serve it, and
a path into the installed package changes with every virtualenv and machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mlgitops.errors import UserError
from mlgitops.render.engine import Engine, TemplateSource
from mlgitops.resources import schemas_dir, templates_dir
from mlgitops.spec.types import is_dns_label

SCHEMAS = ("project.v1.json", "model.v1.json")  # what the modelines in templates/init/ name
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class Scaffold:
    name: str
    repository: str
    ci: str = "github"
    gitops: str = "argocd"
    serving: str = "kserve"
    model: str = "example-model"
    owner: str = "ml-team"
    # (git URL, commit) CI installs mlgitops from (spec.ci.mlgitops), when known
    mlgitops_git: tuple[str, str] | None = None


def check_scaffold(directory: Path, scaffold: Scaffold) -> None:
    """Raise (before anything is created) when the names are invalid or a spec would be overwritten."""
    for label, value in (("project name", scaffold.name), ("model name", scaffold.model)):
        if not is_dns_label(value) or not value[0].isalpha():
            raise UserError(
                f"{label} {value!r} must be a DNS label starting with a letter (e.g. 'my-models')"
            )
    problem = repository_problem(scaffold.repository)
    if problem is not None:
        raise UserError(f"--repository {problem}, e.g. --repository https://github.com/acme/ml-platform.git")
    if directory.exists() and not directory.is_dir():
        raise UserError(f"{directory} exists and is not a directory")
    # lexists: a dangling link planted where a spec goes counts as there (init never writes through it).
    existing = [path for path in _files(directory, scaffold) if os.path.lexists(path)]
    if existing:
        shown = ", ".join(str(p) for p in existing)
        raise UserError(f"refusing to overwrite {shown}; init only creates new projects")


def repository_problem(url: str) -> str | None:
    """Why ``url`` cannot be the project's ``spec.repository``, as validation would say, or None."""
    from pydantic import TypeAdapter, ValidationError

    from mlgitops.spec.types import GitUrl
    from mlgitops.validate.secrets import secret_shape

    try:
        TypeAdapter(GitUrl).validate_python(url)
    except ValidationError as exc:
        return f"{exc.errors()[0]['msg']}; give the git URL GitOps tools clone"
    what = secret_shape(url)
    # The message never repeats the suspected secret.
    if what is None:
        return None
    return f"looks like {what}; give it without credentials (GitOps tools keep those in their own secrets)"


def _files(directory: Path, scaffold: Scaffold) -> dict[Path, str]:
    return {
        directory / "mlgitops.yaml": "mlgitops.yaml.j2",
        directory / "models" / f"{scaffold.model}.yaml": "model.yaml.j2",
    }


def write_scaffold(directory: Path, scaffold: Scaffold) -> list[Path]:
    """Write the project and model specs; refuses to overwrite anything."""
    check_scaffold(directory, scaffold)
    files = _files(directory, scaffold)
    engine = Engine(TemplateSource(templates_dir()))
    context = {
        "name": scaffold.name,
        "repository": scaffold.repository,
        "ci": scaffold.ci,
        "gitops": scaffold.gitops,
        "serving": scaffold.serving,
        "model": scaffold.model,
        "owner": scaffold.owner,
        "mlgitops_git": scaffold.mlgitops_git,
    }
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = engine.render_text(f"init/{template}", context)
        # O_EXCL | O_NOFOLLOW: a file or link that appeared since the check is never written through.
        try:
            handle = os.open(path, _NEW_FILE, 0o666)
        except FileExistsError:
            raise UserError(f"refusing to overwrite {path}; init only creates new projects") from None
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
    return [*files, *_write_schemas(directory / "schemas")]


def _write_schemas(directory: Path) -> list[Path]:
    """Copy the shipped schemas the modelines name; one already there (an older copy, or
    whatever the repository holds) is kept, never overwritten or written through."""
    directory.mkdir(exist_ok=True)
    written = []
    for name in SCHEMAS:
        try:
            handle = os.open(directory / name, _NEW_FILE, 0o666)
        except FileExistsError:
            continue
        with os.fdopen(handle, "wb") as stream:
            stream.write((schemas_dir() / name).read_bytes())
        written.append(directory / name)
    return written
