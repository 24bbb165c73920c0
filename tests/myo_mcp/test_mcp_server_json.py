"""server.json (the MCP registry entry) follows the registry's 2025-12-11 rules and the package."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import myo_mcp

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
NAME = re.compile(r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$")


def _doc() -> dict[str, Any]:
    return dict(json.loads((ROOT / "server.json").read_text(encoding="utf-8")))


def test_server_json_rules() -> None:
    doc = _doc()
    assert doc["$schema"] == SCHEMA
    assert NAME.match(doc["name"]) and doc["name"].startswith("io.github.")
    assert doc["name"].endswith("/myo-mcp")
    assert 0 < len(doc["description"]) <= 100
    assert doc["version"] == version("myo-mcp") == myo_mcp.__version__
    assert doc["version"] != "latest"
    assert doc["repository"]["source"] == "github"
    assert doc["repository"]["url"].startswith("https://github.com/")
    (pkg,) = doc["packages"]
    assert {
        k: pkg[k] for k in ("registryType", "registryBaseUrl", "identifier", "runtimeHint")
    } == {
        "registryType": "pypi",
        "registryBaseUrl": "https://pypi.org",
        "identifier": "myo-mcp",
        "runtimeHint": "uvx",
    }
    assert pkg["version"] == doc["version"]
    assert pkg["transport"] == {"type": "stdio"}
    env = {v["name"]: v for v in pkg["environmentVariables"]}
    assert list(env) == ["MYOSDK_API_KEY", "MYOSDK_BASE_URL", "MYO_HOME"]
    assert env["MYOSDK_API_KEY"]["isSecret"] is True
    assert all(v["isRequired"] is False for v in env.values())
    assert all(v["isSecret"] is False for k, v in env.items() if k != "MYOSDK_API_KEY")
    assert all(v["description"] for v in env.values())
    allowed = {"name", "description", "isRequired", "isSecret", "format", "default", "choices"}
    assert all(set(v) <= allowed for v in env.values())


def test_readme_names_the_same_server() -> None:
    """The registry verifies PyPI ownership through an ``mcp-name:`` line in the README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = re.findall(r"mcp-name:\s*(\S+)", readme)
    assert names, "README.md lacks the mcp-name: line"
    assert all(n == _doc()["name"] for n in names), names
