"""The ownership manifest: which files mlgitops generated, with their hashes.

Only files listed here are ever modified or pruned; anything else in the
project is the user's and is never touched.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST_DIR = ".mlgitops"
MANIFEST_PATH = f"{MANIFEST_DIR}/manifest.json"
FORMAT_VERSION = 1


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Manifest:
    generator: str
    input_hash: str
    files: dict[str, str] = field(default_factory=dict)  # path → sha256
    retired: list[str] = field(default_factory=list)  # models retired: their files were pruned

    def to_bytes(self) -> bytes:
        document = {
            "version": FORMAT_VERSION,
            "generator": self.generator,
            "inputHash": self.input_hash,
            "files": dict(sorted(self.files.items())),
        }
        if self.retired:
            document["retired"] = sorted(self.retired)
        return (json.dumps(document, indent=2, sort_keys=False) + "\n").encode()

    @classmethod
    def read(cls, root: Path) -> Manifest | None:
        """The manifest on disk, or None when absent or unreadable (then nothing counts as owned)."""
        try:
            document = json.loads((root / MANIFEST_PATH).read_bytes())
            files = document["files"]
            if not isinstance(files, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in files.items()
            ):
                return None
            retired = document.get("retired", [])
            retired = [str(name) for name in retired] if isinstance(retired, list) else []
            return cls(str(document["generator"]), str(document["inputHash"]), files, retired)
        except (OSError, ValueError, KeyError, TypeError):
            return None
