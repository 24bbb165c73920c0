"""What the model may read from myo-mcp, in characters, and how a result is counted.

The budgets of issue 13: ``tools/list`` as compact JSON, and each typical tool result (its texts
plus its structured content as compact JSON; images are not counted).
"""

from __future__ import annotations

import json
from typing import Any

import mcp.types as types

__all__ = ["RESULT_BUDGET", "TOOLS_LIST_BUDGET", "compact_json", "result_chars", "tools_list_chars"]

#: ``tools/list`` of any server mode, compact JSON.
TOOLS_LIST_BUDGET = 20_000
#: One typical tool result, images left out.
RESULT_BUDGET = 2_000


def compact_json(data: Any) -> str:
    """``data`` as JSON without spaces: how sizes are counted."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def result_chars(result: types.CallToolResult) -> int:
    """Characters of a tool result the model reads: its texts and its structured content."""
    text = sum(len(c.text) for c in result.content if isinstance(c, types.TextContent))
    data = result.structured_content
    return text + (len(compact_json(data)) if data is not None else 0)


def tools_list_chars(tools: list[types.Tool]) -> int:
    """Characters of a ``tools/list`` result listing ``tools`` (as sent: no nulls)."""
    dumped = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    return len(compact_json({"tools": dumped}))
