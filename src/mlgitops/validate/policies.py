"""Project policies, checked on the resolved settings (MLG4xx)."""

from __future__ import annotations

from collections.abc import Iterator, Set

from mlgitops.diagnostics import ENVIRONMENT, Diagnostic, Location, make, names_list
from mlgitops.platforms import DEFAULT_DRIFT_IMAGE
from mlgitops.resolve import ResolvedDeployment, ResolvedProject
from mlgitops.spec.types import is_immutable_image
from mlgitops.validate import ValidatedProject


def check_project_policies(project: ValidatedProject, used: Set[tuple[str, str]]) -> list[Diagnostic]:
    """The policies on the project file itself; ``used``: the (runtime, environment) pairs its
    deployments serve with (:func:`runtimes_used`)."""
    return [*_approval(project), *_runtime_images(project, used)]


def runtimes_used(resolved: ResolvedProject) -> frozenset[tuple[str, str]]:
    """The (runtime, environment) pairs the deployments of ``resolved`` serve with."""
    return frozenset(
        (runtime, item.environment.name)
        for item in resolved.deployments
        if isinstance(runtime := item.serving.get("runtime"), str)
    )


def check_policies(resolved: ResolvedProject) -> list[Diagnostic]:
    """The policies on each deployment of ``resolved``: the whole project's, or those of a slice
    of its models (every model of a name in the same slice: images are compared per model)."""
    project = resolved.validated
    policies = project.spec.spec.policies
    diagnostics: list[Diagnostic] = []
    fixed_versions = policies.forbid_mutable_versions
    if fixed_versions is None:
        fixed_versions = [e.name for e in project.spec.spec.environments if e.approval == "required"]
    pinned_envs: dict[str, list[ResolvedDeployment]] = {}
    for item in resolved.deployments:
        env = item.environment.name
        if env in policies.require_evaluation_gate:
            diagnostics += _gate(item)
        if env in policies.require_slo:
            diagnostics += _slo(item)
        if env in fixed_versions:
            diagnostics += _mutable_versions(item)
        if env in policies.forbid_mutable_image_tags:
            diagnostics += _serving_images(item)
            pinned_envs.setdefault(item.model.name, []).append(item)
    for items in pinned_envs.values():
        diagnostics += _model_images(items)
        diagnostics += _drift_digest(items)
    return diagnostics


def _runtime_images(project: ValidatedProject, used_pairs: Set[tuple[str, str]]) -> Iterator[Diagnostic]:
    """A declared runtime's image serves every model naming it: checked where the policy applies
    and the runtime is used (KServe also writes the unused ones: then every covered environment)."""
    covered = project.spec.spec.policies.forbid_mutable_image_tags
    if not covered:
        return
    for index, runtime in enumerate(project.spec.spec.runtimes):
        if is_immutable_image(runtime.image):
            continue
        used = {env for name, env in used_pairs if name == runtime.name}
        rendered = project.spec.spec.serving == "kserve"
        envs = [env for env in covered if env in used or rendered]
        if envs:
            location = project.doc.locate(("spec", "runtimes", index, "image"))
            yield _mutable("serving runtime image", runtime.image, runtime.name, names_list(envs), location)


def _approval(project: ValidatedProject) -> Iterator[Diagnostic]:
    required = project.spec.spec.policies.require_approval
    for index, env in enumerate(project.spec.spec.environments):
        if env.name in required and env.approval != "required":
            field = "approval" if "approval" in env.model_fields_set else "name"
            yield make(
                "MLG404",
                f"policy requireApproval covers {env.name!r}, but it does not declare 'approval: required'",
                project.doc.locate(("spec", "environments", index, field)),
                "add 'approval: required' to the environment",
            )


# Names a registry or branch moves from one build to the next: what they serve is not in git.
MUTABLE_VERSIONS = frozenset(
    {"latest", "main", "master", "head", "trunk", "develop", "dev", "nightly", "edge", "stable", "current"}
)


def _mutable_versions(item: ResolvedDeployment) -> Iterator[Diagnostic]:
    deployment, env = item.deployment, item.environment.name
    found: list[tuple[tuple[str, ...], str]] = [(("version",), deployment.version)]
    if deployment.canary is not None:
        found.append((("canary", "version"), deployment.canary.version))
    for path, version in found:
        if version.lower() in MUTABLE_VERSIONS:
            yield make(
                "MLG407",
                f"version {version!r} of model {item.model.name!r} in {env!r} names whatever was "
                "built last, so git does not say what runs there",
                item.model.doc.locate(("spec", "deployments", env, *path)),
                "deploy a fixed version (e.g. 1.4.2 or a commit SHA); policy forbidMutableVersions "
                "covers this environment (by default every one with approval: required)",
            )


