"""A compile's render of each slice of the models in the process that built its IR.

A large compile resolves and builds its models' IR in forked workers, a slice each, and
renders them in forked workers again. Forking twice made each worker wait, between the two,
for the parent to take in every worker's IR and set up the render (a fifth of a second at
1,000 models, with a core idle), and the IR go to the parent and back.  Here the worker that
built a slice renders it too (:class:`~mlgitops.parallel.Relay`): it sends its diagnostics,
renders its first models in memory while the parent decides, and once the parent, knowing the
whole project valid, has set up the staging area and said so, sends its IR (the project-wide
targets need every model's) and stages its files. The parent renders the project-wide targets
and its own slice (the first models of it while it waits for the workers), then the later half
of what a worker has not started yet, from the IR it received (the render balances itself).

Only with the built-in templates and no render cache to read (a first compile,
``--no-cache``): otherwise the models are rendered as before (``compile._generate``).
``pipeline.py`` decides when each step happens.

What renders and stages (:class:`RenderStack`: ``compile.py``, Jinja, the targets, the planner)
is imported while the model files load, in the parent's turn once the load workers have forked:
neither they nor the start of a compile wait for it (about 0.06 s, once the specs are imported).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from mlgitops.discover import project_subdir
from mlgitops.parallel import Relay, Worklist

if TYPE_CHECKING:
    from mlgitops import ir
    from mlgitops.compile import DraftedModel as Drafted
    from mlgitops.compile import SliceRender
    from mlgitops.compile import StagedModel as Staged
    from mlgitops.emit.plan import Planner
    from mlgitops.emit.safefs import ProjectTree
    from mlgitops.emit.territory import Territory
    from mlgitops.validate import ValidatedProject
    from mlgitops.validate.deployments import Findings, NameGroup

# The parent's slice, as a multiple of a worker's: besides resolving and rendering its own, it
# checks the references across models, takes in the workers' IR, renders the project-wide
# targets and takes in the workers' files (together about a fifth of the work at 1,000 models).
PARENT_SHARE = 0.65

Built = tuple["Findings", "tuple[ir.Model, ...] | None"]


class RelayedRender:
    """Set up before validation (the workers fork there) with ``render``: given the project's IR
    holding a slice's models, how to render and stage one of them (``compile.slice_renderer``);
    ``go``: called once the project is known valid, before any process stages a file (it sets up
    the staging area). A context manager: leaving it ends the workers."""

    def __init__(self, render: Callable[[ir.Project], SliceRender], go: Callable[[], object]) -> None:
        self._render, self._go = render, go
        self._relay: Relay[NameGroup, Findings, tuple[ir.Model, ...] | None, Staged] | None = None

    def __enter__(self) -> RelayedRender:
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
        """The project is valid: let every process stage what it renders (the parent its own
        models while the workers' IR comes); each slice's IR."""
        assert self._relay is not None
        self._go()
        return self._relay.proceed()

    def finish(self, beside: Callable[[], Any]) -> tuple[list[Staged], Any]:
        """Every model rendered, in order, and ``beside()`` (the project-wide targets), done in
        the parent before the rest of its own slice (and before it takes over the rest of the
        workers')."""
        assert self._relay is not None and self.proceeded
        results, aside = self._relay.finish(beside)
        return [rendered for chunk in results for rendered in chunk], aside


def _slice_render(
    settings: ir.Project, render: Callable[[ir.Project], SliceRender]
) -> Callable[[tuple[ir.Model, ...] | None], Worklist[Drafted, Staged]]:
    """A slice's models, one at a time (``render`` given the project's IR holding just them)."""

    def worklist(models: tuple[ir.Model, ...] | None) -> Worklist[Drafted, Staged]:
        if not models:
            return Worklist(0, _nothing, _nothing)
        one = render(dataclasses.replace(settings, models=models))
        return Worklist(len(models), lambda number: one.draft(models[number]), one.stage)

    return worklist


def _nothing(item: object) -> Any:
    raise IndexError(item)


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
    def _renderer(self) -> Callable[[ir.Project], SliceRender]:
        from mlgitops.compile import slice_renderer
        from mlgitops.emit.staging import Stager

        return slice_renderer(Stager(self.planner))

    def render_slice(self, project: ir.Project) -> SliceRender:
        """``compile.slice_renderer``'s: one set of engines for every slice this process renders."""
        return self._renderer(project)

    def stage_into(self, stack: contextlib.ExitStack[Any]) -> None:
        """Enter the staging area (``emit.staging.staging_area``) in ``stack``."""
        from mlgitops.emit.staging import staging_area

        stack.enter_context(staging_area(self._tree))
