"""A failed or killed compile never leaves a half-written tree.

(a) A real ``mlgitops compile`` of a sizeable project (benchmarks/generate.py 120)
    is SIGKILLed at delays spread over its run time and right after its commit
    started; after each kill the tree is the previous one, or — if the kill landed
    in the commit phase — rolled back to the previous one by recovery, and the next
    compile always ends with the complete new tree.  Never a mix.
(b) A deterministic crash after three moves (``MLGITOPS_TEST_CRASH_AFTER_MOVES``)
    leaves a mixed tree that ``check`` flags (MLG505), ``recover()`` restores
    byte for byte, and the next compile finishes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from compile_helpers import (
    ROOT,
    Tree,
    assert_not_in_git,
    copy_specs,
    describe_difference,
    edit_yaml,
    example,
    retire_model,
    run_module,
    tree,
)
from conftest import CliRunner
from mlgitops.emit import transaction, writer
from mlgitops.emit.safefs import ProjectTree
from mlgitops.emit.staging import STAGING_DIR
from mlgitops.emit.state import project_lock
from mlgitops.pipeline import check_project, compile_project, recover_interrupted

GENERATOR = ROOT / "benchmarks" / "generate.py"
MODELS = 120  # about 2,500 generated files: long enough phases to land kills in each
JOURNAL = Path(transaction.TXN_DIR) / transaction.JOURNAL


def output_tree(root: Path) -> Tree:
    """The project's files without the transaction's scratch space (lock, .gitignore, txn/)."""
    return {p: d for p, d in tree(root).items() if not p.startswith(transaction.TXN_DIR + "/")}


def bump_every_version(root: Path) -> int:
    """Give every deployed (and canary) version a new suffix: a real change to every model's output."""

    def bump(data: Any) -> None:
        for deployment in data["spec"].get("deployments", {}).values():
            deployment["version"] += "-r2"
            if deployment.get("canary"):
                deployment["canary"]["version"] += "-r2"

    specs = sorted((root / "models").rglob("*.yaml"))
    for spec in specs:
        edit_yaml(spec, bump)
    return len(specs)


def assert_cannot_write(result: Any, reason: str) -> None:
    """A failure of the disk is the user's to fix: one located error (exit 1), never a crash."""
    assert not result.ok
    assert [d.code for d in result.diagnostics] == ["MLG516"]
    assert reason in result.diagnostics[0].message


def compile_ok(root: Path) -> None:
    result = compile_project(root)
    assert result.ok, "\n".join(f"{d.location}: {d.code} {d.message}" for d in result.diagnostics)


