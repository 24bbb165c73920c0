"""server.json (the MCP registry entry) follows the registry's 2025-12-11 rules and the package."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import myo_mcp
from myo_mcp import _cli

# The streamable-HTTP options (and its token variable) do not apply to this entry's stdio
# transport; --version runs no server.
NOT_FOR_STDIO = {
    "--version",
    "--transport",
    "--host",
    "--port",
    "--auth-token",
    "--auth-token-file",
}

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
    assert env["MYOSDK_API_KEY"]["isSecret"] is True
    assert all(v["isRequired"] is False for v in env.values())
    assert all(v["isSecret"] is False for k, v in env.items() if k != "MYOSDK_API_KEY")
    assert all(v["description"] for v in env.values())
    allowed = {"name", "description", "isRequired", "isSecret", "format", "default", "choices"}
    assert all(set(v) <= allowed for v in env.values())


def _env_vars_read() -> set[str]:
    """The variables ``myo-mcp`` reads (``os.environ.get("...")`` in its CLI and config)."""
    src = ROOT / "src" / "myo_mcp"
    text = "".join((src / name).read_text(encoding="utf-8") for name in ("_cli.py", "_config.py"))
    return set(re.findall(r'environ\.get\(\s*"([A-Z_]+)"', text)) | {_cli.TOKEN_ENV}


def test_server_json_lists_the_cli() -> None:
    """Every option and variable a stdio client can set is listed, and nothing else."""
    (pkg,) = _doc()["packages"]
    options = {
        flag
        for action in _cli._parser()._actions
        for flag in action.option_strings
        if flag.startswith("--") and flag != "--help"
    }
    args = {a["name"]: a for a in pkg["packageArguments"]}
    assert set(args) == options - NOT_FOR_STDIO
    assert all(a["type"] == "named" and a["description"] for a in args.values())
    assert args["--allow-dir"]["isRepeated"] is True
    assert args["--allow-dir"]["format"] == "filepath"
    assert args["--backend"]["choices"] == ["local", "remote"]
    assert args["--log-level"]["choices"] == ["DEBUG", "INFO", "WARNING", "ERROR"]
    env = [v["name"] for v in pkg["environmentVariables"]]
    assert len(env) == len(set(env))
    assert set(env) == _env_vars_read() - {_cli.TOKEN_ENV}
    allowed = {
        "type", "name", "description", "isRequired", "isRepeated", "isSecret", "format",
        "default", "choices", "valueHint",
    }  # fmt: skip
    assert all(set(a) <= allowed for a in args.values())


def test_readme_names_the_same_server() -> None:
    """The registry verifies PyPI ownership through an ``mcp-name:`` line in the README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = re.findall(r"mcp-name:\s*(\S+)", readme)
    assert names, "README.md lacks the mcp-name: line"
    assert all(n == _doc()["name"] for n in names), names
