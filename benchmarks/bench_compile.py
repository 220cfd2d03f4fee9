"""Time `mlgitops compile` on a generated project of 1,000 models x 3 environments.

Usage: python benchmarks/bench_compile.py [N] [--cold-runs R] [--warm-runs W] [--serving-only]

* cold: `mlgitops compile --no-cache` into a fresh copy of the project (no output,
  no manifest), median of R (default 3) after one untimed warm-up run, and its peak
  memory (the resident set of the largest process, render workers included);
* unchanged: `mlgitops compile` again with nothing changed (the content-hash
  cache answers), best of W (default 5);
* bare writes: the same generated files written into an empty directory by a
  plain single-threaded Python loop (mkdir, open, write, close; nothing else),
  best of R: what this machine's file system costs for that output when written
  one file after another (compile's four writer threads can beat it);
* output: the bytes of the files compile owns (those its manifest lists: the
  generated tree and CI files, directory entries not counted), against issue 14's
  40 MB, and the size of its `.mlgitops/` state beside it;
* CPU: user + system seconds of each cold compile (all its processes), against
  the cores there are: a compile cannot finish faster than CPU / cores.

Wall-clock times of the installed console script, as a user sees them
(interpreter start-up included), against the targets of issues 3 and 14: < 3 s cold,
< 0.5 s unchanged, peak memory < 300 MB at 1,000 models and < 1 GB at 10,000.
The exit status is 0 even when a target is missed (timings
depend on the machine's load), and non-zero only when a command fails.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from generate import generate
from timing import console_script, measured, report, report_median, timed

COLD_TARGET_S = 3.0
OUTPUT_TARGET_MB = 40.0
UNCHANGED_TARGET_S = 0.5


def memory_target_mb(models: int) -> float:
    """Issue 14: under 300 MB at 1,000 models, under 1 GB at 10,000 (in between: linear)."""
    if models <= 1000:
        return 300.0
    return 300.0 + (models - 1000) * (1024.0 - 300.0) / 9000


def cold_compiles(
    mlgitops: str, source: Path, scratch: Path, runs: int
) -> tuple[list[float], list[float], list[float], Path]:
    """Wall and CPU times and peak memory (MB) of `compile --no-cache` on fresh copies of
    ``source``; returns the last compiled copy too."""
    times: list[float] = []
    cpu: list[float] = []
    memory: list[float] = []
    copy = scratch
    for run in range(runs + 1):  # run 0 is the untimed warm-up (disk cache, .pyc files)
        copy = scratch.with_name(f"{scratch.name}-{run}")
        shutil.copytree(source, copy)
        # Flush the copy's dirty pages first, so the compile is not charged for the
        # copy's writeback. Copies are deleted only at the end: on this machine's
        # ext4 (mounted with `discard`) a large delete slows the writes after it.
        os.sync()
        before = children_cpu()
        elapsed, peak = measured([mlgitops, "compile", "--no-cache", str(copy)])
        if run:
            times.append(elapsed)
            cpu.append(children_cpu() - before)
            memory.append(peak)
    return times, cpu, memory, copy


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bare_writes(compiled: Path, scratch: Path, runs: int) -> tuple[list[float], int, int]:
    """Seconds to write the files of the compiled project's manifest with a bare loop, best of
    ``runs`` fresh directories; also the number of files and bytes."""
    manifest = json.loads((compiled / ".mlgitops" / "manifest.json").read_bytes())
    contents = {path: (compiled / path).read_bytes() for path in sorted(manifest["files"])}
    times = []
    for run in range(runs):
        target = scratch.with_name(f"{scratch.name}-{run}")
        target.mkdir()
        os.sync()
        start = time.perf_counter()
        for path, data in contents.items():
            destination = target / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data)
        times.append(time.perf_counter() - start)
    return times, len(contents), sum(len(data) for data in contents.values())


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=1000, help="number of models (default 1000)")
    parser.add_argument(
        "--cold-runs", type=int, default=3, metavar="R", help="timed cold compiles (default 3)"
    )
    parser.add_argument(
        "--warm-runs", type=int, default=5, metavar="W", help="timed unchanged compiles (default 5)"
    )
    parser.add_argument(
        "--serving-only",
        action="store_true",
        help="models without training, evaluation or monitoring (generate.py --serving-only)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    mlgitops = console_script()
    with tempfile.TemporaryDirectory(prefix="mlgitops-bench-") as tmp:
        source = Path(tmp) / "specs"
        generate(args.n, source, args.serving_only)
        cold, cpu, memory, compiled = cold_compiles(mlgitops, source, Path(tmp) / "project", args.cold_runs)
        scope = ", serving only" if args.serving_only else ""
        report_median(f"compile --no-cache, {args.n} models x 3 envs{scope}", cold, COLD_TARGET_S)
        report_median("  peak memory (largest process)", memory, memory_target_mb(args.n), "MB")
        print(
            f"{'  CPU (user + system, all processes)':<40} best {min(cpu):6.3f} s  "
            f"median {statistics.median(cpu):6.3f} s  on {os.cpu_count()} cores"
        )
        unchanged = [timed([mlgitops, "compile", str(compiled)]) for _ in range(args.warm_runs)]
        report("compile, nothing changed", unchanged, UNCHANGED_TARGET_S)
        bare, files, size = bare_writes(compiled, Path(tmp) / "bare", args.cold_runs)
        print(
            f"{'bare single-threaded writes, same files':<40} best {min(bare):6.3f} s  "
            f"median {statistics.median(bare):6.3f} s  ({files} files, {size / 1e6:.0f} MB)"
        )
        state = sum(p.stat().st_size for p in (compiled / ".mlgitops").rglob("*") if p.is_file())
        verdict = "met" if size / 1e6 <= OUTPUT_TARGET_MB else "MISSED"
        print(
            f"{'generated output (the files compile owns)':<40} {size / 1e6:6.1f} MB in {files} "
            f"files, target <= {OUTPUT_TARGET_MB:.0f} MB: {verdict}; .mlgitops/ state "
            f"{state / 1e6:.1f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
