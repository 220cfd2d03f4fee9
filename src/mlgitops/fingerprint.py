"""The input fingerprint of a compile, for skipping work when nothing changed.

A compile's output is a function of: the spec files, the templates (built-in
and overrides), mlgitops itself (its version and source), and the date
(sunset warnings).  The fingerprint hashes all of them; when it equals the
one in the ownership manifest and every owned file still has its recorded
hash, the tree is already what a compile would write.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from pathlib import Path

import mlgitops

_PACKAGE_DIR = Path(mlgitops.__file__).resolve().parent


def fingerprint(
    root: Path, inputs: Iterable[Path], template_dirs: Iterable[Path], today: datetime.date
) -> str:
    digest = hashlib.sha256()
    digest.update(f"mlgitops {mlgitops.__version__}\n{today.isoformat()}\n".encode())
    for path in sorted(_PACKAGE_DIR.rglob("*.py")):
        _add(digest, "pkg", path.relative_to(_PACKAGE_DIR).as_posix(), path)
    for index, directory in enumerate(template_dirs):
        if directory.is_dir():
            for path in sorted(p for p in directory.rglob("*") if p.is_file()):
                _add(digest, f"tpl{index}", path.relative_to(directory).as_posix(), path)
    for path in sorted(inputs):
        _add(digest, "in", path.relative_to(root).as_posix(), path)
    return digest.hexdigest()


def _add(digest: hashlib._Hash, kind: str, name: str, path: Path) -> None:
    data = path.read_bytes()
    digest.update(f"{kind}\0{name}\0{len(data)}\0".encode())
    digest.update(data)
