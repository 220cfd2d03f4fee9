"""The revision ``mlgitops diff`` compares with when ``--base`` is not given: in CI, the merge
base of the pull request (merge request) with its target branch, so the plan shows what the
change does, not what the target branch did since."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

from mlgitops.errors import UsageError, UserError

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]+$")


def default_base(cwd: Path, env: Mapping[str, str]) -> str:
    """GitLab names the merge base (``CI_MERGE_REQUEST_DIFF_BASE_SHA``); on GitHub it is
    ``git merge-base HEAD origin/$GITHUB_BASE_REF`` (check out with ``fetch-depth: 0``)."""
    gitlab = env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA", "")
    if _SHA.match(gitlab):
        return gitlab
    branch = env.get("GITHUB_BASE_REF") or env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME") or ""
    if not branch:
        raise UsageError("--base is required outside a pull request's CI job (give a branch, tag or commit)")
    if not _BRANCH.match(branch) or branch.startswith("-"):
        raise UserError(f"the pull request's target branch {branch!r} is not a usable branch name")
    process = subprocess.run(
        ["git", "-C", str(cwd), "merge-base", "HEAD", f"refs/remotes/origin/{branch}"],
        capture_output=True,
        text=True,
        check=False,
    )
    base = process.stdout.strip()
    if process.returncode != 0 or not _SHA.match(base):
        raise UserError(
            f"no merge base of HEAD and origin/{branch}: fetch the target branch with its history "
            "(actions/checkout with fetch-depth: 0, or git fetch origin " + branch + ")"
        )
    return base
