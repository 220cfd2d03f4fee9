"""Where the running mlgitops was installed from, when that names an exact commit.

pip records a direct install (``pip install "git+<URL>@<commit>"``, what the README's
``pipx install`` line does) in the distribution's ``direct_url.json`` (PEP 610) with the
commit it resolved. ``init`` writes that into a new project's ``spec.ci.mlgitops`` and compile's
MLG352 names it in its hint, so CI installs the very mlgitops the user runs, before any release.
It is never a default compile falls back on: generated files depend only on the repository.
"""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path

import mlgitops

_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def running_git_source() -> tuple[str, str] | None:
    """``(git URL, commit)`` the running mlgitops was installed from, or None (run from a
    checkout, installed from a wheel, or a URL that could not serve CI)."""
    try:
        dist = metadata.distribution("mlgitops")
    except metadata.PackageNotFoundError:
        return None
    location = Path(str(dist.locate_file("mlgitops")))
    if Path(mlgitops.__file__).resolve().parent != location.resolve():
        return None  # the recorded install is not the code running (e.g. sources on PYTHONPATH)
    return git_source(dist.read_text("direct_url.json") or "")


def git_source(direct_url: str) -> tuple[str, str] | None:
    """``(git URL, commit)`` from a PEP 610 ``direct_url.json``, when it is a git URL that
    validates as ``spec.ci.mlgitops.git`` (no credentials, not a local path) at a full commit."""
    from mlgitops.scaffold import repository_problem

    try:
        data = json.loads(direct_url)
    except ValueError:
        return None
    vcs = data.get("vcs_info") if isinstance(data, dict) else None
    url = data.get("url") if isinstance(data, dict) else None
    if not isinstance(vcs, dict) or vcs.get("vcs") != "git" or not isinstance(url, str):
        return None
    commit = vcs.get("commit_id")
    if not isinstance(commit, str) or not _COMMIT.fullmatch(commit) or repository_problem(url):
        return None
    return url, commit
