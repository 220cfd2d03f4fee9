"""The manifest's bytes (``Manifest.to_bytes``, written line by line) are what
``json.dumps(document, indent=2)`` gives, and parse back to the same manifest."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from mlgitops.emit.manifest import FORMAT_VERSION, Manifest

_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)  # quotes, controls, non-ASCII


@given(
    generator=_TEXT,
    input_hash=_TEXT,
    files=st.dictionaries(_TEXT, _TEXT, max_size=6),
    retired=st.lists(_TEXT, max_size=4),
)
def test_bytes_are_json_dumps_with_an_indent_of_two(
    generator: str, input_hash: str, files: dict[str, str], retired: list[str]
) -> None:
    manifest = Manifest(generator, input_hash, files, retired)
    document: dict[str, object] = {
        "version": FORMAT_VERSION,
        "generator": generator,
        "inputHash": input_hash,
        "files": dict(sorted(files.items())),
    }
    if retired:
        document["retired"] = sorted(retired)
    data = manifest.to_bytes()
    assert data == (json.dumps(document, indent=2) + "\n").encode()
    assert Manifest.parse(data) == Manifest(generator, input_hash, files, sorted(retired))
