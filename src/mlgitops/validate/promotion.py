"""Which versions may enter an environment: the promotion order (MLG306) and the versions a
deprecated model may still take (MLG344).

"Served before" comes from git when the caller knows a base revision (``validate --base``,
``check --base``, ``diff --base``: :class:`ServedBefore`).  Git is asked only about the versions
the current spec cannot vouch for (one not served in the previous environment where approval is
required, any version of a deprecated model), for the whole project at once (:func:`ask_git`),
in two steps: what the base revision deploys (a spec file the change left alone deploys there
what it deploys now: nothing to read or parse), then, for the versions the base does not deploy
either, the whole history of their files.  The base's deployments are part of that history, so
the first step only spares the second; the verdicts are those of the history.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from mlgitops.diagnostics import Diagnostic, make
from mlgitops.spec.model import Deployment
from mlgitops.validate import ValidatedModel, ValidatedProject
from mlgitops.versions import is_older

# environment → the versions (stable or canary) a spec file deployed there
Deployed = Mapping[str, frozenset[str]]


class ServedBefore(Protocol):
    """What the spec files deployed (stable or canary) at a base revision and in its history."""

    def changed(self, texts: Mapping[str, str]) -> Mapping[str, Deployed]:
        """Of these spec files (path → current text), those whose text differs at the base
        revision, each with what it deployed there (empty when the base has no such file)."""
        ...

    def versions(self, spec_files: Collection[str]) -> Mapping[str, Deployed]:
        """For each file, what its history up to the base deployed (empty: no history)."""
        ...


class GitAnswers:
    """What git says each spec file served: the base revision's deployments first, the whole
    history only for a version the base does not deploy."""

    def __init__(self, history: ServedBefore, at_base: Mapping[str, Deployed]) -> None:
        self._history = history
        self._at_base = at_base
        self._histories: dict[str, Deployed] = {}

    def fetch(self, spec_files: Collection[str]) -> None:
        """Read these files' histories at once (one batch of git commands, not one per file)."""
        todo = [f for f in spec_files if f not in self._histories]
        if todo:
            self._histories.update(self._history.versions(todo))

    def served(self, spec_file: str, env: str | None, version: str) -> bool | None:
        """Whether the file deployed ``version`` in ``env`` (None: in any environment) at the
        base or before it; None when git cannot say (a file with no past: added by the change)."""
        at_base = self._at_base.get(spec_file, {})
        if _deploys(at_base, env, version):
            return True
        self.fetch([spec_file])  # normally fetched already, with the others (ask_git)
        history = self._histories[spec_file]
        if not history and not at_base:
            return None
        return _deploys(history, env, version)


def _deploys(deployed: Deployed, env: str | None, version: str) -> bool:
    if env is not None:
        return version in deployed.get(env, frozenset())
    return any(version in versions for versions in deployed.values())


@dataclass(frozen=True, slots=True)
class _Gap:
    """A version the previous environment does not serve (stable or canary)."""

    env: str
    field: tuple[str, ...]
    version: str
    previous: str
    previous_deployment: Deployment
    guarded: bool  # the environment requires approval: only git may vouch for the version


def ask_git(project: ValidatedProject, history: ServedBefore | None) -> GitAnswers | None:
    """Everything the promotion rules will ask git about this project, in two batches."""
    if history is None:
        return None
    questions = {model.doc.display: (model, list(_questions(project, model))) for model in project.models}
    texts = {spec_file: model.doc.text for spec_file, (model, asked) in questions.items() if asked}
    changed = history.changed(texts)
    at_base = {
        spec_file: changed[spec_file] if spec_file in changed else _deployed_now(questions[spec_file][0])
        for spec_file in texts
    }
    answers = GitAnswers(history, at_base)
    answers.fetch(
        [
            spec_file
            for spec_file in texts
            if any(not _deploys(at_base[spec_file], env, version) for env, version in questions[spec_file][1])
        ]
    )
    return answers


def _deployed_now(model: ValidatedModel) -> Deployed:
    return {env: frozenset(_served(d)) for env, d in model.spec.spec.deployments.items()}


def _questions(project: ValidatedProject, model: ValidatedModel) -> Iterator[tuple[str | None, str]]:
    """(environment or None for any, version): what the rules below ask git about this model."""
    for gap in _gaps(project, model):
        if gap.guarded:
            yield gap.env, gap.version
    if model.spec.spec.lifecycle.stage == "deprecated":
        for _, _, version in _deprecated_candidates(model):
            yield None, version


def check_promotions(
    project: ValidatedProject, model: ValidatedModel, git: GitAnswers | None
) -> Iterator[Diagnostic]:
    """``git``: what :func:`ask_git` found out for this project (None: no base revision)."""
    yield from _unexplained_waivers(project, model)
    yield from _promotion_order(model, _gaps(project, model), git)
    if model.spec.spec.lifecycle.stage == "deprecated":
        yield from _deprecated(model, git)


