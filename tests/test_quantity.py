"""Kubernetes resource quantities (mlgitops.spec.quantity) and how the spec accepts them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from mlgitops.spec.common import Resources
from mlgitops.spec.quantity import is_quantity, quantity_value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", Decimal(0)),
        ("2", Decimal(2)),
        ("500m", Decimal("0.5")),
        ("1.5", Decimal("1.5")),
        (".5", Decimal("0.5")),
        ("100n", Decimal("1e-7")),
        ("1u", Decimal("1e-6")),
        ("1k", Decimal(1000)),
        ("129M", Decimal(129_000_000)),
        ("2G", Decimal(2_000_000_000)),
        ("1T", Decimal(10**12)),
        ("1Ki", Decimal(1024)),
        ("123Mi", Decimal(128_974_848)),
        ("1Gi", Decimal(2**30)),
        ("1.5Gi", Decimal(3 * 2**29)),
        ("1Ei", Decimal(2**60)),
        ("1e3", Decimal(1000)),
        ("1E3", Decimal(1000)),
        ("129e6", Decimal(129_000_000)),
        ("1e-3", Decimal("0.001")),
    ],
)
def test_valid_quantities_and_their_values(text: str, value: Decimal) -> None:
    assert is_quantity(text)
    assert quantity_value(text) == value


def test_same_amount_in_different_spellings() -> None:
    assert quantity_value("128974848") == quantity_value("123Mi")
    assert quantity_value("0.5") == quantity_value("500m")
    assert quantity_value("1e9") == quantity_value("1G")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-1",
        "+1",
        "2GB",
        "1 Gi",
        "Gi",
        "1gi",
        "1K",
        "1.5 cores",
        "1,5",
        "1e",
        "0x10",
        "1mi",
        "one",
        "1Gi ",
    ],
)
def test_invalid_quantities(text: str) -> None:
    assert not is_quantity(text)


@pytest.mark.parametrize(
    ("raw", "kept"), [(2, "2"), (0.5, "0.5"), (4.0, "4"), ("500m", "500m"), (1e-05, "1e-05")]
)
def test_spec_accepts_yaml_numbers_as_quantities(raw: object, kept: str) -> None:
    assert Resources.model_validate({"cpu": raw}).cpu == kept


@pytest.mark.parametrize("raw", [-1, -0.5, float("inf"), float("nan"), "2GB", True, [1], {"a": 1}])
def test_spec_rejects_non_quantities(raw: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Resources.model_validate({"memory": raw})
    (error,) = caught.value.errors()
    assert error["loc"] == ("memory",)
    if isinstance(raw, str | int | float) and not isinstance(raw, bool):
        assert error["type"] == "MLG307"
        assert "is not a Kubernetes quantity" in error["msg"]
