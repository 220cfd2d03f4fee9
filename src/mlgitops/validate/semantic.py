"""Semantic checks: what a single file's schema cannot see."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from mlgitops.diagnostics import Diagnostic, did_you_mean, make
from mlgitops.outputs import PROJECT_DIRS, application_name
from mlgitops.repourl import github_problem
from mlgitops.spec.ci import ci_settings
from mlgitops.spec.types import is_dns_label, is_dns_subdomain
from mlgitops.validate import ValidatedModel, ValidatedProject
from mlgitops.validate.identity import check_identity
from mlgitops.validate.promotion import ServedBefore, ask_git, check_promotions
from mlgitops.validate.runtimes import check_runtimes


def check_project(
    project: ValidatedProject, today: datetime.date, history: ServedBefore | None = None
) -> list[Diagnostic]:
    diagnostics = list(_environments(project))
    diagnostics += _shared_destinations(project)
    diagnostics += _gitops(project)
    diagnostics += _output_path(project)
    diagnostics += _duplicate_models(project)
    diagnostics += check_runtimes(project)
    diagnostics += check_identity(project)
    names = frozenset(m.name for m in project.models)
    git = ask_git(project, history)  # for the whole project at once: a few git commands, not one per file
    for model in project.models:
        diagnostics += _deployments(project, model)
        diagnostics += check_promotions(project, model, git)
        diagnostics += _gates(model)
        diagnostics += _lifecycle(project, model, today)
        diagnostics += _references(names, model)
        diagnostics += _drift(model)
    diagnostics += _retrain_repository(project)
    return diagnostics


def _environments(project: ValidatedProject) -> Iterator[Diagnostic]:
    doc, spec = project.doc, project.spec.spec
    seen: dict[str, int] = {}
    for index, env in enumerate(spec.environments):
        if env.name in seen:
            yield make(
                "MLG312",
                f"environment {env.name!r} is declared twice",
                doc.locate(("spec", "environments", index, "name")),
                "environment names must be unique",
                related=[doc.locate(("spec", "environments", seen[env.name], "name"))],
            )
        seen.setdefault(env.name, index)
        if env.name in PROJECT_DIRS:
            yield make(
                "MLG325",
                f"environment {env.name!r} would share {spec.output.path}/{env.name}/ with the "
                f"project's {PROJECT_DIRS[env.name]}",
                doc.locate(("spec", "environments", index, "name")),
                f"rename the environment; reserved names: {', '.join(sorted(PROJECT_DIRS))} "
                "(its namespace can stay as it is)",
            )
        if spec.gitops == "flux" and env.cluster is not None and not is_dns_label(env.cluster):
            yield make(
                "MLG324",
                f"Flux reaches another cluster through a kubeconfig Secret; {env.cluster!r} is not "
                "a Secret name",
                doc.locate(("spec", "environments", index, "cluster")),
                "with gitops: flux, set cluster to the name of the Secret in the Flux namespace "
                "that holds the cluster's kubeconfig",
            )
    policies = spec.policies
    for field, names in (
        ("requireEvaluationGate", policies.require_evaluation_gate),
        ("requireSLO", policies.require_slo),
        ("forbidMutableImageTags", policies.forbid_mutable_image_tags),
        ("requireApproval", policies.require_approval),
        ("forbidSecurityRelaxations", policies.forbid_security_relaxations),
        ("forbidMutableVersions", policies.forbid_mutable_versions or []),
    ):
        for index, name in enumerate(names):
            if name not in seen:
                yield make(
                    "MLG319",
                    f"policy {field} names environment {name!r}, which is not declared",
                    doc.locate(("spec", "policies", field, index)),
                    did_you_mean(name, seen) or f"declared environments: {', '.join(seen)}",
                )


def _gitops(project: ValidatedProject) -> Iterator[Diagnostic]:
    """Per-environment GitOps settings one engine has no equivalent for, and the Argo CD
    application name (a DNS subdomain, one per environment)."""
    doc, spec = project.doc, project.spec.spec
    for index, env in enumerate(spec.environments):
        if spec.gitops == "flux" and env.gitops.sync_policy == "manual":
            yield make(
                "MLG370",
                f"Flux reconciles every change; it cannot leave {env.name!r} to be synced by hand",
                doc.locate(("spec", "environments", index, "gitops", "syncPolicy")),
                "remove syncPolicy (with Flux, hold a change back by not merging it, or suspend "
                "the Kustomization with `flux suspend`), or use gitops: argocd",
            )
        if spec.gitops == "argocd" and env.gitops.depends_on:
            yield make(
                "MLG370",
                "Argo CD Applications have no dependencies on other Applications",
                doc.locate(("spec", "environments", index, "gitops", "dependsOn")),
                "remove dependsOn (Argo CD orders Applications by sync waves: spec.argocd.syncWaves), "
                "or use gitops: flux",
            )
    if spec.gitops != "argocd":
        return
    if spec.argocd.application_set and spec.argocd.sync_waves:
        yield make(
            "MLG370",
            "sync waves order the Applications of an app-of-apps; those an ApplicationSet "
            "generates ignore them",
            doc.locate(("spec", "argocd", "syncWaves")),
            "remove syncWaves, or set applicationSet: false",
        )
    template = spec.argocd.application_name
    names = [application_name(template, project.spec.metadata.name, env.name) for env in spec.environments]
    bad = next((name for name in names if not is_dns_subdomain(name)), None)
    # without {environment} every environment gets the same name (twice-declared ones are MLG312)
    shared = "{environment}" not in template and len(names) > 1
    if bad is not None or shared:
        problem = (
            f"gives {bad!r}, not a DNS subdomain (lowercase letters, digits, '-' and '.', at most "
            "253 characters)"
            if bad is not None
            else "gives the same name to several environments"
        )
        yield make(
            "MLG371",
            f"applicationName {template!r} {problem}",
            doc.locate(("spec", "argocd", "applicationName")),
            "use {project} and {environment}, e.g. 'ml-{project}-{environment}'",
        )


# Argo CD's names for the cluster it runs in (targets/gitops/__init__.py), which an unset cluster means.
_LOCAL_CLUSTER = frozenset({"https://kubernetes.default.svc", "in-cluster"})


def _shared_destinations(project: ValidatedProject) -> Iterator[Diagnostic]:
    """Two environments syncing into one namespace of one cluster fight over the same objects
    (each GitOps Application prunes what the other one creates)."""
    spec = project.spec.spec
    first: dict[tuple[str | None, str], int] = {}
    for index, env in enumerate(spec.environments):
        cluster = env.cluster.rstrip("/") if env.cluster is not None else None
        if spec.gitops == "argocd" and cluster in _LOCAL_CLUSTER:
            cluster = None
        earlier = first.setdefault((cluster, env.namespace), index)
        if earlier != index and spec.environments[earlier].name != env.name:  # a repeat is MLG312
            where = f"cluster {env.cluster!r}" if cluster is not None else "the local cluster"
            yield make(
                "MLG328",
                f"environment {env.name!r} deploys to namespace {env.namespace!r} of {where}, as "
                f"environment {spec.environments[earlier].name!r} does",
                project.doc.locate(("spec", "environments", index, "namespace")),
                "give each environment its own namespace (or cluster); their GitOps applications "
                "would otherwise overwrite and prune each other's objects",
                related=[project.doc.locate(("spec", "environments", earlier, "namespace"))],
            )


def _output_path(project: ValidatedProject) -> Iterator[Diagnostic]:
    """The compiled tree must be a directory of its own inside the project: compile owns and
    prunes everything under it, and .mlgitops/ holds its manifest and transaction journal."""
    path = project.spec.spec.output.path
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
    if path.startswith(("/", "\\")) or (len(path) > 1 and path[0].isalpha() and path[1] == ":"):
        reason = "is absolute; it must be a directory inside the project"
    elif ".." in parts:
        reason = "contains '..'; it must be a directory inside the project"
    elif not parts:
        reason = "is the project directory itself; compile needs a directory of its own"
    elif parts[0].casefold() == ".mlgitops":
        reason = f"lies in {parts[0]}/, which mlgitops keeps to itself"
    elif ".git" in (part.casefold() for part in parts):
        reason = "lies in a .git directory, which git keeps to itself"
    elif parts[:2] == [".github", "workflows"] or parts == [".github"]:
        reason = "is where GitHub reads workflows; the CI files mlgitops writes there are its own"
    elif path.rstrip("/") != "/".join(parts) or "\\" in path:
        reason = f"is not written plainly; write it as {'/'.join(parts)!r}"
    else:
        return
    yield make(
        "MLG329",
        f"output.path {path!r} {reason}",
        project.doc.locate(("spec", "output", "path")),
        "use a relative directory such as deploy",
    )


def _duplicate_models(project: ValidatedProject) -> Iterator[Diagnostic]:
    first: dict[str, ValidatedModel] = {}
    for model in project.models:
        earlier = first.setdefault(model.name, model)
        if earlier is not model:
            yield make(
                "MLG301",
                f"model {model.name!r} is also defined in {earlier.doc.display}",
                model.doc.locate(("metadata", "name")),
                "model names must be unique across the project; rename one of them",
                related=[earlier.doc.locate(("metadata", "name"))],
            )


def _deployments(project: ValidatedProject, model: ValidatedModel) -> Iterator[Diagnostic]:
    declared = tuple(dict.fromkeys(project.environment_names))
    doc = model.doc
    traffic = project.spec.spec.traffic
    routed = traffic is not None and traffic.router in ("gateway-api", "istio")
    for env_name, deployment in model.spec.spec.deployments.items():
        path = ("spec", "deployments", env_name)
        if env_name not in declared:
            yield make(
                "MLG303",
                f"deployment to environment {env_name!r}, which the project does not declare",
                doc.locate(path, key=True),
                did_you_mean(env_name, declared) or f"declared environments: {', '.join(declared)}",
            )
        canary = deployment.canary
        if canary is None:
            continue
        # 0 % is a deployed version no user request reaches (a pinned rollback, a pre-flight
        # check): only a route can say so; KServe's native split cannot.
        lowest = 0 if routed else 1
        if not lowest <= canary.traffic <= 99:
            yield make(
                "MLG304",
                f"canary traffic {canary.traffic}% is outside {lowest}..99",
                doc.locate((*path, "canary", "traffic")),
                "to send all traffic to the new version, make it the stable 'version' instead"
                if canary.traffic > 99
                else "to stop the canary, remove it (0 % needs spec.traffic.router gateway-api or istio)",
            )
        if canary.version == deployment.version:
            yield make(
                "MLG305",
                f"canary version {canary.version!r} is already the stable version",
                doc.locate((*path, "canary", "version")),
                "remove the canary, or set it to the version under test",
            )


def _gates(model: ValidatedModel) -> Iterator[Diagnostic]:
    evaluation = model.spec.spec.evaluation
    if evaluation is None:
        return
    seen: set[str] = set()
    for index, gate in enumerate(evaluation.gates):
        path = ("spec", "evaluation", "gates", index)
        if gate.min is None and gate.max is None:
            yield make(
                "MLG314",
                f"gate on {gate.metric!r} has neither 'min' nor 'max'",
                model.doc.locate(path),
                "add 'min:' and/or 'max:'",
            )
        elif gate.min is not None and gate.max is not None and gate.min > gate.max:
            yield make(
                "MLG314",
                f"gate on {gate.metric!r} can never pass: min {gate.min} is above max {gate.max}",
                model.doc.locate((*path, "min")),
            )
        if gate.metric in seen:
            yield make(
                "MLG314",
                f"metric {gate.metric!r} is gated twice",
                model.doc.locate((*path, "metric")),
                "merge the two gates into one with both 'min' and 'max'",
            )
        seen.add(gate.metric)


def _lifecycle(
    project: ValidatedProject, model: ValidatedModel, today: datetime.date
) -> Iterator[Diagnostic]:
    lifecycle = model.spec.spec.lifecycle
    if lifecycle.stage == "retired" and model.spec.spec.deployments:
        envs = ", ".join(model.spec.spec.deployments)
        yield make(
            "MLG311",
            f"model {model.name!r} is retired but still deployed to {envs}",
            model.doc.locate(("spec", "deployments"), key=True),
            "remove its deployments (the generated files are then pruned), or set the stage back",
        )
    if lifecycle.stage == "deprecated" and lifecycle.sunset is not None and lifecycle.sunset < today:
        yield make(
            "MLG318",
            f"model {model.name!r} was to be gone by {lifecycle.sunset.isoformat()}",
            model.doc.locate(("spec", "lifecycle", "sunset")),
            "retire it, or move the sunset date",
        )


def _references(names: frozenset[str], model: ValidatedModel) -> Iterator[Diagnostic]:
    body = model.spec.spec
    replaced_by = body.lifecycle.replaced_by
    if replaced_by is not None and replaced_by not in names:
        yield make(
            "MLG321",
            f"lifecycle.replacedBy names {replaced_by!r}, which is not a model of this project",
            model.doc.locate(("spec", "lifecycle", "replacedBy")),
            did_you_mean(replaced_by, names - {model.name})
            or "add that model's spec under models/, or remove replacedBy",
        )
    drift = body.monitoring.drift if body.monitoring else None
    sources = [source.name for source in body.data]
    if drift is not None and drift.reference is not None and drift.reference not in sources:
        yield make(
            "MLG321",
            f"drift.reference names {drift.reference!r}, which is not one of the model's data sources",
            model.doc.locate(("spec", "monitoring", "drift", "reference")),
            did_you_mean(drift.reference, sources) or "declare it under spec.data",
        )


def _drift(model: ValidatedModel) -> Iterator[Diagnostic]:
    """The drift check compares with a data source, and retraining starts the model's pipeline."""
    body = model.spec.spec
    drift = body.monitoring.drift if body.monitoring else None
    if drift is None:
        return
    if not body.data:
        yield make(
            "MLG321",
            "drift compares live inputs with a reference data source, and the model declares none",
            model.doc.locate(("spec", "monitoring", "drift")),
            "declare the reference data under spec.data (drift.reference names it; default the first)",
        )
    if drift.retrain and body.training is None:
        yield make(
            "MLG202",
            "drift.retrain starts the model's training pipeline, and the model has no spec.training",
            model.doc.locate(("spec", "monitoring", "drift", "retrain")),
            "add spec.training, or set retrain: false",
        )


def _retrain_repository(project: ValidatedProject) -> Iterator[Diagnostic]:
    """Retraining calls GitHub's dispatch API for the repository, which needs <owner>/<repo>."""
    spec = project.spec.spec
    retraining = [
        m.name
        for m in project.models
        if m.spec.spec.monitoring and m.spec.spec.monitoring.drift and m.spec.spec.monitoring.drift.retrain
    ]
    problem = (
        github_problem(spec.repository) if ci_settings(spec.ci).system == "github" and retraining else None
    )
    if problem is not None:
        yield make(
            "MLG322",
            f"drift.retrain of {retraining[0]!r} dispatches to this repository on GitHub: {problem}",
            project.doc.locate(("spec", "repository")),
            "write the repository as https://github.com/<owner>/<repository>.git",
        )
