"""Resolving the models and checking each deployment's merged settings, a slice of the models
at a time, then what only the whole project tells.

``validate`` alone, which needs the diagnostics and not the merged settings, spreads the
slices over the cores (``parallel.py``): a worker hands back only what it found, since merged
settings cost several times more to send through a pipe than to work out. The commands that
read the resolved project (compile, explain, promote, …) take every model in one slice and keep
its deployments. A slice holds every model of a name, as policies compare a model's images
across its environments, and slices follow the order resolution takes the models in, so that
the diagnostics are the same however the models were sliced.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from mlgitops.diagnostics import Diagnostic, Location
from mlgitops.resolve import ResolvedDeployment, ResolvedProject, check_project, model_order, resolve_models
from mlgitops.spec import ModelSpec, ProjectSpec
from mlgitops.validate import ValidatedModel, ValidatedProject
from mlgitops.validate.hardening import check_hardening
from mlgitops.validate.k8slimits import check_kubernetes_limits
from mlgitops.validate.policies import check_policies, check_project_policies, runtimes_used

NameGroup = tuple[ValidatedModel, ...]  # the models of one name (more than one is MLG301)


@dataclass(frozen=True)
class Findings:
    """What one slice of the models told."""

    diagnostics: list[Diagnostic]  # resolution's and the checks' of each deployment
    limits: list[Diagnostic]  # Kubernetes limits, once per location (a field may serve several)
    runtimes: frozenset[tuple[str, str]]  # (runtime, environment) pairs served with
    deployments: tuple[ResolvedDeployment, ...] = ()  # only when kept


def name_groups(models: Iterable[ValidatedModel]) -> list[NameGroup]:
    """The models by name, in the order resolution takes them."""
    ordered = sorted(models, key=model_order)
    return [tuple(group) for _, group in groupby(ordered, key=lambda model: model.name)]


def check_slice(project: ValidatedProject, groups: Sequence[NameGroup], *, keep: bool) -> list[Findings]:
    """Resolve and check the models of ``groups`` (a list of one, as ``parallel.map_chunks`` wants
    it); ``keep``: hand back the deployments too."""
    models = tuple(model for group in groups for model in group)
    piece = ValidatedProject(project.files, project.doc, project.spec, models)
    deployments, diagnostics = resolve_models(piece, models)
    resolved = ResolvedProject(piece, deployments)
    diagnostics += check_policies(resolved)
    diagnostics += check_hardening(resolved)
    limits = check_kubernetes_limits(resolved)
    return [Findings(diagnostics, limits, runtimes_used(resolved), deployments if keep else ())]


@dataclass
class KnownDeployments:
    """The deployments one validation resolved, for another in the same process (``diff``: the
    base revision after the head).  A model resolves from its own spec and the project's alone
    (what involves other models is checked project-wide, :func:`combine`), so one whose spec is
    the very object the first validation resolved (its file's bytes were the same,
    ``specfiles.KnownModels``) under an equal project spec resolves the same: its deployments
    are taken as they are, and its checks, which found no error there, are not run again."""

    _project: ProjectSpec | None = None
    _models: dict[str, tuple[ModelSpec, tuple[ResolvedDeployment, ...]]] = field(default_factory=dict)

    def check(self, project: ValidatedProject, groups: Sequence[NameGroup]) -> list[Findings]:
        """``check_slice(project, groups, keep=True)``, with what is known; what it finds is kept
        for the next when it holds no error."""
        same_project = self._project is not None and self._project == project.spec
        taken: list[ResolvedDeployment] = []
        todo: list[NameGroup] = []
        for group in groups:
            entry = self._models.get(group[0].name) if same_project and len(group) == 1 else None
            if entry is not None and entry[0] is group[0].spec:
                taken += entry[1]
            else:
                todo.append(group)
        found = check_slice(project, todo, keep=True) if todo else []
        if not any(d.severity == "error" for f in found for d in (*f.diagnostics, *f.limits)):
            self._project = project.spec
            specs = {model.name: model.spec for group in todo for model in group}
            by_model: dict[str, list[ResolvedDeployment]] = {}
            for item in (item for f in found for item in f.deployments):
                by_model.setdefault(item.model.name, []).append(item)
            for name, items in by_model.items():
                self._models[name] = (specs[name], tuple(items))
        if taken:
            piece = ResolvedProject(project, tuple(taken))
            found.append(Findings([], [], runtimes_used(piece), tuple(taken)))
        return found


def combine(
    project: ValidatedProject, slices: Sequence[Findings]
) -> tuple[ResolvedProject, list[Diagnostic]]:
    """The project resolved (with the deployments the slices kept) and every diagnostic of its
    deployments: the slices', and the project-wide ones."""
    diagnostics = [diagnostic for found in slices for diagnostic in found.diagnostics]
    reported: set[Location | None] = set()
    for found in slices:  # in order: the first slice to report a location keeps it
        for diagnostic in found.limits:
            if diagnostic.location not in reported:
                reported.add(diagnostic.location)
                diagnostics.append(diagnostic)
    diagnostics += check_project(project)
    used = frozenset().union(*(found.runtimes for found in slices))
    diagnostics += check_project_policies(project, used)
    deployments = tuple(item for found in slices for item in found.deployments)
    return ResolvedProject(project, deployments), diagnostics
