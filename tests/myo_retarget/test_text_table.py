"""The fast row formatting of the text exports writes what formatting each number alone writes."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from myo_retarget._export import TEXT_NUMBER
from myo_retarget._export_bvh import BVH_NUMBER
from myo_retarget._text_table import format_rows


def _one_by_one(values: NDArray[np.float64], number: str, sep: str, nan: str) -> str:
    """The writers' former formatting, a Python call per number: the reference."""
    return "".join(
        sep.join(nan if np.isnan(v) else number.format(v) for v in row) + "\n" for row in values
    )


def _awkward_table() -> NDArray[np.float64]:
    """Random numbers of every magnitude and sign, with NaNs of both signs, infinities,
    signed zeros, integers and values on rounding ties of both formats."""
    rng = np.random.default_rng(7)
    values = rng.normal(0.0, 1.0, (60, 9)) * 10.0 ** rng.integers(-12, 14, (60, 9))
    special = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -3.0, 0.5e-6, 2.5e-7, 1e16]
    values.ravel()[rng.choice(values.size, 120, replace=False)] = rng.choice(special, 120)
    values[0] = [0.1234565, -5e-7, 1234567890.5, 0.1 + 0.2, 1e-320, -1e300, 179.9999995, -4e-7, 5.5]
    return values


@pytest.mark.parametrize(
    ("number", "sep", "nan"),
    [(TEXT_NUMBER, "\t", "nan"), (TEXT_NUMBER, ",", ""), (BVH_NUMBER, " ", "nan")],
)
def test_rows_are_byte_identical_to_formatting_each_number(number: str, sep: str, nan: str) -> None:
    values = _awkward_table()
    assert format_rows(values, number, sep, nan=nan) == _one_by_one(values, number, sep, nan)


def test_an_empty_table_is_no_text_and_an_empty_row_a_newline() -> None:
    assert format_rows(np.zeros((0, 4)), TEXT_NUMBER, ",") == ""
    assert format_rows(np.zeros((2, 0)), TEXT_NUMBER, ",") == "\n\n"
