"""Time `mlgitops validate` on a generated project of 1,000 models and `mlgitops --help`.

Usage: python benchmarks/bench_validate.py [N] [RUNS]   (RUNS: timed validate runs, default 5)

Wall-clock times of the installed console script, as a user or a pre-commit hook
sees them (interpreter start-up included). Prints best and median against the
targets, and for validate the median CPU time (user + system, worker processes
included), which a shared machine disturbs less; the exit status is 0 even when a
target is missed (timings depend on the machine's load), and non-zero only when a
command fails.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from generate import generate
from timing import console_script, report, timed, timed_cpu

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
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    mlgitops = console_script()
    with tempfile.TemporaryDirectory(prefix="mlgitops-bench-") as tmp:
        project = Path(tmp) / "project"
        generate(n, project)
        command = [mlgitops, "validate", str(project)]
        timed_cpu(command)  # untimed warm-up, as in timings()
        runs = [timed_cpu(command) for _ in range(count)]
        report(f"validate, {n} models x 3 envs", [wall for wall, _ in runs], VALIDATE_TARGET_S)
        cpu = [used for _, used in runs]
        figures = f"best {min(cpu):6.3f} s  median {statistics.median(cpu):6.3f} s"
        print(f"{'  its CPU time (user + sys)':<40} {figures}")
    report("--help", timings([mlgitops, "--help"], 10), HELP_TARGET_S)
    return 0


if __name__ == "__main__":
    sys.exit(main())