def _gate(item: ResolvedDeployment) -> Iterator[Diagnostic]:
    evaluation = item.model.spec.spec.evaluation
    if evaluation is None or not evaluation.gates:
        yield make(
            "MLG401",
            f"model {item.model.name!r} is deployed to {item.environment.name!r}, which requires an "
            "evaluation gate, but it has none",
            item.model.doc.locate(("spec", "deployments", item.environment.name), key=True),
            "add spec.evaluation.gates, e.g. [{metric: auc, min: 0.9}]",
        )


def _slo(item: ResolvedDeployment) -> Iterator[Diagnostic]:
    monitoring = item.model.spec.spec.monitoring
    slos = monitoring.slos if monitoring else None
    if slos is None or (slos.availability is None and slos.latency is None):
        yield make(
            "MLG402",
            f"model {item.model.name!r} is deployed to {item.environment.name!r}, which requires an "
            "SLO, but it has none",
            item.model.doc.locate(("spec", "deployments", item.environment.name), key=True),
            "add spec.monitoring.slos.availability or .latency",
        )


def _serving_images(item: ResolvedDeployment) -> Iterator[Diagnostic]:
    """Serving and transformer images can differ per environment: checked in each."""
    for label, path in (("serving image", ("image",)), ("transformer image", ("transformer", "image"))):
        image = item.serving.get(*path)
        if isinstance(image, str) and not is_immutable_image(image):
            origin = item.serving.origin(*path)
            location = origin.location() if origin else None
            yield _mutable(label, image, item.model.name, ENVIRONMENT, location, item.environment.name)


def _model_images(items: list[ResolvedDeployment]) -> Iterator[Diagnostic]:
    """Training, evaluation and drift images feed or watch every environment the model runs in."""
    model = items[0].model
    body = model.spec.spec
    envs = [item.environment.name for item in items]
    for label, image, doc_path in (
        ("training image", body.training.image if body.training else None, ("spec", "training", "image")),
        (
            "evaluation image",
            body.evaluation.image if body.evaluation else None,
            ("spec", "evaluation", "image"),
        ),
        (
            "drift image",
            body.monitoring.drift.image if body.monitoring and body.monitoring.drift else None,
            ("spec", "monitoring", "drift", "image"),
        ),
    ):
        if image is not None and not is_immutable_image(image):
            yield _mutable(label, image, model.name, names_list(envs), model.doc.locate(doc_path))


def _drift_digest(items: list[ResolvedDeployment]) -> Iterator[Diagnostic]:
    """The drift CronJob's image, the default included, should be pinned by digest: a release tag
    passes MLG403 but can still be re-pushed.  A warning, because the default's digest is only
    known after this version's image was published (docs/drift.md#the-image)."""
    model = items[0].model
    monitoring = model.spec.spec.monitoring
    drift = monitoring.drift if monitoring else None
    if drift is None:
        return
    image = drift.image or DEFAULT_DRIFT_IMAGE
    if "@sha256:" in image or not is_immutable_image(image):  # a mutable tag is MLG403's
        return
    doc_path: tuple[str, ...] = ("spec", "monitoring", "drift") + (("image",) if drift.image else ())
    origin = "drift image" if drift.image else "drift.image is unset, so the default image"
    yield make(
        "MLG405",
        f"{origin} {image!r} of {model.name!r} is not pinned by digest in "
        f"{names_list([item.environment.name for item in items])}",
        model.doc.locate(doc_path, key=not drift.image),
        "set spec.monitoring.drift.image to <image>@sha256:<digest> "
        "(docker buildx imagetools inspect <image> shows it)",
    )


def _mutable(
    label: str, image: str, model: str, envs: str, location: Location | None, environment: str | None = None
) -> Diagnostic:
    """``envs``: the environments named, or :data:`ENVIRONMENT` for the one in ``environment``."""
    last = image.rsplit("/", 1)[-1]
    tag = f"the mutable tag {last.split(':', 1)[1]!r}" if ":" in last else "no tag (so 'latest')"
    return make(
        "MLG403",
        f"{label} {image!r} of {model!r} has {tag}, which the policy forbids in {envs}",
        location,
        "pin a release tag (e.g. :1.8.0) or a digest (@sha256:…)",
        environment=environment,
    )
