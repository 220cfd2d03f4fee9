"""The ownership manifest: which files mlgitops generated, with their hashes.

Only files listed here are ever modified or pruned; anything else in the
project is the user's and is never touched.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as encode_string

MANIFEST_DIR = ".mlgitops"
MANIFEST_PATH = f"{MANIFEST_DIR}/manifest.json"
MAX_MANIFEST_BYTES = 64 << 20  # 20,000 files take about 2 MB
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
        """The text of ``json.dumps(document, indent=2)``, each member and file line written
        here: the indenting encoder takes twice as long over 17,000 files."""
        files = [
            f"{encode_string(path)}: {encode_string(digest)}" for path, digest in sorted(self.files.items())
        ]
        members = [
            f'"version": {FORMAT_VERSION}',
            f'"generator": {encode_string(self.generator)}',
            f'"inputHash": {encode_string(self.input_hash)}',
            f'"files": {_block(files, "{}")}',
        ]
        if self.retired:
            retired = [encode_string(name) for name in sorted(self.retired)]
            members.append(f'"retired": {_block(retired, "[]")}')
        return ("{\n  " + ",\n  ".join(members) + "\n}\n").encode()

    @classmethod
    def parse(cls, data: bytes) -> Manifest:
        """The manifest in ``data``; ValueError (saying what is wrong) when it is not one.

        Only the shape is checked here: which of the listed paths mlgitops may act on is
        decided by :mod:`mlgitops.emit.territory`, since the file can be forged.
        """
        try:
            document = json.loads(data)
        except (ValueError, RecursionError):
            raise ValueError("is not valid JSON") from None
        if not isinstance(document, dict):
            raise ValueError("is not a JSON object")
        files, retired = document.get("files"), document.get("retired", [])
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            raise ValueError("has no 'files' object mapping paths to SHA-256 strings")
        if not isinstance(retired, list) or not all(isinstance(name, str) for name in retired):
            raise ValueError("has a 'retired' entry that is not a list of model names")
        generator, input_hash = document.get("generator"), document.get("inputHash")
        if not isinstance(generator, str) or not isinstance(input_hash, str):
            raise ValueError("lacks the 'generator' or 'inputHash' string")
        return cls(generator, input_hash, files, retired)


def _block(lines: list[str], brackets: str) -> str:
    """A member's object or array of ``lines`` as ``json.dumps(indent=2)`` lays it out."""
    if not lines:
        return brackets
    return f"{brackets[0]}\n    " + ",\n    ".join(lines) + f"\n  {brackets[1]}"
