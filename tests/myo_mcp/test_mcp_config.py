"""myo-mcp's settings: its data directory is myo-server's, so both see the same assets and jobs."""

from __future__ import annotations

from pathlib import Path

import pytest

import myo_mcp
import myo_server


@pytest.mark.parametrize("home", [None, "", "~/myo-data", "/srv/myo"])
def test_data_dir_is_myo_servers(monkeypatch: pytest.MonkeyPatch, home: str | None) -> None:
    """myo_mcp keeps its own few lines for the default (importing myo_server would put that
    package on the start -> initialize path); they must give myo_server's answer."""
    if home is None:
        monkeypatch.delenv("MYO_HOME", raising=False)
    else:
        monkeypatch.setenv("MYO_HOME", home)
    expected = myo_server.default_data_dir()
    assert myo_mcp.default_data_dir() == expected
    assert myo_mcp.McpConfig.from_env(backend="local").data_dir == expected
    if home:
        assert expected == Path(home).expanduser()
