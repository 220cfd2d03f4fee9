"""Print the size of the CI YAML a project of N models compiles to, for GitHub and GitLab.

Usage: python benchmarks/ci_size.py [N]   (default 1000)

Generates the synthetic project (benchmarks/generate.py) twice, once per ``spec.ci``,
compiles each and prints the total GitHub workflow bytes, the largest workflow, and the
size of ``.gitlab-ci.yml``. Issue 13's targets: GitHub ≤ 2 MB in total; the root
``.gitlab-ci.yml`` ≤ 100 KB and every file GitLab loads ≤ 1 MB.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent


def compile_with(ci: str, models: int, base: Path) -> Path:
    root = base / ci
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(models), str(root)], check=True)
    project = root / "mlgitops.yaml"
    data = yaml.safe_load(project.read_text(encoding="utf-8"))
    data["spec"]["ci"] = ci
    project.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "mlgitops", "compile", "--no-cache", str(root)], check=True)
    return root


def main() -> int:
    models = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        github = compile_with("github", models, Path(tmp))
        workflows = sorted((github / ".github/workflows").glob("*.yml"))
        sizes = [p.stat().st_size for p in workflows]
        print(f"github: {len(workflows)} workflows, {sum(sizes)} bytes in total, largest {max(sizes)} bytes")
        gitlab = compile_with("gitlab", models, Path(tmp))
        print(f"gitlab: .gitlab-ci.yml {(gitlab / '.gitlab-ci.yml').stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
