"""The models an environment's promtool tests stand on, and the shared rules built for them alone.

The shared rules of an environment hold every SLO's metadata (packed unions of thousands of terms
at 1,000 models) and a term per SLI family and SLO window, which promtool would evaluate at every
step of every test: one environment's suite took more than 26 minutes that way.  The tests are
per SLI family, per alert shape and per drift shape (:mod:`.prometheus_tests`), each with the
first model of its kind, so each needs only that model's rules.  :func:`choose` picks those
models and builds, for each alone, the shared rules with the builder that writes the real ones
(``build``, called with the project and SLOs restricted to that model), so the two cannot
diverge: a slice's rules are the real rules' terms for that model (the same family terms, window
conditions and metadata rows, with the same text), only fewer of them (docs/monitoring.md;
tests/test_promtool_scale.py checks it term by term).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from mlgitops import ir
from mlgitops.targets.monitoring import drift_rules
from mlgitops.targets.monitoring.prometheus_sli import Family, SharedGroup, SLIMember

# The shared rules of an environment for a project and its SLOs there.
SharedBuilder = Callable[[ir.Project, list[SLIMember]], list[SharedGroup]]
# What makes two SLOs' alerts the same test: kind, objective, window and the alerting spec.
AlertShape = tuple[str, float, str, ir.SLOAlerting]
# What makes two models' drift alerts the same test: method, threshold, retrain, waiting time.
DriftShape = tuple[str, float, bool, int]


@dataclass(frozen=True, slots=True)
class Slice:
    """One model the tests use, what they test with it, and the shared rules built for it alone."""

    model: ir.Model
    deployment: ir.Deployment  # in the environment
    families: list[SLIMember]  # the SLI families whose first SLO is this model's
    shapes: list[SLIMember]  # the alert shapes whose first SLO is this model's
    drift: bool  # the first model of its drift shape
    groups: list[SharedGroup]


def alert_shape(member: SLIMember) -> AlertShape:
    s = member.slo
    return (s.kind, s.objective, s.window, s.alerting)


def drift_shape(drift: ir.Drift) -> DriftShape:
    return (drift.method, drift.threshold, drift.retrain, drift_rules.stale_after_seconds(drift))


def choose(
    project: ir.Project, env: ir.Environment, slis: list[SLIMember], build: SharedBuilder
) -> list[Slice]:
    """The first model of every SLI family, alert shape and drift shape in ``env``, in project
    order, each with the shared rules ``build`` writes for it alone."""
    families: dict[Family, SLIMember] = {}
    shapes: dict[AlertShape, SLIMember] = {}
    for member in slis:
        families.setdefault(member.family, member)
        shapes.setdefault(alert_shape(member), member)
    drifts: dict[DriftShape, str] = {}
    for model in project.models:
        drift = model.monitoring.drift
        if drift is not None and any(d.environment.name == env.name for d in model.deployments):
            drifts.setdefault(drift_shape(drift), model.name)
    names = {m.deployment.model for m in [*families.values(), *shapes.values()]} | set(drifts.values())
    slices = []
    for model in project.models:
        if model.name not in names:
            continue
        d = next(d for d in model.deployments if d.environment.name == env.name)
        alone = dataclasses.replace(project, models=(model,))
        own = [m for m in slis if m.deployment.model == model.name]
        slices.append(
            Slice(
                model=model,
                deployment=d,
                families=[m for m in families.values() if m.deployment.model == model.name],
                shapes=[m for m in shapes.values() if m.deployment.model == model.name],
                drift=model.name in drifts.values(),
                groups=build(alone, own),
            )
        )
    return slices
