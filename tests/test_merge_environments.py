"""The same problem found in several environments is reported once, naming them all
(end to end: tests/cases/invalid/same-problem-in-every-environment)."""

from __future__ import annotations

from mlgitops.diagnostics import ENVIRONMENT, Diagnostic, Location, make, merge_environments, names_list

AT = Location("models/iris.yaml", 11, 20)


def scaled(env: str, high: int = 2, at: Location = AT, hint: str = "lower minReplicas") -> Diagnostic:
    return make(
        "MLG317", f"minReplicas 5 is above maxReplicas {high} in {ENVIRONMENT}", at, hint, environment=env
    )


def test_one_environment_reads_as_before() -> None:
    diagnostic = scaled("dev")
    assert diagnostic.message == "minReplicas 5 is above maxReplicas 2 in 'dev'"
    assert diagnostic.environments == ("dev",)
    assert merge_environments([diagnostic]) == [diagnostic]


def test_identical_problems_merge_in_the_order_found() -> None:
    merged = merge_environments([scaled("dev"), scaled("staging"), scaled("prod")])
    assert [d.message for d in merged] == [
        "minReplicas 5 is above maxReplicas 2 in 'dev', 'staging' and 'prod'"
    ]
    assert merged[0].environments == ("dev", "staging", "prod")


def test_only_what_differs_by_environment_merges() -> None:
    other_place = Location("models/iris.yaml", 20, 5)
    unrelated = make("MLG320", "no serving runtime is set", AT)
    diagnostics = [
        scaled("dev"),
        unrelated,
        scaled("staging", high=3),  # another message
        scaled("prod", at=other_place),  # another location
        scaled("qa", hint="other"),  # another hint
        scaled("prod"),
    ]
    merged = merge_environments(diagnostics)
    assert [(d.message, d.location) for d in merged] == [
        ("minReplicas 5 is above maxReplicas 2 in 'dev' and 'prod'", AT),
        ("no serving runtime is set", AT),
        ("minReplicas 5 is above maxReplicas 3 in 'staging'", AT),
        ("minReplicas 5 is above maxReplicas 2 in 'prod'", other_place),
        ("minReplicas 5 is above maxReplicas 2 in 'qa'", AT),
    ]


def test_user_text_cannot_forge_the_slot() -> None:
    """User strings are shown with !r, which escapes the slot's control character."""
    hostile = f"x{ENVIRONMENT}y"
    diagnostic = make("MLG317", f"metric {hostile!r} in {ENVIRONMENT} is odd", AT, environment="dev")
    assert diagnostic.message == "metric 'x\\x1fy' in 'dev' is odd"
    assert diagnostic.around_environments == ("metric 'x\\x1fy' in ", " is odd")
    merged = merge_environments(
        [diagnostic, make("MLG317", f"metric {hostile!r} in {ENVIRONMENT} is odd", AT, environment="qa")]
    )
    assert [d.message for d in merged] == ["metric 'x\\x1fy' in 'dev' and 'qa' is odd"]


def test_names_list() -> None:
    assert names_list([]) == ""
    assert names_list(["dev"]) == "'dev'"
    assert names_list(["dev", "prod"]) == "'dev' and 'prod'"
    assert names_list(["dev", "staging", "prod"]) == "'dev', 'staging' and 'prod'"
