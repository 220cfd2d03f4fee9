"""What ``promote`` prints, and how it writes the edited spec."""

from __future__ import annotations

import difflib
import json
import os
import secrets
from pathlib import Path

from mlgitops.promote import Promotion


def diff(promotion: Promotion) -> str:
    return "".join(
        difflib.unified_diff(
            promotion.before.splitlines(keepends=True),
            promotion.after.splitlines(keepends=True),
            fromfile=f"a/{promotion.spec_display}",
            tofile=f"b/{promotion.spec_display}",
        )
    )


def render(promotion: Promotion, fmt: str, *, written: bool) -> str:
    if fmt == "json":
        document = {
            "model": promotion.model,
            "environment": promotion.environment,
            "version": promotion.version,
            "kind": promotion.kind,
            "canary": promotion.canary,
            "file": promotion.spec_display,
            "written": written,
            "branch": promotion.branch,
            "title": promotion.title,
            "commitMessage": promotion.commit_message,
            "body": promotion.body,
            "diff": diff(promotion),
        }
        return json.dumps(document, indent=2) + "\n"
    action = "edited" if written else "would edit (dry run)"
    return (
        f"{action} {promotion.spec_display}:\n{diff(promotion)}\n"
        f"suggested commit message:\n  {promotion.commit_message.splitlines()[0]}\n"
        f"suggested pull-request title:\n  {promotion.title}\n"
        "next: run 'mlgitops compile' and commit both the spec and the generated files\n"
    )


def write_atomically(path: Path, text: str) -> None:
    """Replace the spec in one rename, keeping its permissions.

    The temporary file is created with ``O_EXCL | O_NOFOLLOW`` under a name nobody could
    have planted: a committed symlink at a predictable name would otherwise be written
    through, and promote runs with a token that can push.
    """
    mode = path.stat().st_mode & 0o7777
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.mlgitops-tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    handle = os.open(temporary, flags, 0o600)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            os.fchmod(stream.fileno(), mode)
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
