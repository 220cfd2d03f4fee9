"""What every benchmark shares: finding the console script, a clean environment, timing, reporting."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def console_script() -> str:
    """The `mlgitops` next to this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "mlgitops"
    found = str(beside) if beside.is_file() else shutil.which("mlgitops")
    if found is None:
        raise SystemExit("mlgitops is not installed; run `make install`")
    return found


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Bytecode caching on (as in every normal installation); no MLGITOPS_* test hooks."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "PYTHONDONTWRITEBYTECODE" and not key.startswith("MLGITOPS_")
    }
    return {**env, **(extra or {})}


def timed(
    command: list[str],
    cwd: Path | None = None,
    allowed: tuple[int, ...] = (0,),
    extra_env: dict[str, str] | None = None,
    *,
    quiet: bool = False,
) -> float:
    """Wall-clock seconds of one run of ``command`` (its output discarded, and its stderr too when
    ``quiet``); fails on other exit codes."""
    start = time.perf_counter()
    stderr = subprocess.DEVNULL if quiet else None
    process = subprocess.run(
        command, cwd=cwd, check=False, stdout=subprocess.DEVNULL, stderr=stderr, env=environment(extra_env)
    )
    elapsed = time.perf_counter() - start
    if process.returncode not in allowed:
        raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}")
    return elapsed


def timed_cpu(command: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one run of ``command``, its output
    discarded. The CPU time counts the worker processes too (Linux's ``wait4`` adds the
    children a process waited for), and on a shared machine it varies less than the wall
    clock, which waits for whatever else runs."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=environment())
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit code {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_utime + usage.ru_stime


def report(label: str, times: list[float], target: float) -> None:
    best, median = min(times), statistics.median(times)
    verdict = "ok" if best < target else "MISSED"
    print(f"{label:<40} best {best:6.3f} s  median {median:6.3f} s  target < {target:.2f} s  {verdict}")


def measured(command: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """Wall-clock seconds and peak memory (MB) of one run of ``command``: the resident set of
    its largest process, worker processes included (Linux's ``wait4`` reports the maximum over
    the process and the children it waited for)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, env=environment())
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024  # kilobytes on Linux


def report_median(label: str, values: list[float], target: float, unit: str = "s") -> None:
    """A figure whose target holds for the median (wall clock of a compile, memory)."""
    best, median = min(values), statistics.median(values)
    verdict = "ok" if median < target else "MISSED"
    figures = f"median {median:7.2f} {unit}  best {best:7.2f} {unit}"
    print(f"{label:<40} {figures}  target < {target:g} {unit}  {verdict}")
