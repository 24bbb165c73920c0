"""Numbers as lines of text, fast: what the text exports (mot, csv, bvh) write per frame."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def format_rows(values: NDArray[np.float64], number: str, sep: str, *, nan: str = "nan") -> str:
    """The rows of a 2-D array as text, each row ending in a newline.

    Byte for byte what ``"".join(sep.join(number.format(v) for v in row) + "\\n" for row in
    values)`` gives, about five times faster: one ``str.format`` over a template of the whole
    table instead of a Python call per number.

    Args:
        values: ``(rows, columns)`` numbers.
        number: A ``str.format`` replacement field for one number, e.g. ``"{:.10g}"``.
        sep: What goes between the numbers of a row.
        nan: What a NaN becomes (Python formats every NaN, whatever its sign, as ``nan``; no
            number's text holds those letters, so replacing them touches only NaNs).

    Returns:
        The text; empty for no rows.
    """
    rows, columns = values.shape
    template = (sep.join([number] * columns) + "\n") * rows
    text: str = template.format(*values.ravel().tolist())
    return text if nan == "nan" else text.replace("nan", nan)
