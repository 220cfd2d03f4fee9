"""Host and path of the project's git repository URL (``spec.repository``).

Used to reach the CI's API (the drift check's retraining trigger,
targets/retrain.py) and checked during validation; kept free of heavy imports
because validation runs on every pre-commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@(?P<host>[A-Za-z0-9.-]+):(?P<path>.+)$")


@dataclass(frozen=True, slots=True)
class Repository:
    base: str  # scheme://host[:port] of the web/API server
    host: str
    path: str  # owner/repo or group/subgroup/project, without ".git"


def repository(url: str) -> Repository:
    """Host and path of a git URL (https://, ssh://, git://, or scp-like ``user@host:path``)."""
    match = _SCP_LIKE.match(url)
    if match is not None and "://" not in url:
        host, path, base = match["host"].lower(), match["path"], f"https://{match['host'].lower()}"
    else:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        # An SSH or git-protocol port is not the web server's; http(s) keeps its port.
        web = parts.scheme in ("http", "https")
        netloc = host + (f":{parts.port}" if web and parts.port else "")
        base = f"{parts.scheme if web else 'https'}://{netloc}"
        path = parts.path
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")]
    return Repository(base, host, path)


def github_problem(url: str) -> str | None:
    """Why ``url`` names no GitHub repository the dispatch API can address, or None."""
    path = repository(url).path
    if len(path.split("/")) != 2 or not all(path.split("/")):
        return f"a GitHub repository URL ends in <owner>/<repository>, not {path or 'nothing'!r}"
    return None
