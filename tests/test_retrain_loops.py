"""The retrain-loop check finds the specs a training path covers by bisection over the sorted
spec paths: it must name exactly what checking every spec names."""

from __future__ import annotations

import posixpath

from hypothesis import given, settings
from hypothesis import strategies as st

from mlgitops.validate.retrain_loops import _edited

SEGMENT = st.sampled_from(["models", "m", "src", "a", "a-b", "a.b", "deploy", "x"])
SPEC = st.lists(SEGMENT, min_size=1, max_size=3).map(lambda parts: "/".join(parts) + ".yaml")
TRAINING_PATH = st.one_of(
    st.lists(SEGMENT, min_size=0, max_size=3).map(lambda parts: "/".join(parts) + "/"),
    SPEC,
    st.sampled_from([".", "./", "", "models", "models/"]),
)


def _every_spec(path: str, own: str, output: str, specs: dict[str, str]) -> str | None:
    """The same question answered by checking every spec (the reference)."""
    normal = posixpath.normpath(path.strip()).strip("/")
    below = normal in ("", ".") or path.endswith("/")

    def covers(target: str) -> bool:
        if normal in ("", "."):
            return True
        return target == normal or (below and target.startswith(normal + "/"))

    if covers(own):
        return f"the model's own spec {own}"
    covered = sorted(spec for spec in specs if covers(spec))
    if covered:
        return f"the spec of {specs[covered[0]]!r} ({covered[0]})"
    inside_output = normal == output or normal.startswith(output + "/")
    if inside_output or (below and output.startswith(normal + "/")):
        return f"the compiled tree {output}/"
    return None


@settings(max_examples=400, deadline=None)
@given(specs=st.lists(SPEC, min_size=1, max_size=8, unique=True), path=TRAINING_PATH, pick=st.integers(0, 7))
def test_bisection_names_what_a_full_scan_names(specs: list[str], path: str, pick: int) -> None:
    named = {spec: f"model-{i}" for i, spec in enumerate(specs)}
    own = specs[pick % len(specs)]
    expected = _every_spec(path, own, "deploy", named)
    assert _edited(path, own, "deploy", named, sorted(named)) == expected
