"""A scripted assistant: takes a recording from "retarget this" to a motion, or to a reason.

It follows only what the tool results say -- the best-fitting markerset ``inspect_c3d`` names,
a drafted markerset when none fits and the server offers ``draft_markerset``, the job id when
``retarget_motion`` hands the wait on -- never a markerset chosen per file. Every call and
answer is kept, with the characters the model would read (arguments and the result's text and
structured content as compact JSON), so tests can snapshot the wording and the benchmark can
count the cost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp import Client

# Joints whose data say the legs were retargeted (hip and knee flexion, both sides).
LEG_JOINTS = ("hip_flex_r", "hip_flex_l", "knee_flex_r", "knee_flex_l")
# Waits after retarget_motion hands the job on (each wait_for_job call waits up to its budget).
MAX_WAITS = 10


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass
class Turn:
    """One tool call and its answer as the model sees them."""

    tool: str
    arguments: dict[str, Any]
    is_error: bool
    text: str
    structured: dict[str, Any] | None

    @property
    def answer_chars(self) -> int:
        """Characters of the answer: its text and its structured content (compact JSON)."""
        return len(self.text) + (len(_compact(self.structured)) if self.structured else 0)

    @property
    def chars(self) -> int:
        """Characters of the call and the answer (compact JSON)."""
        return len(self.tool) + len(_compact(self.arguments)) + self.answer_chars


@dataclass
class Conversation:
    """How one recording's conversation went."""

    recording: str
    turns: list[Turn] = field(default_factory=list)
    motion: Path | None = None
    legs: bool = False
    reason: str = ""

    @property
    def chars(self) -> int:
        """Characters of every call and answer."""
        return sum(t.chars for t in self.turns)

    @property
    def outcome(self) -> str:
        """``retargeted`` (with legs or without) or ``stopped``."""
        if self.motion is None:
            return "stopped"
        return "retargeted" if self.legs else "retargeted, no legs"


def _text(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content if getattr(c, "text", None))


async def _call(client: Client, talk: Conversation, tool: str, arguments: dict[str, Any]) -> Turn:
    result = await client.call_tool(tool, arguments)
    turn = Turn(tool, arguments, bool(result.is_error), _text(result), result.structured_content)
    talk.turns.append(turn)
    return turn


def _job_id(structured: dict[str, Any] | None) -> str | None:
    if not structured:
        return None
    job = structured.get("job")
    if isinstance(job, dict) and isinstance(job.get("job_id"), str):
        return str(job["job_id"])
    value = structured.get("job_id")
    return value if isinstance(value, str) else None


def _legs_observed(summary: dict[str, Any] | None) -> bool:
    """Whether hip and knee flexion on both sides have data in most frames."""
    if not summary:
        return False
    rows = {r.get("joint"): r for r in summary.get("joints", []) if isinstance(r, dict)}
    return all(
        (rows.get(j) or {}).get("range_deg") is not None
        and float((rows.get(j) or {}).get("observed_pct") or 0) >= 50
        for j in LEG_JOINTS
    )


async def converse(client: Client, recording: Path, out_dir: Path) -> Conversation:
    """Take ``recording`` (allowed directory) as far as the tools allow; output in ``out_dir``."""
    talk = Conversation(recording.name)
    tools = {t.name for t in (await client.list_tools()).tools}
    inspected = await _call(client, talk, "inspect_c3d", {"path": str(recording)})
    if inspected.is_error or not inspected.structured:
        talk.reason = inspected.text
        return talk
    best = inspected.structured.get("best_markerset") or {}
    markerset: str | None = best.get("name") if best.get("fits") else None
    if markerset is None and "draft_markerset" in tools:
        drafted = await _call(client, talk, "draft_markerset", {"path": str(recording)})
        if drafted.is_error or not drafted.structured:
            talk.reason = drafted.text
            return talk
        if drafted.structured.get("ready") is False:
            talk.reason = str(drafted.structured.get("next_step"))
            return talk
        markerset = drafted.structured.get("markerset")
    if markerset is None:
        talk.reason = str(best.get("note") or inspected.structured.get("next_step") or "")
        return talk
    output = out_dir / f"{recording.stem}.npz"
    args = {"c3d_path": str(recording), "markerset": markerset, "output_path": str(output)}
    done = await _call(client, talk, "retarget_motion", args)
    waits = 0
    while not done.is_error and not output.exists() and waits < MAX_WAITS:
        job_id = _job_id(done.structured)
        if job_id is None:
            break
        waits += 1
        done = await _call(client, talk, "wait_for_job", {"job_id": job_id})
        if not done.is_error and output.exists() is False and done.structured:
            status = (done.structured.get("job") or {}).get("status")
            if status == "SUCCEEDED":
                job_outputs = done.structured.get("job") or {}
                asset = job_outputs.get("output_asset_id")
                if asset:
                    await _call(
                        client,
                        talk,
                        "download_asset",
                        {"asset_id": asset, "destination": str(output)},
                    )
                break
            if status in ("FAILED", "CANCELED"):
                break
    if done.is_error or not output.exists():
        talk.reason = done.text
        return talk
    talk.motion = output
    summary = await _call(client, talk, "summarize_motion", {"path": str(output)})
    talk.legs = _legs_observed(summary.structured)
    return talk
