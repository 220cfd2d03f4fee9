"""Time `mlgitops validate` on a generated project of 1,000 models and `mlgitops --help`.

Usage: python benchmarks/bench_validate.py [N]

Wall-clock times of the installed console script, as a user or a pre-commit hook
sees them (interpreter start-up included). Prints best and median against the
targets; the exit status is 0 even when a target is missed (timings depend on the
machine's load), and non-zero only when a command fails.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from generate import generate
from timing import console_script, report, timed

VALIDATE_TARGET_S = 1.0
HELP_TARGET_S = 0.15


def timings(command: list[str], runs: int) -> list[float]:
    """Wall-clock seconds of each run, after one untimed warm-up run (disk cache, .pyc files).

    PYTHONDONTWRITEBYTECODE is dropped so that the warm-up caches bytecode, as every
    normal installation has it; otherwise each run would recompile mlgitops from source.
    """
    timed(command)
    return [timed(command) for _ in range(runs)]


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    mlgitops = console_script()
    with tempfile.TemporaryDirectory(prefix="mlgitops-bench-") as tmp:
        project = Path(tmp) / "project"
        generate(n, project)
        report(
            f"validate, {n} models x 3 envs",
            timings([mlgitops, "validate", str(project)], 5),
            VALIDATE_TARGET_S,
        )
    report("--help", timings([mlgitops, "--help"], 10), HELP_TARGET_S)
    return 0


if __name__ == "__main__":
    sys.exit(main())
