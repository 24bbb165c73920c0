"""The Python the README's SDK section shows runs as written against a real myo-server (only the
placeholder key and address are swapped for the test server's), from a folder holding the
``walk.c3d`` and ``cmu.xml`` it names."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import myo_retarget
from myosdk import Client

README = Path(__file__).resolve().parents[2] / "README.md"
CMU_MARKERSET = Path(myo_retarget.__file__).parent / "data" / "markersets" / "cmu.xml"
KEY_PLACEHOLDER = 'api_key="..."'
ADDRESS_PLACEHOLDER = 'base_url="http://127.0.0.1:8000"'


def _sdk_snippets() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## SDK: `myosdk`\n")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], re.DOTALL)


def test_the_sdk_section_shows_the_one_call_and_the_handle() -> None:
    snippets = _sdk_snippets()
    assert len(snippets) == 2
    assert all(KEY_PLACEHOLDER in s and ADDRESS_PLACEHOLDER in s for s in snippets)
    assert "client.jobs.start_retarget(" in snippets[0]  # the reference's flow
    assert "client.retarget(" in snippets[1]
    assert "handle.stream()" in snippets[1]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_sdk_snippets_run_as_written(
    local_server: Any,
    wait_for_catalog: Callable[[Client], None],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Client(api_key=local_server.api_key, base_url=local_server.base_url) as client:
        wait_for_catalog(client)
    shutil.copy(myo_retarget.sample_c3d_path(), tmp_path / "walk.c3d")
    shutil.copy(CMU_MARKERSET, tmp_path / "cmu.xml")
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    for snippet in _sdk_snippets():
        code = snippet.replace(KEY_PLACEHOLDER, f"api_key={local_server.api_key!r}").replace(
            ADDRESS_PLACEHOLDER, f"base_url={local_server.base_url!r}"
        )
        with contextlib.redirect_stdout(printed):
            exec(compile(code, str(README), "exec"), {})
    out = tmp_path / "out"
    # the reference flow's .npz, then every output of both later jobs (same names: replaced)
    names = {p.name for p in out.iterdir()}
    assert {"walk.npz", "walk_retarget.npz", "walk_qpos.parquet", "walk_motion.glb"} <= names
    lines = printed.getvalue().splitlines()
    assert lines[-1] == "SUCCEEDED 1.0"  # the handle's stream ends with the final state
    assert "SUCCEEDED 1.0" in lines[:-1]  # and so did on_status
