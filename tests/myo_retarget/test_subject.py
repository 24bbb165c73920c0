"""Subject height and weight: the accepted ranges and the message for a value out of range."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from myo_retarget import RetargetError, RetargetOptions


@pytest.mark.parametrize(
    ("height", "message"),
    [
        (180, "subject_height is in metres; 180 looks like centimetres: use 1.80"),
        (62.5, "subject_height is in metres; 62.5 looks like centimetres: use 0.625"),
        (1750, "subject_height is in metres; 1750 looks like millimetres: use 1.75"),
        (0.1, "subject_height is in metres, between 0.5 and 2.5; got 0.1"),
        (2.6, "subject_height is in metres, between 0.5 and 2.5; got 2.6"),
        (-1.8, "subject_height is in metres, between 0.5 and 2.5; got -1.8"),
        (math.nan, "subject_height is in metres, between 0.5 and 2.5; got nan"),
        (math.inf, "subject_height is in metres, between 0.5 and 2.5; got inf"),
    ],
)
def test_a_height_out_of_range_says_what_to_use(height: float, message: str) -> None:
    with pytest.raises(RetargetError) as err:
        RetargetOptions(subject_height=height).validate()
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        (0, "subject_weight is in kilograms, between 2 and 500; got 0"),
        (501, "subject_weight is in kilograms, between 2 and 500; got 501"),
        (math.nan, "subject_weight is in kilograms, between 2 and 500; got nan"),
    ],
)
def test_a_weight_out_of_range_says_the_range(weight: float, message: str) -> None:
    with pytest.raises(RetargetError) as err:
        RetargetOptions(subject_weight=weight).validate()
    assert str(err.value) == message


def test_the_ranges_are_inclusive() -> None:
    from myo_retarget._subject import HEIGHT_RANGE_M, WEIGHT_RANGE_KG

    for height in HEIGHT_RANGE_M:
        for weight in WEIGHT_RANGE_KG:
            RetargetOptions(subject_height=height, subject_weight=weight).validate()


def test_the_subject_checks_load_no_engine() -> None:
    """The server and the MCP server import the ranges at start-up: that must not load numpy,
    MuJoCo or ezc3d (the package's names load their modules on first use)."""
    code = (
        "import sys, myo_retarget, myo_retarget._subject, myo_server._models, myo_mcp._server\n"
        "print(sorted(m for m in ('numpy', 'mujoco', 'ezc3d') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves() -> None:
    code = (
        "import myo_retarget\n"
        "from myo_retarget import *\n"
        "from myo_retarget import retarget, HEIGHT_RANGE_M\n"
        "missing = [n for n in myo_retarget.__all__ if not hasattr(myo_retarget, n)]\n"
        "assert not missing, missing\n"
        "assert set(myo_retarget.__all__) <= set(dir(myo_retarget))\n"
        "try:\n"
        "    myo_retarget.nope\n"
        "except AttributeError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "module 'myo_retarget' has no attribute 'nope'"