def _served(deployment: Deployment) -> set[str]:
    return {deployment.version} | ({deployment.canary.version} if deployment.canary else set())


def _candidates(deployment: Deployment) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = [(("version",), deployment.version)]
    if deployment.canary:
        found.append((("canary", "version"), deployment.canary.version))
    return found


def _approval(project: ValidatedProject) -> set[str]:
    return {env.name for env in project.spec.spec.environments if env.approval == "required"}


def _unexplained_waivers(project: ValidatedProject, model: ValidatedModel) -> Iterator[Diagnostic]:
    """Where approval is required, a waiver must say why (``reason``)."""
    approval = _approval(project)
    deployments = model.spec.spec.deployments
    for env_name in dict.fromkeys(project.environment_names):
        deployment = deployments.get(env_name)
        if deployment and env_name in approval and deployment.waive_promotion_order and not deployment.reason:
            yield make(
                "MLG306",
                f"waivePromotionOrder in {env_name!r}, which requires approval, gives no reason",
                model.doc.locate(("spec", "deployments", env_name, "waivePromotionOrder")),
                "add 'reason: <why this version skips the order>' beside it, for the approver",
            )


def _gaps(project: ValidatedProject, model: ValidatedModel) -> Iterator[_Gap]:
    """Each version (not waived) that the previous environment running this model does not serve."""
    deployments = model.spec.spec.deployments
    approval = _approval(project)
    previous: tuple[str, Deployment] | None = None
    for env_name in dict.fromkeys(project.environment_names):
        deployment = deployments.get(env_name)
        if deployment is None:
            continue
        if previous is not None and not deployment.waive_promotion_order:
            prev_name, prev = previous
            for field, version in _candidates(deployment):
                if version not in _served(prev):
                    yield _Gap(env_name, field, version, prev_name, prev, env_name in approval)
        previous = (env_name, deployment)


def _promotion_order(
    model: ValidatedModel, gaps: Iterator[_Gap], git: GitAnswers | None
) -> Iterator[Diagnostic]:
    """Each version must have passed through the previous environment that runs this model.

    A version is fine when the previous environment serves it (stable or canary), or when this
    environment served it before: where approval is required and git knows the spec file's
    past, exactly the versions it deployed here; otherwise, the versions older than the
    previous environment's stable one (promoted before that environment moved on).
    """
    for gap in gaps:
        known = git.served(model.doc.display, gap.env, gap.version) if git and gap.guarded else None
        if known:
            continue  # a rollback to a version this environment served, per git
        if known is None and is_older(gap.version, gap.previous_deployment.version):
            continue  # promoted before the previous environment moved on
        available = _served(gap.previous_deployment)
        yield make(
            "MLG306",
            f"version {gap.version!r} in {gap.env!r} has not been deployed to {gap.previous!r}, "
            f"the previous environment (it serves {', '.join(sorted(available))})"
            + (
                f", and the spec's git history shows {gap.env!r} never served it" if known is not None else ""
            ),
            model.doc.locate(("spec", "deployments", gap.env, *gap.field)),
            f"promote it to {gap.previous!r} first, or set 'waivePromotionOrder: true' on this "
            "deployment for a hotfix" + (" with a 'reason:'" if gap.guarded else ""),
        )


def _deprecated_candidates(model: ValidatedModel) -> Iterator[tuple[str, tuple[str, ...], str]]:
    for env_name, deployment in model.spec.spec.deployments.items():
        found = _candidates(deployment)
        if deployment.mirror is not None:
            found.append((("mirror", "version"), deployment.mirror.version))
        for field, version in found:
            yield env_name, field, version


def _deprecated(model: ValidatedModel, git: GitAnswers | None) -> Iterator[Diagnostic]:
    """A deprecated model may roll back to a version it served, never take a new one.

    Without git's answer only a canary or mirror can be told new (no environment's stable
    version is it); with it, every version the file never deployed is new."""
    stable = {d.version for d in model.spec.spec.deployments.values()}
    for env_name, field, version in _deprecated_candidates(model):
        known = git.served(model.doc.display, None, version) if git else None
        new = field != ("version",) and version not in stable if known is None else not known
        if not new:
            continue
        yield make(
            "MLG344",
            f"model {model.name!r} is deprecated and cannot take a new version: {version!r} in "
            f"{env_name!r} was never served"
            + (" (per the spec's git history)" if known is not None else " by any environment"),
            model.doc.locate(("spec", "deployments", env_name, *field)),
            "deploy a version it served before (a rollback), set lifecycle.stage back to active, "
            "or ship the new version as the model named in lifecycle.replacedBy",
        )
