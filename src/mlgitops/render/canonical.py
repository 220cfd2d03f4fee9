"""Rendered text → data → canonical YAML text.

Parsing the rendered template back proves it is well-formed YAML (with the
same strict rules as specs: no duplicate keys) and removes every trace of the
template's own whitespace and quoting choices from the output.
"""

from __future__ import annotations

from typing import Any

from mlgitops.load import parse_documents
from mlgitops.render import yamlout


class MalformedOutput(Exception):
    """The rendered text is not valid YAML; ``line`` is a line of the rendered text."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def parse_rendered(text: str) -> list[Any]:
    documents, problem = parse_documents(text)
    if problem is not None:
        message, line = problem
        raise MalformedOutput(message, line)
    return [d for d in documents if d is not None]


def canonical_yaml(documents: list[Any]) -> str:
    return yamlout.dump_documents(documents)
