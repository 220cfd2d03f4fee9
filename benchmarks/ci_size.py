"""Print the size of the CI YAML a project of N models compiles to, for GitHub and GitLab.

Usage: python benchmarks/ci_size.py [N] [--check]   (default 1000)

Generates the synthetic project (benchmarks/generate.py) twice, once per ``spec.ci``,
compiles each and prints the total GitHub workflow bytes and the largest workflow, and for
GitLab the root ``.gitlab-ci.yml``, the files it includes (loaded with it) and the largest
child pipeline (loaded when its model trains). Issue 13's targets: GitHub ≤ 2 MB in total;
the root ``.gitlab-ci.yml`` ≤ 100 KB and every file GitLab loads ≤ 1 MB.

``--check`` also holds the figures to those targets and runs the validators on every file:
actionlint, ``zizmor --offline`` (with docs/zizmor.yml) and check-jsonschema's GitHub
workflow schema; check-jsonschema's GitLab CI schema. It exits 1 on any failure. The
1,000-model check is this benchmark (a few minutes); tests/test_ci_gitlab.py and
tests/test_ci_github.py run the same validators on a 12-model project.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOOLS = ROOT / ".tools/bin"
MB = 1_000_000
GITHUB_TOTAL_LIMIT = 2 * MB
GITLAB_ROOT_LIMIT = 100_000
GITLAB_FILE_LIMIT = 1 * MB


def compile_with(ci: str, models: int, base: Path) -> Path:
    root = base / ci
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(models), str(root)], check=True)
    project = root / "mlgitops.yaml"
    data = yaml.safe_load(project.read_text(encoding="utf-8"))
    data["spec"]["ci"] = ci
    project.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "mlgitops", "compile", "--no-cache", "--quiet", str(root)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return root


def gitlab_files(root: Path) -> tuple[Path, list[Path], list[Path]]:
    """The root file, the files it includes, and the child pipelines its trigger jobs include."""
    top = root / ".gitlab-ci.yml"
    included = [root / entry["local"] for entry in yaml.safe_load(top.read_text(encoding="utf-8"))["include"]]
    children = [
        root / entry["local"]
        for path in included
        for job in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).values()
        if isinstance(job, dict) and "trigger" in job
        for entry in job["trigger"]["include"]
    ]
    return top, included, children


def tool(name: str) -> str:
    found = shutil.which(name, path=f"{TOOLS}:{Path(sys.executable).parent}")
    if found is None:
        raise SystemExit(f"{name} is not installed (make tools)")
    return found


def run(args: list[str], cwd: Path) -> bool:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"FAIL {Path(args[0]).name}:\n{done.stdout[-4000:]}{done.stderr[-4000:]}")
    return done.returncode == 0


def check_github(root: Path, files: list[Path], total: int) -> bool:
    relative = [p.relative_to(root).as_posix() for p in files]
    zizmor = [tool("zizmor"), "--offline", "--no-ignores", "--no-progress", "--color=never"]
    results = [
        total <= GITHUB_TOTAL_LIMIT or not print(f"FAIL github: {total} bytes > {GITHUB_TOTAL_LIMIT}"),
        run([tool("actionlint"), "-no-color", *relative], root),
        run([*zizmor, "--config", str(ROOT / "docs/zizmor.yml"), ".github/workflows"], root),
        run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *relative], root),
    ]
    return all(results)


def check_gitlab(root: Path, top: Path, loaded: list[Path]) -> bool:
    oversized = [p for p in loaded if p.stat().st_size > GITLAB_FILE_LIMIT]
    results = [
        top.stat().st_size <= GITLAB_ROOT_LIMIT or not print(f"FAIL gitlab: root {top.stat().st_size} bytes"),
        not oversized or not print(f"FAIL gitlab: over {GITLAB_FILE_LIMIT} bytes: {oversized}"),
        run(
            [tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", *(str(p) for p in loaded)],
            root,
        ),
    ]
    return all(results)


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--check"]
    check = "--check" in sys.argv[1:]
    models = int(args[0]) if args else 1000
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        github = compile_with("github", models, Path(tmp))
        workflows = sorted((github / ".github/workflows").glob("*.yml"))
        sizes = [p.stat().st_size for p in workflows]
        callers = [p.stat().st_size for p in workflows if p.name.startswith("mlgitops-train-")]
        print(
            f"github: {len(workflows)} workflows, {sum(sizes)} bytes in total, largest {max(sizes)} bytes,"
            f" model workflows {sum(callers) // max(len(callers), 1)} bytes on average"
        )
        if check:
            ok &= check_github(github, workflows, sum(sizes))
        gitlab = compile_with("gitlab", models, Path(tmp))
        top, included, children = gitlab_files(gitlab)
        child_sizes = [p.stat().st_size for p in children]
        print(
            f"gitlab: .gitlab-ci.yml {top.stat().st_size} bytes; included with it:"
            + "".join(f" {p.relative_to(gitlab)} {p.stat().st_size} bytes;" for p in included)
            + f" {len(children)} child pipelines, largest {max(child_sizes, default=0)} bytes,"
            f" {sum(child_sizes)} bytes in total"
        )
        if check:
            ok &= check_gitlab(gitlab, top, [top, *included, *children])
    if check:
        print("check: " + ("all targets met, every validator passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
