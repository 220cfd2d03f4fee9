"""``check``: how the tree on disk differs from a fresh compile held in memory, and what in
``.mlgitops/`` is wrong (called by :mod:`mlgitops.pipeline` once the project is rendered)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from mlgitops.compile import Generated, save_render_cache
from mlgitops.diagnostics import Diagnostic, Location, make
from mlgitops.emit.drift import Drift
from mlgitops.emit.safefs import ProjectTree
from mlgitops.emit.territory import Territory
from mlgitops.resolve import ResolvedProject
from mlgitops.targets.base import OutputFile


def check_tree(
    tree: ProjectTree,
    resolved: ResolvedProject,
    sources: Mapping[str, str],
    generated: Generated[OutputFile],
    files_at: Callable[[str], list[OutputFile] | None],
    repo_subdir: str,
) -> tuple[list[Drift], list[Diagnostic]]:
    """``check``: how the tree differs from ``generated``, and what in ``.mlgitops/`` is wrong.

    ``files_at(subdir)``: the project's files were it at another place in its repository
    (to tell a moved project from drift)."""
    from mlgitops.emit import state
    from mlgitops.emit.drift import explain_move, find_drift
    from mlgitops.emit.manifest import MANIFEST_DIR
    from mlgitops.emit.plan import file_hashes

    extra = state.state_problems(tree)
    if extra:
        return [], extra
    if tree.lstat(state.JOURNAL_PATH) is not None:
        extra.append(
            make(
                "MLG505",
                "a compile was interrupted; its changes are still on disk",
                Location(MANIFEST_DIR),
                "run 'mlgitops compile' to restore and finish",
            )
        )
    hashes = file_hashes(generated.files)
    # Validation has read the specs: the territory comes from them, not from reading them again.
    spec = resolved.validated.spec.spec
    territory = Territory.of(
        spec.output.path, sources, [spec.templates] if spec.templates else [], repo_subdir=repo_subdir
    )
    tree.attach_repository(repo_subdir)
    previous = state.read_manifest(tree)
    drift = find_drift(tree, generated.files, hashes, previous, territory)
    drift = explain_move(tree, drift, files_at, repo_subdir, previous, territory)
    if state.has_gitignore(tree):  # a project compile set up: its .gitignore keeps the cache out of git
        save_render_cache(tree, generated, hashes)
    return drift, extra
