"""A model's names beyond its file: the name of its workloads in each environment
(``deployments.<env>.name``, default the model's name), which must be unique in a namespace,
and the registry settings the project's registry kind can give a meaning to."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mlgitops.diagnostics import Diagnostic, Location, make
from mlgitops.validate import ValidatedModel, ValidatedProject

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def check_identity(project: ValidatedProject) -> Iterator[Diagnostic]:
    destinations = {env.name: (env.cluster, env.namespace) for env in project.spec.spec.environments}
    # (cluster, namespace, workload name) → the first deployment named so, and whether it was a
    # deployment's own name (two models named alike are MLG301, not this)
    first: dict[tuple[str | None, str, str], tuple[ValidatedModel, str, bool]] = {}
    for model in project.models:
        yield from _registry(project, model)
        for env, deployment in model.spec.spec.deployments.items():
            destination = destinations.get(env)
            if destination is None:
                continue  # an undeclared environment: MLG303
            own = deployment.name is not None
            name = deployment.name or model.name
            earlier = first.setdefault((*destination, name), (model, env, own))
            if (earlier[0] is model and earlier[1] == env) or not (own or earlier[2]):
                continue
            if earlier[0] is model:
                continue  # one model, two environments sharing a namespace: MLG328
            # point at a deployment's own name, the likelier mistake
            (blamed, at_env, blamed_own), (other, other_env, other_own) = (
                ((model, env, own), earlier) if own else (earlier, (model, env, own))
            )
            yield make(
                "MLG361",
                f"{blamed.name!r} would serve as {name!r} in environment {at_env!r}, a name "
                f"{other.name!r} also takes in namespace {destination[1]!r}",
                _name_location(blamed, at_env, blamed_own),
                "give each model its own name in a namespace (deployments.<env>.name); one would "
                "overwrite the other's InferenceService, or Deployment and Service",
                related=[_name_location(other, other_env, other_own)],
            )


def _name_location(model: ValidatedModel, env: str, own: bool) -> Location:
    if own:
        return model.doc.locate(("spec", "deployments", env, "name"))
    return model.doc.locate(("metadata", "name"))


def _registry(project: ValidatedProject, model: ValidatedModel) -> Iterator[Diagnostic]:
    registry = model.spec.spec.registry
    if registry is None:
        return
    placeholders = _PLACEHOLDER.findall(registry.model_name or "")
    if placeholders:
        # Registering a version under each environment's name would take a registration at each
        # promotion; CI registers a version once, when it trains it.
        yield make(
            "MLG362",
            f"registry.modelName {registry.model_name!r} has the placeholder "
            f"{placeholders[0]}, and mlgitops registers each version once, when CI trains it, "
            "under one name: per-environment registered models are not rendered",
            model.doc.locate(("spec", "registry", "modelName")),
            "write the registered name without placeholders (the environments share the "
            "registered model; deployments.<env>.version says what each serves)",
        )
    if project.spec.spec.registry.kind == "mlflow":
        return
    if registry.alias is not None:
        yield make(
            "MLG360",
            f"registry.alias {registry.alias!r} is an MLflow alias, and the project's registry "
            "is an artifact store, which has no aliases",
            model.doc.locate(("spec", "registry", "alias")),
            "remove alias (an artifact store names a version by its place, artifactUri), or use "
            "an mlflow registry",
        )
