"""Regenerate docs/spec.md and schemas/*.json from the spec models (`make docs`)."""

from __future__ import annotations

from pathlib import Path

from mlgitops.spec.docs import render_docs
from mlgitops.spec.jsonschema import schema_files

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "spec.md").write_text(render_docs(), encoding="utf-8", newline="\n")
    for name, content in schema_files().items():
        (ROOT / "schemas" / name).write_text(content, encoding="utf-8", newline="\n")
    print("wrote docs/spec.md and schemas/")


if __name__ == "__main__":
    main()
