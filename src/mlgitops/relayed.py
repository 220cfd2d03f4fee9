"""A compile's render of each slice of the models in the process that built its IR.

A large compile resolves and builds its models' IR in forked workers, a slice each, and
renders them in forked workers again. Forking twice made each worker wait, between the two,
for the parent to take in every worker's IR and set up the render (a fifth of a second at
1,000 models, with a core idle), and the IR go to the parent and back.  Here the worker that
built a slice renders it too (:class:`~mlgitops.parallel.Relay`): it sends its diagnostics,
then its IR (the project-wide targets need every model's), and renders its slice as soon as
the parent, knowing the whole project valid, has set up the staging area and said so. The
parent renders the project-wide targets and its own slice, then the later half of what a worker
has not started yet, from the IR it received (``parallel.Relay``: the render balances itself).

Only with the built-in templates and no render cache to read (a first compile,
``--no-cache``): otherwise the models are rendered as before (``compile._generate``).
``pipeline.py`` decides when each step happens.

What renders and stages (:class:`RenderStack`: ``compile.py``, Jinja, the targets, the planner)
is imported while the model files load, in the parent's turn once the load workers have forked:
neither they nor the start of a compile wait for it (a fifth of a second at 1,000 models).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from mlgitops.discover import project_subdir
from mlgitops.parallel import Relay, Worklist

if TYPE_CHECKING:
    from mlgitops import ir
    from mlgitops.compile import RenderedModel
    from mlgitops.emit.plan import Planner
    from mlgitops.emit.safefs import ProjectTree
    from mlgitops.emit.staging import PlannedFile
    from mlgitops.emit.territory import Territory
    from mlgitops.render.engine import RenderError

    # What renders and stages one model of a slice (``compile.slice_renderer``).
    StagingRender = Callable[[ir.Model], RenderedModel[PlannedFile] | RenderError]
    from mlgitops.validate import ValidatedProject
    from mlgitops.validate.deployments import Findings, NameGroup

Rendered = TypeVar("Rendered")

# The parent's slice, as a multiple of a worker's: besides resolving and rendering its own, it
# checks the references across models, takes in the workers' IR, renders the project-wide
# targets and takes in the workers' files (together about a fifth of the work at 1,000 models).
PARENT_SHARE = 0.65

Built = tuple["Findings", "tuple[ir.Model, ...] | None"]


class RelayedRender(Generic[Rendered]):
    """Set up before validation (the workers fork there) with ``render``: given the project's IR
    holding a slice's models, what renders and stages one of them (``compile.slice_renderer``);
    ``go``: called once the project is known valid, before any worker renders (it sets up the
    staging area). A context manager: leaving it ends the workers."""

    def __init__(
        self, render: Callable[[ir.Project], Callable[[ir.Model], Rendered]], go: Callable[[], object]
    ) -> None:
        self._render, self._go = render, go
        self._relay: Relay[NameGroup, Findings, tuple[ir.Model, ...] | None, Rendered] | None = None

    def __enter__(self) -> RelayedRender[Rendered]:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._relay is not None:
            self._relay.__exit__(*exc)

    @staticmethod
    def takes(validated: ValidatedProject) -> bool:
        """Whether the workers may render ``validated``: only with the built-in templates, which
        need no check of their own (``compile.prepare`` checks override templates first)."""
        return validated.spec.spec.templates is None

    @property
    def started(self) -> bool:
        return self._relay is not None

    @property
    def proceeded(self) -> bool:
        """Whether the workers went on to render (:meth:`proceed`)."""
        return self._relay is not None and self._relay.proceeded

    def start(
        self,
        validated: ValidatedProject,
        resolve: Callable[[Sequence[NameGroup]], Built],
        groups: Sequence[NameGroup],
        meanwhile: Callable[[], object],
    ) -> list[Findings]:
        """Fork the workers, each to ``resolve`` a slice of ``groups`` (``meanwhile`` done in the
        parent); what each found."""
        from mlgitops.ir.build import assemble_project

        place = project_subdir(validated.spec.spec.repository_root, validated.files.root)
        settings = assemble_project(validated, (), place)  # the project's IR without its models
        self._relay = Relay(resolve, _slice_render(settings, self._render), groups, parent_share=PARENT_SHARE)
        return self._relay.start(meanwhile)

    def proceed(self) -> list[tuple[ir.Model, ...] | None]:
        """The project is valid: let the workers render; each slice's IR."""
        assert self._relay is not None
        self._go()
        return self._relay.proceed()

    def finish(self, beside: Callable[[], Any]) -> tuple[list[Rendered], Any]:
        """Every model rendered, in order, and ``beside()`` (the project-wide targets), done in
        the parent before its own slice (and before it takes over the rest of the workers')."""
        assert self._relay is not None and self.proceeded
        results, aside = self._relay.finish(beside)
        return [rendered for chunk in results for rendered in chunk], aside


def _slice_render(
    settings: ir.Project, render: Callable[[ir.Project], Callable[[ir.Model], Rendered]]
) -> Callable[[tuple[ir.Model, ...] | None], Worklist[Rendered]]:
    """A slice's models, one at a time (``render`` given the project's IR holding just them)."""

    def worklist(models: tuple[ir.Model, ...] | None) -> Worklist[Rendered]:
        if not models:
            return 0, _nothing
        one = render(dataclasses.replace(settings, models=models))
        return len(models), lambda number: one(models[number])

    return worklist


def _nothing(number: int) -> Any:
    raise IndexError(number)


class RenderStack:
    """A compile's planner and its workers' renderer (``compile.slice_renderer``), set up on
    first use (:meth:`load`), with the modules they need."""

    def __init__(
        self, tree: ProjectTree, recorded: Mapping[str, str], territory: Territory, *, strict: bool
    ) -> None:
        self._tree, self._recorded, self._territory, self._strict = tree, recorded, territory, strict

    def load(self) -> None:
        """Import and set up everything now."""
        self._renderer  # noqa: B018 - the property sets it up

    @cached_property
    def planner(self) -> Planner:
        from mlgitops.emit.plan import Planner

        return Planner(self._tree, self._recorded, self._territory, strict=self._strict)

    @cached_property
    def _renderer(self) -> Callable[[ir.Project], StagingRender]:
        from mlgitops.compile import slice_renderer
        from mlgitops.emit.staging import Stager

        return slice_renderer(Stager(self.planner))

    def render_slice(self, project: ir.Project) -> StagingRender:
        """``compile.slice_renderer``'s: one set of engines for every slice this process renders."""
        return self._renderer(project)

    def stage_into(self, stack: contextlib.ExitStack[Any]) -> None:
        """Enter the staging area (``emit.staging.staging_area``) in ``stack``."""
        from mlgitops.emit.staging import staging_area

        stack.enter_context(staging_area(self._tree))
