"""`mlgitops completion SHELL`: click's own shell completion, printed for a shell's start-up file."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_MLGITOPS_COMPLETE"


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> int:
    """Print the completion script for SHELL (commands, options and file names).

    \b
    Install it once, e.g.:
      bash:  mlgitops completion bash > ~/.local/share/bash-completion/completions/mlgitops
      zsh:   mlgitops completion zsh > "${fpath[1]}/_mlgitops"
      fish:  mlgitops completion fish > ~/.config/fish/completions/mlgitops.fish
    """
    from click.shell_completion import get_completion_class

    from mlgitops.cli import cli
    from mlgitops.cli.output import echo

    completer = get_completion_class(shell)
    assert completer is not None, f"click ships a completion class for {shell}"
    echo(completer(cli, {}, "mlgitops", COMPLETE_VAR).source())
    return 0
