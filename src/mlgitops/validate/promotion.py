"""Which versions may enter an environment: the promotion order (MLG306) and the versions a
deprecated model may still take (MLG344).

"Served before" comes from the spec file's git history when the caller knows a base revision
(``validate --base``, ``check --base``, ``diff --base``: :class:`ServedBefore`); reading it costs a
``git log`` per file, so it is asked only for the deployments the current spec cannot vouch for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from mlgitops.diagnostics import Diagnostic, make
from mlgitops.spec.model import Deployment
from mlgitops.validate import ValidatedModel, ValidatedProject
from mlgitops.versions import is_older


class ServedBefore(Protocol):
    """The versions a spec file deployed (stable or canary) in its history up to a base."""

    def versions(self, spec_file: str) -> Mapping[str, frozenset[str]]:
        """Environment → every version that file's history deployed there."""
        ...


def check_promotions(
    project: ValidatedProject, model: ValidatedModel, history: ServedBefore | None
) -> Iterator[Diagnostic]:
    yield from _promotion_order(project, model, history)
    if model.spec.spec.lifecycle.stage == "deprecated":
        yield from _deprecated(model, history)


def _served(deployment: Deployment) -> set[str]:
    return {deployment.version} | ({deployment.canary.version} if deployment.canary else set())


def _candidates(deployment: Deployment) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = [(("version",), deployment.version)]
    if deployment.canary:
        found.append((("canary", "version"), deployment.canary.version))
    return found


def _promotion_order(
    project: ValidatedProject, model: ValidatedModel, history: ServedBefore | None
) -> Iterator[Diagnostic]:
    """Each version must have passed through the previous environment that runs this model.

    A version is fine when the previous environment serves it (stable or canary), or when this
    environment served it before: where approval is required and the spec's git history is
    known, exactly the versions that history deployed here; otherwise, the versions older than
    the previous environment's stable one (promoted before that environment moved on).  Where
    approval is required, a waiver must say why (``reason``).
    """
    deployments = model.spec.spec.deployments
    approval = {env.name for env in project.spec.spec.environments if env.approval == "required"}
    previous: tuple[str, Deployment] | None = None
    for env_name in dict.fromkeys(project.environment_names):
        deployment = deployments.get(env_name)
        if deployment is None:
            continue
        path = ("spec", "deployments", env_name)
        guarded = env_name in approval
        if guarded and deployment.waive_promotion_order and not deployment.reason:
            yield make(
                "MLG306",
                f"waivePromotionOrder in {env_name!r}, which requires approval, gives no reason",
                model.doc.locate((*path, "waivePromotionOrder")),
                "add 'reason: <why this version skips the order>' beside it, for the approver",
            )
        if previous is not None and not deployment.waive_promotion_order:
            prev_name, prev = previous
            available = _served(prev)
            for field, version in _candidates(deployment):
                if version in available:
                    continue
                known = _known(history, model) if guarded else None
                if known is not None:
                    # exact: a rollback to a version this environment served, per git
                    if version in known.get(env_name, frozenset()):
                        continue
                elif is_older(version, prev.version):
                    continue  # promoted before the previous environment moved on
                yield make(
                    "MLG306",
                    f"version {version!r} in {env_name!r} has not been deployed to {prev_name!r}, "
                    f"the previous environment (it serves {', '.join(sorted(available))})"
                    + (
                        f", and the spec's git history shows {env_name!r} never served it"
                        if known is not None
                        else ""
                    ),
                    model.doc.locate((*path, *field)),
                    f"promote it to {prev_name!r} first, or set 'waivePromotionOrder: true' on this "
                    "deployment for a hotfix" + (" with a 'reason:'" if guarded else ""),
                )
        previous = (env_name, deployment)


def _known(history: ServedBefore | None, model: ValidatedModel) -> Mapping[str, frozenset[str]] | None:
    """What the model's spec file deployed before, or None when git cannot say: no base, or
    a file the base did not have (a model added by this change has no past to roll back to,
    and the rules without a history apply)."""
    if history is None:
        return None
    return history.versions(model.doc.display) or None


def _deprecated(model: ValidatedModel, history: ServedBefore | None) -> Iterator[Diagnostic]:
    """A deprecated model may roll back to a version it served, never take a new one.

    Without a history only a canary or mirror can be told new (no environment's stable version
    is it); with one, every version the file's history never deployed is new."""
    deployments = model.spec.spec.deployments
    stable = {d.version for d in deployments.values()}
    known = _known(history, model)
    before = set().union(*known.values()) if known is not None else None
    for env_name, deployment in deployments.items():
        found = _candidates(deployment)
        if deployment.mirror is not None:
            found.append((("mirror", "version"), deployment.mirror.version))
        for field, version in found:
            if before is not None:
                new = version not in before
            else:
                new = field != ("version",) and version not in stable
            if not new:
                continue
            yield make(
                "MLG344",
                f"model {model.name!r} is deprecated and cannot take a new version: {version!r} in "
                f"{env_name!r} was never served"
                + (" (per the spec's git history)" if before is not None else " by any environment"),
                model.doc.locate(("spec", "deployments", env_name, *field)),
                "deploy a version it served before (a rollback), set lifecycle.stage back to active, "
                "or ship the new version as the model named in lifecycle.replacedBy",
            )
