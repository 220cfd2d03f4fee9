"""Artifact stores the chosen CI system cannot upload to (MLG350).

A model trained in CI (``training.runner: ci``) is uploaded by the register job to its
artifact location; a scheme without an uploader on that CI system would fail there, after
training, so validate refuses it here. In-cluster training (``runner: kubernetes``) writes the
model itself and is not checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from mlgitops.diagnostics import Diagnostic, Location, make
from mlgitops.platforms import CI_UPLOAD_SCHEMES, store_scheme
from mlgitops.spec.ci import ci_settings
from mlgitops.spec.project import ArtifactRegistry
from mlgitops.validate import ValidatedModel, ValidatedProject

if TYPE_CHECKING:
    from mlgitops.resolve import ResolvedProject


def check_upload_schemes(project: ValidatedProject) -> Iterator[Diagnostic]:
    system = ci_settings(project.spec.spec.ci).system
    supported = CI_UPLOAD_SCHEMES[system]
    for model in project.models:
        training = model.spec.spec.training
        if training is None or training.runner != "ci":
            continue
        found = _artifact(project, model)
        if found is None:
            continue
        uri, where = found
        kind = store_scheme(uri)
        if kind and kind not in supported:
            yield make(
                "MLG350",
                f"model {model.name!r} is trained in {system} CI, which has no uploader for "
                f"{kind}:// artifacts ({uri!r})",
                where(),
                "use one of " + ", ".join(f"{s}://" for s in sorted(supported)) + ", or train with "
                "'runner: kubernetes' and write the model from the training job",
            )


def _artifact(project: ValidatedProject, model: ValidatedModel) -> tuple[str, Callable[[], Location]] | None:
    """Where the register job uploads the model's versions, as the IR computes it, and how to
    find where the spec says so (located only for a diagnostic: locating may re-read the file)."""
    spec = project.spec.spec
    body = model.spec.spec
    if body.registry is not None and body.registry.artifact_uri:
        return body.registry.artifact_uri, lambda: model.doc.locate(("spec", "registry", "artifactUri"))
    if isinstance(spec.registry, ArtifactRegistry):
        return spec.registry.uri, lambda: project.doc.locate(("spec", "registry", "uri"))
    if body.serving is not None and body.serving.artifact:
        return body.serving.artifact, lambda: model.doc.locate(("spec", "serving", "artifact"))
    if spec.defaults.serving is not None and spec.defaults.serving.artifact:
        return spec.defaults.serving.artifact, lambda: project.doc.locate(
            ("spec", "defaults", "serving", "artifact")
        )
    return None


def default_token_note(project: ValidatedProject, written: Iterable[str]) -> Diagnostic | None:
    """MLG351, when compile writes the GitHub promotion workflow and no token is named: its pull
    requests get no CI, and opening them needs a repository setting."""
    settings = ci_settings(project.spec.spec.ci)
    if settings.system != "github" or (settings.github is not None and settings.github.token is not None):
        return None
    if not any(path.endswith(".github/workflows/mlgitops-promote.yml") for path in written):
        return None
    return make(
        "MLG351",
        "promotion pull requests are opened with the workflow's github.token: GitHub starts no "
        "workflow for them, so mlgitops-validate does not run on them, and the repository must "
        "allow GitHub Actions to create pull requests (see SETTINGS.md)",
        project.doc.locate(("spec", "ci")),
        "name a GitHub App (spec.ci.github.token.app: {idVar, keySecret}) or a secret holding a "
        "token (spec.ci.github.token.secret)",
    )


def unpinned_install_warning(project: ValidatedProject, written: Iterable[str]) -> Diagnostic | None:
    """MLG352, when compile writes the pipeline whose install steps stop because
    ``spec.ci.mlgitops`` names nothing (targets/ci/contract.py says why there is no default)."""
    if ci_settings(project.spec.spec.ci).mlgitops is not None:
        return None
    if not any(_installs(path) for path in written):
        return None
    from mlgitops.install_source import running_git_source

    found = running_git_source()
    hint = (
        f"the mlgitops running now came from {found[0]} at {found[1]}: set spec.ci.mlgitops: "
        f"{{git: {found[0]}, commit: {found[1]}}}"
        if found
        else "set spec.ci.mlgitops to {git: <URL>, commit: <40-hex SHA>} (the README's pinned install), "
        "{requirements: <file with hashes>} or {image: <name>@sha256:<digest>}"
    )
    return make(
        "MLG352",
        "spec.ci.mlgitops is not set, so the generated CI jobs that run mlgitops stop at their "
        "install step: nothing is installed by name from a package index (docs/ci.md)",
        project.doc.locate(("spec", "ci")),
        hint,
    )


def _installs(path: str) -> bool:
    """A file whose jobs install mlgitops: the validation workflow, or the GitLab pipeline."""
    name = path.rsplit("/", 1)[-1]
    return ("/.github/workflows/" in f"/{path}" and name.endswith("validate.yml")) or name == ".gitlab-ci.yml"


def check_ci_secret_names(project: ValidatedProject) -> Iterator[Diagnostic]:
    """MLG353: ``environments[].ciSecrets`` that no CI job would read. The jobs that read
    ``fromCiSecret`` (training, evaluation, registration) act for the first environment, whose
    version they propose; and a name that no ``fromCiSecret`` gives maps nothing."""
    from mlgitops.spec.common import SecretSource

    spec = project.spec.spec
    read = {
        value.from_ci_secret
        for model in project.models
        if model.spec.spec.training is not None
        for value in model.spec.spec.training.env.values()
        if isinstance(value, SecretSource) and value.from_ci_secret
    }
    credentials = spec.registry.credentials
    if credentials is not None and credentials.from_ci_secret:
        read.add(credentials.from_ci_secret)
    for index, environment in enumerate(spec.environments):
        path = ("spec", "environments", index, "ciSecrets")
        if index > 0 and environment.ci_secrets:
            yield make(
                "MLG353",
                f"ciSecrets of {environment.name!r} is never read: the CI jobs that read "
                f"fromCiSecret (training, evaluation, registration) act for "
                f"{spec.environments[0].name!r}, the first environment",
                project.doc.locate(path),
                f"move the names to the ciSecrets of {spec.environments[0].name!r}, or remove them",
            )
            continue
        for name in environment.ci_secrets:
            if name not in read:
                yield make(
                    "MLG353",
                    f"ciSecrets of {environment.name!r} maps {name!r}, which no fromCiSecret names",
                    project.doc.locate((*path, name)),
                    "name it in a training env value ({fromCiSecret: " + name + "}) or in the "
                    "registry's credentials, or remove it",
                )


def first_write_notes(resolved: ResolvedProject | None, written: Iterable[str]) -> list[Diagnostic]:
    """What a compile says once, when it first writes the file the note is about."""
    if resolved is None:
        return []
    written = list(written)
    project = resolved.validated
    notes = (default_token_note(project, written), unpinned_install_warning(project, written))
    return [note for note in notes if note is not None]
