"""Kapitan against mlgitops on the same models, timed in the same run (issue 14: >= 10x).

Usage: python benchmarks/bench_kapitan.py [--kapitan PATH] [N] [--runs R]

Kapitan (PyPI ``kapitan``) is not a dependency: install it in a virtualenv of its own,
outside the repository, and pass its console script:

    python3 -m venv /tmp/kapitan-venv && /tmp/kapitan-venv/bin/pip install kapitan
    python benchmarks/bench_kapitan.py --kapitan /tmp/kapitan-venv/bin/kapitan

(``--kapitan`` defaults to $KAPITAN, else that path; without it the benchmark says so and
stops, so that ``make bench`` still runs the others.)

From ``generate.py N`` (default 1000) this writes a Kapitan project with jinja2 input: one
Kapitan target per model x environment (3 N targets) whose inventory parameters hold that
model's whole spec, the environment and its namespace, and five templates
(``benchmarks/kapitan/``: InferenceService, ServiceMonitor, PrometheusRule, a GitHub
workflow, an Argo CD Application) rendered for each.  Then, alternately, R times each
(default 3, after one untimed warm-up run of both): ``kapitan compile`` and
``mlgitops compile --no-cache`` of the generated project, each into a fresh copy and after an
``os.sync()`` (neither is timed writing back the other's files).  Prints
the medians and their ratio.

Kapitan renders every target into a temporary directory, copies it to ``compiled/`` and
deletes it: 15,000 files deleted at the end of each run. On ext4, for a few minutes after a
large delete, creating a file skips each recently deleted inode of its block group
(``recently_deleted`` in the kernel's ``ialloc.c``): measured here, a compile started right
after such a delete took 6-10 s instead of 3.7 s, almost all of it system time in
``ext4_create``. So Kapitan's temporary directory goes to ``--kapitan-tmp`` (default
``/dev/shm``, a tmpfs, where it exists): the run that follows is not charged for Kapitan's
deletes, and Kapitan's own run only gets faster for it. Kapitan renders less per target than
mlgitops (five short templates, no validation, no ownership manifest), so the ratio flatters
Kapitan.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from generate import ENVIRONMENTS, generate, model
from timing import console_script, timed

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "kapitan"
RATIO_TARGET = 10.0
DEFAULT_KAPITAN = "/tmp/kapitan-venv/bin/kapitan"
DEFAULT_KAPITAN_TMP = "/dev/shm"

COMMON_CLASS = {
    "parameters": {
        "kapitan": {
            "compile": [{"output_path": ".", "input_type": "jinja2", "input_paths": ["templates"]}],
        }
    }
}


def write_kapitan_project(n: int, outdir: Path) -> int:
    """The Kapitan project for models 0..n-1 of generate.py; returns the number of targets."""
    (outdir / "inventory" / "classes").mkdir(parents=True)
    (outdir / "inventory" / "targets").mkdir()
    shutil.copytree(TEMPLATES, outdir / "templates")
    # JSON is YAML: reclass reads these as it reads any inventory file.
    (outdir / "inventory" / "classes" / "common.yml").write_text(json.dumps(COMMON_CLASS))
    targets = 0
    for i in range(n):
        _, spec = model(i)
        name = spec["metadata"]["name"]
        for environment in ENVIRONMENTS:
            if environment not in spec["spec"].get("deployments", {}):
                continue
            target = f"{name}-{environment}"
            inventory = {
                "classes": ["common"],
                "parameters": {
                    "kapitan": {"vars": {"target": target}},
                    "environment": environment,
                    "namespace": f"ml-{environment}",
                    "model": spec,
                },
            }
            (outdir / "inventory" / "targets" / f"{target}.yml").write_text(json.dumps(inventory))
            targets += 1
    return targets


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=1000, help="number of models (default 1000)")
    parser.add_argument(
        "--kapitan",
        default=os.environ.get("KAPITAN", DEFAULT_KAPITAN),
        help=f"the kapitan console script, in its own virtualenv (default $KAPITAN, else {DEFAULT_KAPITAN})",
    )
    parser.add_argument("--runs", type=int, default=3, metavar="R", help="timed runs of each (default 3)")
    parser.add_argument(
        "--kapitan-tmp",
        default=DEFAULT_KAPITAN_TMP if Path(DEFAULT_KAPITAN_TMP).is_dir() else None,
        help=f"TMPDIR for Kapitan's own temporary directory (default {DEFAULT_KAPITAN_TMP} where it exists)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    mlgitops = console_script()
    if not Path(args.kapitan).is_file():
        print(f"not run: no kapitan at {args.kapitan} (see benchmarks/README.md to install it)")
        return 0
    with tempfile.TemporaryDirectory(prefix="mlgitops-kapitan-") as tmp:
        scratch = Path(tmp)
        generate(args.n, scratch / "specs")
        targets = write_kapitan_project(args.n, scratch / "kapitan")
        kapitan_env = {"TMPDIR": args.kapitan_tmp} if args.kapitan_tmp else None
        ours: list[float] = []
        theirs: list[float] = []
        for run in range(args.runs + 1):  # run 0 warms up both (disk cache, .pyc files)
            copy = scratch / f"kapitan-{run}"
            shutil.copytree(scratch / "kapitan", copy)
            project = scratch / f"project-{run}"
            shutil.copytree(scratch / "specs", project)
            # Each starts with the disk idle: neither pays for writing back the other's output.
            os.sync()
            kapitan = timed(  # a line per target on stderr
                [args.kapitan, "compile"], cwd=copy, quiet=True, extra_env=kapitan_env
            )
            os.sync()
            compiled = timed([mlgitops, "compile", "--no-cache", str(project)])
            if run:
                theirs.append(kapitan)
                ours.append(compiled)
        outputs = sum(
            1 for path in (scratch / f"kapitan-{args.runs}" / "compiled").rglob("*") if path.is_file()
        )
        kapitan_median, ours_median = statistics.median(theirs), statistics.median(ours)
        ratio = kapitan_median / ours_median
        print(f"kapitan compile, {targets} targets, {outputs} files   median {kapitan_median:7.2f} s")
        print(f"mlgitops compile --no-cache, {args.n} models x 3 envs   median {ours_median:7.2f} s")
        verdict = "ok" if ratio >= RATIO_TARGET else "MISSED"
        label = "ratio (kapitan / mlgitops)"
        print(f"{label:<44}{ratio:7.1f}x  target >= {RATIO_TARGET:g}x  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
