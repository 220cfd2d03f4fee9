"""Loading and schema-checking the spec files: the project file, and the model files in
chunks that the pipeline may hand to worker processes (``parallel.py``). Each file's
diagnostics (loading, secrets, header, schema) and text are collected for the report; a
file whose schema failed still takes part through what ``salvage.py`` keeps of it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from mlgitops.diagnostics import Diagnostic
from mlgitops.discover import ProjectFiles
from mlgitops.load import SourceDocument, best_effort_text, load_document, load_text
from mlgitops.load.document import data_paths
from mlgitops.load.header import check_header
from mlgitops.parallel import map_chunks
from mlgitops.render.overrides import check_overrides
from mlgitops.spec import ModelSpec, ProjectSpec
from mlgitops.spec.base import share_fields_sets
from mlgitops.validate.salvage import Distrust
from mlgitops.validate.schema import validate_salvaging
from mlgitops.validate.secrets import find_secrets

if TYPE_CHECKING:
    from mlgitops.validate.deployments import KnownDeployments

# The parent's chunk of the model files, as a multiple of a worker's (see load_models); a little
# over 1: the worker starts later (fork) and pickles a little slower than the parent unpickles.
LOAD_PARENT_SHARE = 1.05
# The same with work of the parent's own beside the files (a compile imports the render stack,
# about a tenth of the parent's turn at 1,000 models). Measured: the parent took in the worker's
# last batch 0.02 s after the worker ended, against 0.09 s at LOAD_PARENT_SHARE.
LOAD_PARENT_SHARE_BESIDE = 0.85

# Model files a worker sends back at a time (about 10 KB each pickled): the parent takes them in
# between files of its own, so that what is left to take in when both are done is one batch, not
# a worker's whole chunk (which made the next stage wait about a tenth of a second).
LOAD_BATCH = 25

# display name, text, document, spec (whole or salvaged), what salvage dropped, diagnostics
ModelOutcome = tuple[str, str, SourceDocument | None, ModelSpec | None, Distrust | None, list[Diagnostic]]


def project_spec(
    files: ProjectFiles,
    doc: SourceDocument | None,
    diagnostics: list[Diagnostic],
    distrusted: dict[str, Distrust],
) -> ProjectSpec | None:
    """The project file's spec, whole or salvaged (then distrusted everywhere), its
    template overrides checked."""
    if doc is None or not check_header(doc, "Project", diagnostics):
        return None
    project, problems, salvaged = validate_salvaging(doc, ProjectSpec)
    diagnostics += problems
    if salvaged is not None:
        project = salvaged.spec
        distrusted[doc.display] = replace(salvaged.distrust, everywhere=True)
    if project is not None and project.spec.templates is not None:
        where = doc.locate(("spec", "templates"))
        diagnostics += check_overrides(files.root, project.spec.templates, where)[1]
    return project


def load_models(
    files: ProjectFiles,
    overlay: Mapping[Path, bytes],
    paths: Sequence[Path],
    known: KnownModels | None,
    *,
    share: bool = True,
    meanwhile: Callable[[], object] | None = None,
) -> list[ModelOutcome]:
    """Each model file's outcome, in the order of ``paths``: those ``known`` holds as they are,
    the others from :func:`model_files` (in worker processes for large projects). ``share``:
    as :func:`model_files`. ``meanwhile``: done in this process while the workers load their
    files (before, without workers)."""
    if known is None or overlay:
        known = KnownModels()  # nothing to take, and nothing to keep for anyone
    reused, todo = known.split(files, paths)
    # A worker pickles what it found (its spec objects above all: SpecModel.__reduce__) in about
    # a tenth of the time it took to find it, and the parent unpickles it in a little less: about
    # equal chunks (measured in CPU time per process, 1,000 models, two processes).
    loaded = dict(
        zip(
            todo,
            map_chunks(
                partial(model_files, files, overlay, share=share),
                todo,
                parent_share=LOAD_PARENT_SHARE if meanwhile is None else LOAD_PARENT_SHARE_BESIDE,
                batch=LOAD_BATCH,
                meanwhile=meanwhile,
            ),
            strict=True,
        )
    )
    known.remember(loaded)
    return [reused[path] if path in reused else loaded[path] for path in paths]


def model_files(
    files: ProjectFiles, overlay: Mapping[Path, bytes], paths: Sequence[Path], *, share: bool = True
) -> list[ModelOutcome]:
    """Load and schema-check model files (runs in worker processes for large projects).
    ``share``: equal fields sets of the spec objects become one (``share_fields_sets``), for a
    caller that keeps the specs (compile); ``validate`` drops them, and would pay its time for
    nothing."""
    outcomes: list[ModelOutcome] = []
    for path in paths:
        sources: dict[str, str] = {}
        diagnostics: list[Diagnostic] = []
        doc = load_spec(files, path, sources, diagnostics, overlay)
        spec = None
        distrust = None
        if doc is not None and check_header(doc, "Model", diagnostics):
            spec, problems, salvaged = validate_salvaging(doc, ModelSpec)
            diagnostics += problems
            if salvaged is not None:
                spec, distrust = salvaged.spec, salvaged.distrust
        if doc is not None:
            # as a worker's document comes back (see SourceDocument), with the locations of
            # what validate reports in a valid project: hardening relaxations (validate/hardening.py).
            # Most files name neither key; one spelt with escapes ("securit\x79Context") is
            # located from the text when asked for, so the test on the text only saves time.
            named = "securityContext" in doc.text or "volumes" in doc.text
            doc = doc.without_tree(keep=_reported_when_valid(doc.data) if named else ())
        display = files.display(path)
        outcomes.append((display, sources[display], doc, spec, distrust, diagnostics))
    if share:
        share_fields_sets(spec for _, _, _, spec, _, _ in outcomes if spec is not None)
    return outcomes


def _reported_when_valid(value: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Data paths a valid model's diagnostics may point at: its securityContext settings and
    volumes, each a note (MLG337). Only collections are descended into: a model holds
    hundreds of scalars, and this runs for every model file."""
    found: list[tuple[str | int, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            here = (*path, key)
            if key == "securityContext":
                found += data_paths(item, here)
                continue
            if key == "volumes":
                found.append(here)
            if isinstance(item, (dict, list)):
                found += _reported_when_valid(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (dict, list)):
                found += _reported_when_valid(item, (*path, index))
    return found


def load_spec(
    files: ProjectFiles,
    path: Path,
    sources: dict[str, str],
    diagnostics: list[Diagnostic],
    overlay: Mapping[Path, bytes] | None = None,
) -> SourceDocument | None:
    display = files.display(path)
    if overlay and path in overlay:
        doc, problems = load_text(overlay[path], path, display)
    else:
        doc, problems = load_document(path, display)
    if doc is not None:
        sources[display] = doc.text
        diagnostics += find_secrets(doc)
    else:
        diagnostics += problems
        sources[display] = best_effort_text(path)
    return doc


def _known_deployments() -> KnownDeployments:
    from mlgitops.validate.deployments import KnownDeployments  # resolution: imported when it runs

    return KnownDeployments()


@dataclass
class KnownModels:
    """Model files that one validation loaded and schema-checked without a single diagnostic,
    for another in the same process (``diff``: the base revision after the head): a file with
    the same name and bytes comes out the same, so it is not loaded again."""

    _clean: dict[str, tuple[bytes, ModelOutcome]] = field(default_factory=dict)
    # and what their specs resolve to (validate/deployments.py)
    deployments: KnownDeployments = field(default_factory=_known_deployments)

    def split(
        self, files: ProjectFiles, paths: Sequence[Path]
    ) -> tuple[dict[Path, ModelOutcome], list[Path]]:
        """The outcomes known for some of ``paths`` (their documents at these paths), and the
        paths left to load."""
        known: dict[Path, ModelOutcome] = {}
        for path in paths:
            entry = self._clean.get(files.display(path))
            raw = _regular_file_bytes(path, len(entry[0])) if entry is not None else None
            if entry is None or raw != entry[0]:
                continue
            display, text, doc, spec, _, _ = entry[1]
            assert doc is not None
            known[path] = (display, text, replace(doc, path=path), spec, None, [])
        return known, [path for path in paths if path not in known]

    def remember(self, loaded: Mapping[Path, ModelOutcome]) -> None:
        for path, outcome in loaded.items():
            display, _, doc, spec, distrust, diagnostics = outcome
            if doc is None or spec is None or distrust is not None or diagnostics:
                continue
            raw = _regular_file_bytes(path, None)
            if raw is not None:
                self._clean[display] = (raw, outcome)


def _regular_file_bytes(path: Path, size: int | None) -> bytes | None:
    """The bytes of ``path`` if it is a regular file (not a link) of ``size`` bytes (None: any)."""
    try:
        if path.is_symlink() or not path.is_file() or (size is not None and path.stat().st_size != size):
            return None
        return path.read_bytes()
    except OSError:
        return None
