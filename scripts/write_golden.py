"""Refresh every committed expected output (`make golden`).

* each example's compiled tree (examples/*/deploy, .mlgitops/manifest.json, CI files),
  written by the real `mlgitops compile`;
* the expected diagnostics and other goldens of the test suite, rewritten by
  running those tests with MLGITOPS_UPDATE_GOLDEN=1.

Review the resulting `git diff` before committing it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    status = 0
    for example in sorted(p.parent for p in (ROOT / "examples").glob("*/mlgitops.yaml")):
        print(f"compiling {example.relative_to(ROOT)}")
        status |= subprocess.call([sys.executable, "-m", "mlgitops", "compile", "--no-cache", str(example)])
    env = {**os.environ, "MLGITOPS_UPDATE_GOLDEN": "1"}
    status |= subprocess.call(
        [sys.executable, "-m", "pytest", "-q", "-m", "golden", "-p", "no:cacheprovider"], cwd=ROOT, env=env
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
