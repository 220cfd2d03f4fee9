"""Time `mlgitops diff --base HEAD~1` on a generated project of 1,000 models x 3 environments.

Usage: python benchmarks/bench_diff.py [N] [--runs R]

The project is generated into a temporary git repository, compiled and committed;
then one model's dev version changes (with `mlgitops promote`), the project is
compiled again and committed.  `diff --base HEAD~1` then compiles both revisions in
memory (the base read from git objects) and compares them: best and median of R
runs (default 3) after one untimed warm-up run, against the target of issue 6
(< 5 s); then the same in a fresh clone (CI), without a render cache (median of R,
issue 14's target < 3 s) and after `check` left one.  Wall-clock times of the installed
console script, interpreter start-up included.  The exit status is 0 even when the
target is missed (timings depend on the machine's load), and non-zero only when a
command fails or the diff is not the expected one (exactly one deployment changed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from generate import generate
from timing import console_script, environment, report, report_median, timed

DIFF_TARGET_S = 5.0
FRESH_CLONE_TARGET_S = 3.0
NEW_VERSION = "99.0.0"
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "mlgitops bench",
    "GIT_AUTHOR_EMAIL": "bench@mlgitops.invalid",
    "GIT_COMMITTER_NAME": "mlgitops bench",
    "GIT_COMMITTER_EMAIL": "bench@mlgitops.invalid",
}


def run(command: list[str], cwd: Path) -> str:
    process = subprocess.run(
        command, cwd=cwd, env=environment(GIT_ENV), capture_output=True, text=True, check=False
    )
    if process.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed ({process.returncode}):\n{process.stdout}{process.stderr}"
        )
    return process.stdout


def commit(repo: Path, message: str) -> None:
    run(["git", "add", "--all"], repo)
    run(["git", "commit", "--quiet", "--no-verify", "--message", message], repo)


def first_model(project: Path) -> str:
    """The name of the first deployed model (models/<team>/<name>.yaml, in sorted order)."""
    names = sorted(p.stem for p in (project / "models").rglob("*.yaml") if p.parent.name != "retired")
    return names[0]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=1000, help="number of models (default 1000)")
    parser.add_argument("--runs", type=int, default=3, metavar="R", help="timed diffs (default 3)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    mlgitops = console_script()
    with tempfile.TemporaryDirectory(prefix="mlgitops-bench-") as tmp:
        repo = Path(tmp) / "repo"
        generate(args.n, repo)
        run(["git", "-c", "init.defaultBranch=main", "init", "--quiet"], repo)
        run([mlgitops, "compile", "."], repo)
        commit(repo, f"{args.n} models")
        model = first_model(repo)
        run([mlgitops, "promote", model, "--to", "dev", "--version", NEW_VERSION, "--project", "."], repo)
        run([mlgitops, "compile", "."], repo)
        commit(repo, f"{model} {NEW_VERSION} in dev")

        command = [mlgitops, "diff", ".", "--base", "HEAD~1", "--format", "json"]
        document = json.loads(run(command, repo))  # also the untimed warm-up run
        changed = [(d["model"], d["environment"], d["after"]) for d in document["deployments"]]
        if changed != [(model, "dev", NEW_VERSION)]:
            raise SystemExit(f"unexpected diff: {changed}")
        times = [timed(command, repo, extra_env=GIT_ENV) for _ in range(args.runs)]
        report(f"diff --base HEAD~1, {args.n} models x 3 envs", times, DIFF_TARGET_S)
        text = [
            timed([mlgitops, "diff", ".", "--base", "HEAD~1"], repo, extra_env=GIT_ENV)
            for _ in range(args.runs)
        ]
        report("  the same, text output", text, DIFF_TARGET_S)
        # For reference: `check` is one compile in memory (and a comparison with the disk;
        # exit 1 when the disk differs, e.g. because the templates changed since the compile).
        check = [timed([mlgitops, "check", ".", "--no-diff"], repo, allowed=(0, 1), extra_env=GIT_ENV)]
        print(f"{'  reference: check (one in-memory compile)':<40} {check[0]:11.3f} s")
        # A fresh clone, as in CI: no render cache (it is git-ignored) until `check` leaves one.
        fresh = Path(tmp) / "fresh"
        run(["git", "clone", "--quiet", str(repo), str(fresh)], Path(tmp))
        uncached = [timed(command, fresh, extra_env=GIT_ENV) for _ in range(args.runs)]
        report_median("  fresh clone, no render cache", uncached, FRESH_CLONE_TARGET_S)
        timed([mlgitops, "check", ".", "--no-diff"], fresh, allowed=(0, 1), extra_env=GIT_ENV)
        after_check = [timed(command, fresh, extra_env=GIT_ENV) for _ in range(args.runs)]
        report("  fresh clone, diff after check", after_check, DIFF_TARGET_S)
        print(f"({len(document['files'])} generated files differ; one model's dev version changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
