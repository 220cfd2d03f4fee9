"""The ownership manifest's text is what ``json.dumps(document, indent=2)`` writes (it is
committed: its layout must not change), though ``Manifest.to_bytes`` writes it line by line."""

from __future__ import annotations

import json

import pytest

from mlgitops.emit.manifest import FORMAT_VERSION, Manifest

AWKWARD = 'déploy/"quoted"\\back\tslash\u2028\U0001f600.yaml'


def indented(manifest: Manifest) -> bytes:
    document: dict[str, object] = {
        "version": FORMAT_VERSION,
        "generator": manifest.generator,
        "inputHash": manifest.input_hash,
        "files": dict(sorted(manifest.files.items())),
    }
    if manifest.retired:
        document["retired"] = sorted(manifest.retired)
    return (json.dumps(document, indent=2) + "\n").encode()


@pytest.mark.parametrize(
    "manifest",
    [
        Manifest("mlgitops 1.0", "abc"),
        Manifest("mlgitops 1.0", "abc", retired=["b", "a"]),
        Manifest("mlgitops 1.0", "0" * 64, {"deploy/b.yaml": "1" * 64, "deploy/a.yaml": "2" * 64}),
        Manifest(AWKWARD, AWKWARD, {AWKWARD: AWKWARD, "a\n": "\x00"}, [AWKWARD, "ü"]),
    ],
)
def test_the_manifest_is_laid_out_as_json_indents_it(manifest: Manifest) -> None:
    assert manifest.to_bytes() == indented(manifest)
    assert Manifest.parse(manifest.to_bytes()).files == manifest.files
