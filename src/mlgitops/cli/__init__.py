"""Command-line entry point.

The CLI only parses options and calls the core; results are printed by
reporters.  Command modules are imported lazily so that ``mlgitops --help``
starts fast.  :func:`main` is the one top-level handler: user errors exit 1,
usage errors 2, and anything unexpected (a bug) exits 3 with a short
"please report" message (the traceback only with ``--debug``).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from mlgitops import __version__
from mlgitops.cli.output import echo

# command name → "module:function" (imported on use)
COMMANDS = {
    "init": "mlgitops.cli.init_cmd:init",
    "validate": "mlgitops.cli.validate_cmd:validate",
    "compile": "mlgitops.cli.compile_cmd:compile_",
    "check": "mlgitops.cli.compile_cmd:check",
    "diff": "mlgitops.cli.diff_cmd:diff",
    "explain": "mlgitops.cli.explain_cmd:explain",
    "promote": "mlgitops.cli.promote_cmd:promote",
    "gate": "mlgitops.cli.gate_cmd:gate",
    "schema": "mlgitops.cli.schema_cmd:schema",
    "templates": "mlgitops.cli.templates_cmd:templates",
    "completion": "mlgitops.cli.completion_cmd:completion",
    "ci": "mlgitops.cli.ci_cmd:ci",
}
SHORT_HELP = {
    "init": "Scaffold a new project that validates and compiles.",
    "validate": "Check specs and report every problem with its location.",
    "compile": "Generate CI, serving, monitoring and GitOps files.",
    "check": "Fail if the committed output differs from a fresh compile.",
    "diff": "Show what a change does to the generated output.",
    "explain": "Show a model's resolved settings and where each came from.",
    "promote": "Move a version to the next environment (edits the spec).",
    "gate": "Apply a model's evaluation gates to a metrics file.",
    "schema": "Print the JSON Schema of the spec for editors.",
    "templates": "List, show or export the built-in templates to override them.",
    "completion": "Print the shell completion script (bash, zsh, fish).",
    "ci": "Print the repository settings the generated CI needs.",
}


class LazyGroup(click.Group):
    """A group whose commands are imported only when they run (or show their help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self._available(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None or not self._available(cmd_name):
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SHORT_HELP[name]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    @staticmethod
    def _available(name: str) -> bool:
        module_name = COMMANDS[name].split(":")[0]
        return importlib.util.find_spec(module_name) is not None


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="mlgitops")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def cli(debug: bool) -> None:
    """mlgitops compiles declarative ML model specs into CI workflows, serving
    manifests, monitoring rules and GitOps objects.

    \b
    Typical use:
      mlgitops validate            check specs (run in pre-commit and CI)
      mlgitops compile             write the generated files under deploy/
      mlgitops check               fail CI if generated files are stale
      mlgitops explain MODEL       where each resolved value comes from

    Exit codes: 0 success, 1 problems found in your input, 2 bad command line,
    3 internal error in mlgitops.
    """


def main(argv: Sequence[str] | None = None) -> NoReturn:
    args = list(sys.argv[1:] if argv is None else argv)
    left_for_exit: list[object] = []  # see options.leave_for_exit
    code = run(args, left_for_exit)
    # Skip the interpreter's teardown, which would free every object of a large
    # project one by one (tens of milliseconds for nothing); flush what we printed.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe has nothing to flush into
            stream.flush()
    os._exit(code)


def run(args: list[str], left_for_exit: list[object] | None = None) -> int:
    """Run the CLI and return the exit code; never lets an exception escape.

    ``left_for_exit``: where a command may leave what it no longer needs, for the process's
    exit to drop (``options.leave_for_exit``)."""
    from mlgitops.errors import MlgitopsError, UserError

    # A run builds hundreds of thousands of long-lived objects (YAML nodes, spec
    # models, rendered documents) and frees almost none before exiting; CPython's
    # cyclic collector would rescan them again and again (half of validate's time
    # on 1,000 models). A short-lived command does without it, as mypy does.
    gc.disable()
    debug = "--debug" in args or os.environ.get("MLGITOPS_DEBUG") == "1"
    try:
        result: Any = cli.main(args=args, prog_name="mlgitops", standalone_mode=False, obj=left_for_exit)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        exc.show()
        return 2
    except click.ClickException as exc:
        exc.show()
        return 2
    except (click.Abort, KeyboardInterrupt):
        echo("Aborted.", err=True)
        return 130
    except UserError as exc:
        _show_user_error(exc)
        return exc.exit_code
    except MlgitopsError as exc:
        echo(f"error: {exc}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        # Output piped into e.g. `head`: not an error of ours.
        sys.stderr.close()
        return 0
    except OSError as exc:
        # Disk full, read-only tree, permissions: the environment, the user's to fix.
        where = f" ({exc.filename})" if exc.filename else ""
        echo(f"error: {exc.strerror or exc}{where}", err=True)
        return 1
    except Exception as exc:
        if debug:
            import traceback

            traceback.print_exc()
        echo(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in mlgitops; please report it with the command you ran "
            "(rerun with --debug for a traceback).",
            err=True,
        )
        return 3
    return result if isinstance(result, int) else 0


def _show_user_error(exc: Exception) -> None:
    from mlgitops.errors import UserError

    echo(f"error: {exc}", err=True)
    if isinstance(exc, UserError):
        for diagnostic in exc.diagnostics:
            where = f"{diagnostic.location}: " if diagnostic.location else ""
            echo(f"  {where}{diagnostic.code}: {diagnostic.message}", err=True)