def start_compile(root: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGITOPS_")}
    return subprocess.Popen(
        [sys.executable, "-m", "mlgitops", "compile", str(root)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so that forked workers can be reaped
    )


def reap_group(process: subprocess.Popen[bytes]) -> None:
    """Kill whatever is left of the compile's process group (worker processes outlive a killed parent)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


@dataclass(frozen=True)
class Timing:
    total: float  # seconds from start to exit
    commit_start: float  # when the journal appeared


@dataclass(frozen=True)
class Scenario:
    before: Path  # previous compiled tree + changed specs (never compiled in place)
    old: Tree
    new: Tree
    timing: Timing


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    base = tmp_path_factory.mktemp("atomic")
    before = base / "before"
    if GENERATOR.is_file():
        subprocess.run(
            [sys.executable, str(GENERATOR), str(MODELS), str(before)], check=True, capture_output=True
        )
    else:  # fall back to copies of an example model under different names
        copy_specs(example("quickstart"), before)
        source = (before / "models/iris-classifier.yaml").read_text(encoding="utf-8")
        for i in range(MODELS):
            (before / f"models/iris-{i:04d}.yaml").write_text(
                source.replace("name: iris-classifier", f"name: iris-{i:04d}"), encoding="utf-8"
            )
    assert_not_in_git(before)
    compile_ok(before)
    assert bump_every_version(before) >= MODELS
    old = output_tree(before)  # the previous output, with the changed specs
    assert len(old) > 2 * MODELS

    # One uninterrupted run, watched: how long it takes and when its commit starts.
    measured = base / "measured"
    shutil.copytree(before, measured)
    start = time.perf_counter()
    process = start_compile(measured)
    commit_start = None
    while process.poll() is None:
        if commit_start is None and (measured / JOURNAL).exists():
            commit_start = time.perf_counter() - start
        time.sleep(0.0005)
    total = time.perf_counter() - start
    assert process.returncode == 0
    assert commit_start is not None, "never saw the journal of the commit phase"
    new = output_tree(measured)
    changed = [p for p in new if old.get(p) != new[p]]
    assert len(changed) > MODELS, "the version bump should change every model's files"
    return Scenario(before, old, new, Timing(total, commit_start))


def killed_compile(
    scenario: Scenario, workdir: Path, *, delay: float, after_journal: bool
) -> tuple[Path, bool, subprocess.Popen[bytes]]:
    """Copy the scenario, start a compile, SIGKILL it (the main process only, as the OOM killer or a
    CI timeout would); returns the copy, whether it was killed, and the process."""
    root = workdir
    shutil.copytree(scenario.before, root)
    process = start_compile(root)
    if after_journal:
        while process.poll() is None and not (root / JOURNAL).exists():
            time.sleep(0.0002)
    time.sleep(delay)
    killed = process.poll() is None
    if killed:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    return root, killed, process


def check_after_kill(scenario: Scenario, root: Path, label: str, *, finish: bool, check: bool) -> bool:
    """Assert the state a kill left; returns whether the kill landed in the commit phase."""
    state = output_tree(root)
    interrupted_commit = (root / JOURNAL).exists()
    if interrupted_commit:
        if check:  # check sees the interrupted commit, and never repairs it itself
            assert "MLG505" in {d.code for d in check_project(root).diagnostics}
            assert (root / JOURNAL).exists()
        assert recover_interrupted(root) is True
        restored = output_tree(root)
        assert restored == scenario.old, (
            f"recovery after {label} did not restore the previous tree: "
            + describe_difference(scenario.old, restored)
        )
    else:
        assert state in (scenario.old, scenario.new), (
            f"{label} (no journal) left a tree that is neither the previous nor the new one: "
            + describe_difference(scenario.old, state)
        )
    if finish:
        # The project lock must be free although the killed compile's worker processes may live on.
        result = compile_project(root)
        assert result.ok and not result.recovered
        final = output_tree(root)
        assert final == scenario.new, f"after {label}, compile did not finish: " + describe_difference(
            scenario.new, final
        )
        assert not (root / transaction.TXN_DIR).exists()
    return interrupted_commit


@pytest.mark.slow
def test_a_killed_compile_never_leaves_a_mixed_tree(scenario: Scenario, tmp_path: Path) -> None:
    timing = scenario.timing
    # spread over the run before the commit, then into the commit phase right after it starts
    kills = [(timing.commit_start * f, False) for f in (0.2, 0.6, 0.9)]
    kills += [(extra, True) for extra in (0.0, 0.01, 0.025)]
    in_commit = before_commit = 0
    report = []
    for index, (delay, after_journal) in enumerate(kills):
        root, killed, process = killed_compile(
            scenario, tmp_path / f"kill-{index}", delay=delay, after_journal=after_journal
        )
        since = "the journal appeared" if after_journal else "start"
        label = f"kill {index} ({delay:.3f} s after {since}, killed={killed})"
        journal = (root / JOURNAL).exists()
        try:
            # Finishing is the same compile from the same previous tree as the measured run, so it
            # runs once after a rolled-back kill and once after an earlier one (each costs seconds).
            first = in_commit == 0 if journal else before_commit == 0
            landed = check_after_kill(scenario, root, label, finish=first, check=first)
        finally:
            reap_group(process)
        report.append(f"{label}: journal={landed}")
        in_commit += landed
        before_commit += not landed
        shutil.rmtree(root)
    assert in_commit >= 1, "no kill landed inside the commit phase:\n" + "\n".join(report)


@pytest.fixture
def crashed(tmp_path: Path) -> tuple[Path, Tree, Tree]:
    """A platform copy whose compile died after moving 3 files into place: (root, old tree, new tree)."""
    root = copy_specs(example("platform"), tmp_path / "platform")
    compile_ok(root)
    bump_every_version(root)
    old = output_tree(root)
    expected = tmp_path / "expected"
    shutil.copytree(root, expected)
    compile_ok(expected)
    new = output_tree(expected)
    run = run_module(["compile", str(root)], env={"MLGITOPS_TEST_CRASH_AFTER_MOVES": "3"})
    assert run.returncode == 137, run.stderr
    assert (root / JOURNAL).is_file()
    return root, old, new


def test_a_crash_mid_commit_is_flagged_by_check_and_rolled_back(
    crashed: tuple[Path, Tree, Tree], cli: CliRunner
) -> None:
    root, old, new = crashed
    state = output_tree(root)
    assert state not in (old, new)
    moved = [p for p in state if state[p] != old.get(p)]
    assert len(moved) == 3 and all(state[p] == new[p] for p in moved), "exactly three files were moved"

    assert "MLG505" in {d.code for d in check_project(root).diagnostics}
    result = cli("check", ".", cwd=root)
    assert result.exit_code == 1
    assert "MLG505" in result.output

    assert recover_interrupted(root) is True
    assert output_tree(root) == old, describe_difference(old, output_tree(root))
    assert not (root / transaction.TXN_DIR).exists()
    assert recover_interrupted(root) is False

    compile_ok(root)
    assert output_tree(root) == new


def test_the_next_compile_recovers_first_and_then_finishes(crashed: tuple[Path, Tree, Tree]) -> None:
    root, _old, new = crashed
    result = compile_project(root)
    assert result.ok and result.recovered
    assert output_tree(root) == new
    assert check_project(root).drift == []


CRASH_WHILE_PRUNING = """
import os, sys
from pathlib import Path
from mlgitops.emit.safefs import ProjectTree
from mlgitops.pipeline import compile_project

remove_empty_parents = ProjectTree.remove_empty_parents

def die_after_first_prune(self, relative, stop=""):
    remove_empty_parents(self, relative, stop)
    os._exit(137)  # as a SIGKILL would, right after one file was pruned

ProjectTree.remove_empty_parents = die_after_first_prune
compile_project(Path(sys.argv[1]))
"""


def test_a_crash_while_pruning_is_rolled_back_too(tmp_path: Path) -> None:
    """Files pruned before a crash come back with recovery: nothing owned is lost half-way."""
    root = copy_specs(example("platform"), tmp_path / "platform")
    compile_ok(root)
    old = output_tree(root)
    retire_model(root / "models/churn-model.yaml")
    run = subprocess.run(
        [sys.executable, "-c", CRASH_WHILE_PRUNING, str(root)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 137, run.stderr
    assert (root / JOURNAL).is_file()
    pruned_so_far = [
        p for p in old if "churn-model" in p and not p.startswith("models/") and not (root / p).exists()
    ]
    assert len(pruned_so_far) == 1
    assert recover_interrupted(root)
    retired = {**old, "models/churn-model.yaml": (root / "models/churn-model.yaml").read_bytes()}
    assert output_tree(root) == retired, describe_difference(retired, output_tree(root))
    compile_ok(root)
    assert not [p for p in output_tree(root) if "churn-model" in p and not p.startswith("models/")]


def test_an_error_during_the_commit_rolls_back_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a kill but an exception (disk full, Ctrl-C) mid-commit: the previous tree is put back
    before the error propagates, without waiting for the next command."""
    root = copy_specs(example("platform"), tmp_path / "platform")
    compile_ok(root)
    bump_every_version(root)
    old = output_tree(root)
    real_replace = os.replace
    calls = 0

    def failing_replace(source: str, target: str, **dir_fds: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise OSError(28, "No space left on device")
        real_replace(source, target, **dir_fds)

    monkeypatch.setattr(os, "replace", failing_replace)
    result = compile_project(root)
    monkeypatch.setattr(os, "replace", real_replace)
    assert_cannot_write(result, "No space left on device")
    assert output_tree(root) == old, describe_difference(old, output_tree(root))
    assert not (root / JOURNAL).exists()


def test_two_compiles_never_run_at_once(tmp_path: Path) -> None:
    root = copy_specs(example("quickstart"), tmp_path / "quickstart")
    with ProjectTree(root) as project, project_lock(project):
        run = run_module(["compile", str(root)])
    assert run.returncode == 1
    assert "another mlgitops compile is running" in run.stderr
    assert not (root / "deploy").exists()
    compile_ok(root)  # and the lock is free again afterwards


def generated_project(root: Path, models: int) -> Path:
    subprocess.run([sys.executable, str(GENERATOR), str(models), str(root)], check=True, capture_output=True)
    return root


@pytest.fixture
def twelve_models(tmp_path: Path) -> Path:
    """A generated project whose compile creates a few hundred files in directories that are
    there already, empty (as deleting the generated files of a checkout leaves them), so that
    the files go in one by one: the threaded writer."""
    root = generated_project(tmp_path / "twelve", 12)
    specs = set(tree(root))
    compile_ok(root)
    for path in set(tree(root)) - specs:
        (root / path).unlink()
    shutil.rmtree(root / ".mlgitops")
    assert (root / "deploy").is_dir() and set(tree(root)) == specs
    return root


def test_a_crash_while_threads_create_files_is_rolled_back(twelve_models: Path) -> None:
    root = twelve_models
    before = output_tree(root)
    run = run_module(["compile", str(root)], env={"MLGITOPS_TEST_CRASH_AFTER_MOVES": "40"})
    assert run.returncode == 137, run.stderr
    assert (root / JOURNAL).is_file()
    written = set(output_tree(root)) - set(before)
    assert 40 <= len(written) < 100, f"{len(written)} files written before the crash"
    assert recover_interrupted(root)
    assert output_tree(root) == before, describe_difference(before, output_tree(root))
    compile_ok(root)
    assert check_project(root).drift == []


def slow_counted_writes(
    monkeypatch: pytest.MonkeyPatch, before_write: Callable[[int], None]
) -> Callable[[], int]:
    """Make every new file's move into place in the commit phase (``ProjectTree.rename_new``
    from the staging area) call ``before_write(n)`` (n counts calls from 1, across threads) and take a
    millisecond, so writers are busy when something goes wrong; returns how many calls there
    have been so far."""
    real_rename = ProjectTree.rename_new
    calls = 0
    lock = threading.Lock()

    def rename(self: ProjectTree, source: str, target: str, *, whole: bool = False) -> None:
        if source.startswith(STAGING_DIR + "/"):
            nonlocal calls
            with lock:
                calls += 1
                now = calls
            before_write(now)
            time.sleep(0.001)
        real_rename(self, source, target, whole=whole)

    monkeypatch.setattr(ProjectTree, "rename_new", rename)
    return lambda: calls


def assert_rolled_back_and_quiet(root: Path, before: Tree, calls: Callable[[], int]) -> None:
    """The tree is the previous one, and stays so: no writer thread goes on afterwards."""
    settled = calls()
    time.sleep(0.2)
    assert calls() == settled, "a writer thread went on after the error reached the caller"
    assert output_tree(root) == before, describe_difference(before, output_tree(root))
    assert not (root / JOURNAL).exists()


def test_an_error_in_a_writer_thread_stops_every_writer_before_the_rollback(
    twelve_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = output_tree(twelve_models)

    def disk_full_at_30(call: int) -> None:
        if call == 30:
            raise OSError(28, "No space left on device")

    calls = slow_counted_writes(monkeypatch, disk_full_at_30)
    assert_cannot_write(compile_project(twelve_models), "No space left on device")
    assert_rolled_back_and_quiet(twelve_models, before, calls)


def test_an_exception_while_waiting_for_the_writers_stops_them_before_the_rollback(
    twelve_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception in the main thread while it waits for the writers (as a KeyboardInterrupt
    raised there would be): they are stopped, and running ones waited for, before the rollback."""
    before = output_tree(twelve_models)

    def interrupted_wait(*args: Any, **kwargs: Any) -> None:
        time.sleep(0.05)  # some files are written by now, most are still queued
        raise KeyboardInterrupt

    calls = slow_counted_writes(monkeypatch, lambda call: None)
    monkeypatch.setattr(writer, "wait", interrupted_wait)
    with pytest.raises(KeyboardInterrupt):
        compile_project(twelve_models)
    assert_rolled_back_and_quiet(twelve_models, before, calls)


def test_a_real_sigint_during_threaded_writes_rolls_back_once_every_writer_stopped(
    twelve_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT (several, as an impatient user sends) arrives while writer threads create files: the
    writers stop, KeyboardInterrupt reaches the caller after they have, and the rollback leaves
    the tree as it was, with nothing written afterwards."""
    before = output_tree(twelve_models)

    def interrupt(call: int) -> None:
        if call in (20, 21, 25):
            os.kill(os.getpid(), signal.SIGINT)

    calls = slow_counted_writes(monkeypatch, interrupt)
    with pytest.raises(KeyboardInterrupt):
        compile_project(twelve_models)
    assert_rolled_back_and_quiet(twelve_models, before, calls)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_full_disk_after_the_commit_point_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files are committed before the caches are written: a disk that fills up then leaves a
    compile that succeeded (exit 0, no cache), not an internal error."""
    root = copy_specs(example("quickstart"), tmp_path / "quickstart")
    real_write_atomic = ProjectTree.write_atomic

    def full_for_caches(self: ProjectTree, relative: str, data: bytes, *, sync: bool = False) -> None:
        if relative.endswith("cache.json"):
            raise OSError(28, "No space left on device")
        real_write_atomic(self, relative, data, sync=sync)

    monkeypatch.setattr(ProjectTree, "write_atomic", full_for_caches)
    result = compile_project(root)
    assert result.ok and result.written, [d.message for d in result.diagnostics]
    assert not (root / ".mlgitops/cache.json").exists()
    monkeypatch.undo()
    assert check_project(root).drift == []
