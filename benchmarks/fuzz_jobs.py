"""Seeded fuzz of retarget jobs: damaged C3Ds and hostile markersets through a real myo_server.

Run by hand: ``uv run python benchmarks/fuzz_jobs.py [--seed 1] [--c3d 200] [--workers 2]``
(``--only c3d|markersets`` for one family, ``--save DIR`` to keep every case's files for replaying
one by hand). A ``LocalServer`` with its worker processes runs in a temporary data directory; every
case is uploaded and started as a retarget job, then all jobs are awaited with a bounded deadline
(a job still RUNNING ``--job-timeout`` seconds after it started counts as stuck).

Damaged C3Ds are made from the shipped 412-frame sample and from synthetic recordings written with
ezc3d (short, metres, prefixed labels): truncations, random byte changes in the header, parameter
and data sections, absurd frame counts and dimensions, zero/NaN/infinite scale or rate, duplicated,
empty and non-UTF-8 labels, broken units and pointers, extreme coordinates. Hostile markersets are
variations of the shipped ``cmu`` markerset (run against the intact sample): huge, deep or many
elements, 1e300/NaN/inf coordinates, zero or negative weights, unknown bodies, duplicate names,
entity expansion, non-UTF-8, empty, and more.

Prints the counts per final status, the jobs stuck (not terminal by the deadline), the messages
grouped (numbers and names folded so that one class is one line), how many messages only say
"Internal error", the longest job, and the worker processes' peak resident memory (VmHWM).
Issue 9's target: 0 stuck, 0 "Internal error".
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import re
import struct
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import ezc3d
import httpx
import numpy as np

import myo_retarget
from _common import machine_line
from myo_retarget._c3d_checks import Parameter, parameter_layout
from myo_retarget._markerset import shipped_markerset_path
from myo_server import LocalServer
from myo_server._job_errors import INTERNAL as INTERNAL_TYPE
from myo_server._records import TERMINAL_STATUSES
from myo_server.testing import upload

SAMPLE = myo_retarget.sample_c3d_path()
CMU_XML = shipped_markerset_path("cmu")
# How the worker's message for an unexpected exception begins (myo_server._worker).
INTERNAL = "Internal error"


@dataclass
class Case:
    """One job to run: the C3D and markerset bytes and what was done to them."""

    kind: str
    c3d: bytes
    markerset: bytes
    c3d_name: str = "walk.c3d"
    markerset_name: str = "markers.xml"


# --------------------------------------------------------------------------- C3D layout


def parameters(blob: bytes) -> dict[str, Parameter]:
    """``GROUP:NAME`` -> where the parameter lies, read by the engine's own walker."""
    return parameter_layout(blob)


def sections(blob: bytes) -> tuple[int, int, int]:
    """(parameter section start, its end, data start) byte offsets."""
    start = (blob[0] - 1) * 512
    end = start + blob[start + 2] * 512
    data_start = (struct.unpack_from("<H", blob, 16)[0] - 1) * 512
    return start, end, max(data_start, end)


# --------------------------------------------------------------------------- sources


def synthetic_sources(tmp: Path) -> list[bytes]:
    """Recordings written with ezc3d from the sample's markers: short, metres, prefixed."""
    c = ezc3d.c3d(str(SAMPLE))
    labels = list(c["parameters"]["POINT"]["LABELS"]["value"])
    points = np.asarray(c["data"]["points"], dtype=np.float64)
    out = []
    for frames, units, scale, prefix, rate in (
        (60, "m", 1e-3, "Sub01:", 60.0),
        (200, "cm", 1e-1, "", 100.0),
        (5, "mm", 1.0, "", 120.0),
    ):
        w = ezc3d.c3d()
        w["parameters"]["POINT"]["RATE"]["value"] = [rate]
        w["parameters"]["POINT"]["LABELS"]["value"] = tuple(prefix + lb for lb in labels)
        w.add_parameter("POINT", "UNITS", [units])
        data = points[:, :, :frames].copy()
        data[:3] *= scale
        w["data"]["points"] = data
        w["data"]["meta_points"] = {
            "residuals": np.ones((1, data.shape[1], frames)),
            "camera_masks": np.zeros((7, data.shape[1], frames), dtype=bool),
        }
        path = tmp / f"synthetic_{frames}.c3d"
        w.write(str(path))
        out.append(path.read_bytes())
    return out


# --------------------------------------------------------------------------- C3D damage

Mutation = Callable[[random.Random, bytes], bytes]


def _set(blob: bytes, at: int, data: bytes) -> bytes:
    b = bytearray(blob)
    b[at : at + len(data)] = data
    return bytes(b)


def _number(p: Parameter, value: float) -> bytes:
    if p.kind == 4:
        return struct.pack("<f", value)
    return struct.pack("<h", int(max(-32768, min(32767, value))))


def _param_value(name: str, values: list[float]) -> Mutation:
    def mutate(rng: random.Random, blob: bytes) -> bytes:
        p = parameters(blob)[name]
        return _set(blob, p.at, _number(p, rng.choice(values)))

    return mutate


def analog_without_scales(rng: random.Random, blob: bytes) -> bytes:
    """Analog channels announced, with a rate, but fewer ANALOG:SCALE/OFFSET values."""
    blob = _param_value("ANALOG:USED", [1, 2, 64])(rng, blob)
    return _param_value("ANALOG:RATE", [600.0, 1200.0])(rng, blob)


def header_data_start(rng: random.Random, blob: bytes) -> bytes:
    return _set(blob, 16, struct.pack("<H", rng.choice([0, 1, 2, 200, 65535])))


def truncate(rng: random.Random, blob: bytes) -> bytes:
    return blob[: rng.randrange(len(blob))]


def truncate_data(rng: random.Random, blob: bytes) -> bytes:
    _, _, data = sections(blob)
    return blob[: rng.randrange(data, len(blob))]


def _flip_in(lo_hi: Callable[[bytes], tuple[int, int]]) -> Mutation:
    def mutate(rng: random.Random, blob: bytes) -> bytes:
        lo, hi = lo_hi(blob)
        b = bytearray(blob)
        for _ in range(rng.choice([1, 1, 2, 4, 16])):
            b[rng.randrange(lo, hi)] = rng.randrange(256)
        return bytes(b)

    return mutate


flip_header = _flip_in(lambda b: (0, 512))
flip_parameters = _flip_in(lambda b: (sections(b)[0], sections(b)[1]))
flip_data = _flip_in(lambda b: (sections(b)[2], len(b)))


def header_frames(rng: random.Random, blob: bytes) -> bytes:
    first, last = rng.choice([(1, 65535), (0, 0), (65535, 1), (1, 32767)])
    return _set(blob, 6, struct.pack("<HH", first, last))


def labels_dims(rng: random.Random, blob: bytes) -> bytes:
    p = parameters(blob)["POINT:LABELS"]
    dims_at = p.at - len(p.dims)
    return _set(blob, dims_at + rng.randrange(len(p.dims)), bytes([rng.choice([0, 255])]))


def _labels(fill: Callable[[random.Random, int, int], bytes]) -> Mutation:
    def mutate(rng: random.Random, blob: bytes) -> bytes:
        p = parameters(blob)["POINT:LABELS"]
        width, count = p.dims[0], p.dims[1]
        data = b"".join(fill(rng, i, width).ljust(width)[:width] for i in range(count))
        return _set(blob, p.at, data)

    return mutate


same_labels = _labels(lambda rng, i, w: b"LFHD")
empty_labels = _labels(lambda rng, i, w: b" " * w)
nul_labels = _labels(lambda rng, i, w: b"\0" * w)
colon_labels = _labels(lambda rng, i, w: b"Sub:" if i % 2 else b":")
non_utf8_labels = _labels(lambda rng, i, w: bytes(rng.randrange(128, 256) for _ in range(w)))


def non_utf8_one_label(rng: random.Random, blob: bytes) -> bytes:
    p = parameters(blob)["POINT:LABELS"]
    i = rng.randrange(p.dims[1])
    return _set(blob, p.at + i * p.dims[0] + 1, b"\xff\xfe")


def units(rng: random.Random, blob: bytes) -> bytes:
    p = parameters(blob)["POINT:UNITS"]
    value = rng.choice([b"\xff\xfe", b"  ", b"in", b"\0\0", b"km"])
    return _set(blob, p.at, value[: p.dims[0]].ljust(p.dims[0]))


def param_block_pointer(rng: random.Random, blob: bytes) -> bytes:
    return _set(blob, 0, bytes([rng.choice([0, 1, 3, 200, 255])]))


def param_block_count(rng: random.Random, blob: bytes) -> bytes:
    return _set(blob, sections(blob)[0] + 2, bytes([rng.choice([0, 1, 255])]))


def processor(rng: random.Random, blob: bytes) -> bytes:
    return _set(blob, sections(blob)[0] + 3, bytes([rng.choice([0, 83, 85, 86, 87, 255])]))


def _data_floats(values: Callable[[random.Random, np.ndarray[Any, Any]], None]) -> Mutation:
    """Rewrite the (float) point data in place: ``values`` edits an (frames, points, 4) array."""

    def mutate(rng: random.Random, blob: bytes) -> bytes:
        params = parameters(blob)
        n = struct.unpack_from("<H", blob, params["POINT:USED"].at)[0]
        _, _, start = sections(blob)
        scale = struct.unpack_from("<f", blob, params["POINT:SCALE"].at)[0]
        if scale > 0 or n == 0:  # integer storage: leave it to the byte flips
            return flip_data(rng, blob)
        frames = (len(blob) - start) // (16 * n)
        words = np.frombuffer(blob, "<f4", frames * n * 4, start).reshape(frames, n, 4).copy()
        values(rng, words)
        return bytes(blob[:start] + words.tobytes() + blob[start + words.nbytes :])

    return mutate


def _extreme(rng: random.Random, w: np.ndarray[Any, Any]) -> None:
    w[..., :3] = rng.choice([1e38, -1e38, 3e38])


def _one_extreme(rng: random.Random, w: np.ndarray[Any, Any]) -> None:
    w[:, rng.randrange(w.shape[1]), :3] = rng.choice([1e30, np.inf, np.nan, -1e35])
    w[:, :, 3] = np.where(w[:, :, 3] < 0, w[:, :, 3], 1.0)


def _all_zero(rng: random.Random, w: np.ndarray[Any, Any]) -> None:
    w[..., :3] = 0.0


def _frozen(rng: random.Random, w: np.ndarray[Any, Any]) -> None:
    w[:] = w[:1]


def _same_point(rng: random.Random, w: np.ndarray[Any, Any]) -> None:
    w[..., :3] = 500.0
    w[..., 3] = 1.0


def _tiny(rng: random.Random, w: np.ndarray[Any, Any]) -> None:
    with np.errstate(invalid="ignore"):  # NaN samples stay NaN
        w[..., :3] *= 1e-9


def _residual_noise(rng: random.Random, w: np.ndarray[Any, Any]) -> None:
    w[..., 3] = rng.choice([np.nan, np.inf, -1.0, 1e38])


C3D_MUTATIONS: dict[str, tuple[Mutation, int]] = {
    # name: (mutation, weight)
    "truncated": (truncate, 6),
    "truncated in data": (truncate_data, 4),
    "header bytes": (flip_header, 8),
    "parameter bytes": (flip_parameters, 14),
    "data bytes": (flip_data, 5),
    "header frame numbers": (header_frames, 3),
    "POINT:FRAMES absurd": (_param_value("POINT:FRAMES", [0, 1, 65535, 32767, 40000]), 3),
    "POINT:USED absurd": (_param_value("POINT:USED", [0, 1, 32767, 255, 65535]), 3),
    "LABELS dimensions": (labels_dims, 3),
    "POINT:SCALE bad": (_param_value("POINT:SCALE", [0.0, math.nan, math.inf, -math.inf]), 4),
    "POINT:SCALE huge": (_param_value("POINT:SCALE", [1e38, -1e38, 1e-38]), 2),
    "POINT:RATE bad": (_param_value("POINT:RATE", [0.0, math.nan, math.inf, -120.0, 1e30]), 4),
    "POINT:DATA_START bad": (_param_value("POINT:DATA_START", [0, 1, 2, 32767, -1]), 3),
    "ANALOG:USED absurd": (_param_value("ANALOG:USED", [32767, 1000, -1]), 2),
    "ANALOG:RATE bad": (_param_value("ANALOG:RATE", [math.nan, 0.0, 1e30]), 2),
    "analog channels without scales": (analog_without_scales, 2),
    "ROTATION:RATIO bad": (_param_value("ROTATION:RATIO", [-1, -24576, 32767]), 2),
    "ROTATION:USED": (_param_value("ROTATION:USED", [1, 5]), 2),
    "header data start": (header_data_start, 2),
    "labels all equal": (same_labels, 2),
    "labels empty": (empty_labels, 2),
    "labels NUL": (nul_labels, 1),
    "labels only prefixes": (colon_labels, 1),
    "labels non-UTF-8": (non_utf8_labels, 2),
    "one label non-UTF-8": (non_utf8_one_label, 2),
    "units broken": (units, 3),
    "parameter block pointer": (param_block_pointer, 2),
    "parameter block count": (param_block_count, 2),
    "processor byte": (processor, 2),
    "coordinates 1e38": (_data_floats(_extreme), 3),
    "one marker extreme": (_data_floats(_one_extreme), 3),
    "coordinates all zero": (_data_floats(_all_zero), 2),
    "frozen frames": (_data_floats(_frozen), 2),
    "all markers one point": (_data_floats(_same_point), 2),
    "coordinates tiny": (_data_floats(_tiny), 2),
    "residuals bad": (_data_floats(_residual_noise), 2),
}


def damaged_c3ds(rng: random.Random, sources: list[bytes], n: int, cmu: bytes) -> list[Case]:
    names = list(C3D_MUTATIONS)
    weights = [C3D_MUTATIONS[k][1] for k in names]
    cases = [
        Case("C3D: empty file", b"", cmu),
        Case("C3D: a markerset", cmu, cmu),
        Case("C3D: random bytes", rng.randbytes(300_000), cmu),
    ]
    while len(cases) < n:
        name = rng.choices(names, weights)[0]
        source = rng.choice(sources)
        try:
            blob = C3D_MUTATIONS[name][0](rng, source)
        except (KeyError, IndexError, struct.error, ValueError, myo_retarget.C3DReadError):
            continue  # the source has no such parameter: pick another mutation
        cases.append(Case(f"C3D: {name}", blob, cmu, c3d_name=f"case{len(cases):03d}.c3d"))
    return cases


# --------------------------------------------------------------------------- hostile markersets


def _cmu_markers() -> list[tuple[str, str, str]]:
    """(body, name, pos) of each marker of the shipped cmu markerset."""
    return re.findall(r'body="([^"]+)" name="([^"]+)" pos="([^"]+)"', CMU_XML.read_text())


def _doc(markers: list[str], root: str = '<markers name="fuzz">') -> bytes:
    return (root + "\n" + "\n".join(markers) + "\n</markers>\n").encode()


def _marker(body: str, name: str, pos: str, weight: str = "1", movable: str = "0") -> str:
    return (
        f'<marker body="{body}" name="{name}" pos="{pos}" movable="{movable}" '
        f'ik_weight="{weight}"/>'
    )


def hostile_markersets(rng: random.Random) -> list[tuple[str, bytes]]:
    base = _cmu_markers()

    def each(
        pos: Callable[[int, str], str] | None = None,
        weight: Callable[[int], str] | None = None,
        body: Callable[[int, str], str] | None = None,
        name: Callable[[int, str], str] | None = None,
    ) -> bytes:
        return _doc(
            [
                _marker(
                    body(i, b) if body else b,
                    name(i, n) if name else n,
                    pos(i, p) if pos else p,
                    weight(i) if weight else "1",
                )
                for i, (b, n, p) in enumerate(base)
            ]
        )

    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    billion = f'<?xml version="1.0"?>\n<!DOCTYPE lolz [{entities}]>\n<markers name="&lol9;"/>'
    many = 20_000_000 // len("<m/>")
    cmu = CMU_XML.read_bytes()
    return [
        ("20 MB of tiny elements", b"<markers>" + b"<m/>" * many + b"</markers>"),
        (
            "250,000 valid markers",
            _doc([_marker("pelvis", f"M{i}", "0 0 0") for i in range(250_000)]),
        ),
        ("deep nesting", b"<markers>" + b"<a>" * 200_000 + b"</a>" * 200_000 + b"</markers>"),
        ("10 MB attribute", _doc([_marker("pelvis", "X" * 10_000_000, "0 0 0")])),
        (
            "50,000 attributes",
            _doc(["<marker " + " ".join(f'a{i}="1"' for i in range(50_000)) + "/>"]),
        ),
        (
            "10 MB comment",
            b"<markers><!--" + b"x" * 10_000_000 + b"-->" + cmu[cmu.index(b"<marker ") :],
        ),
        ("coordinates 1e300", each(pos=lambda i, p: "1e300 1e300 1e300")),
        ("one coordinate 1e300", each(pos=lambda i, p: "1e300 0 0" if i == 3 else p)),
        ("coordinates 1e30", each(pos=lambda i, p: "1e30 -1e30 1e30")),
        ("coordinates NaN", each(pos=lambda i, p: "nan nan nan")),
        ("coordinates inf", each(pos=lambda i, p: "inf -inf inf")),
        ("coordinates all zero", each(pos=lambda i, p: "0 0 0")),
        ("coordinates 1e-300", each(pos=lambda i, p: "1e-300 1e-300 1e-300")),
        ("every ik_weight 0", each(weight=lambda i: "0")),
        ("ik_weight 0 but one", each(weight=lambda i: "1" if i == 0 else "0")),
        ("negative weights", each(weight=lambda i: "-1")),
        ("ik_weight 1e300", each(weight=lambda i: "1e300")),
        ("ik_weight 1e-300", each(weight=lambda i: "1e-300")),
        ("ik_weight mixed 1e300 and 1", each(weight=lambda i: "1e300" if i % 2 else "1")),
        ("ik_weight NaN", each(weight=lambda i: "nan")),
        ("unknown bodies", each(body=lambda i, b: b + "_x")),
        ("every marker on the pelvis", each(body=lambda i, b: "pelvis")),
        ("every marker on a toe", each(body=lambda i, b: "toes_r")),
        ("duplicate names", each(name=lambda i, n: "LFHD")),
        ("names differ in case only", each(name=lambda i, n: n.lower() if i % 2 else n)),
        ("billion laughs", billion.encode()),
        (
            "external entity",
            b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<markers>&x;</markers>",
        ),
        ("non-UTF-8 bytes", cmu.replace(b'name="LFHD"', b'name="LF\xff\xfeHD"')),
        (
            "latin-1 declared",
            b'<?xml version="1.0" encoding="latin-1"?>' + cmu.replace(b"LFHD", b"LF\xe9HD"),
        ),
        (
            "encoding that lies",
            b'<?xml version="1.0" encoding="ascii"?>' + cmu.replace(b"LFHD", b"LF\xc3\xa9HD"),
        ),
        ("UTF-16", cmu.decode().encode("utf-16")),
        ("unknown encoding", b'<?xml version="1.0" encoding="klingon"?>' + cmu),
        ("empty", b""),
        ("whitespace only", b"  \n\t\n"),
        ("NUL bytes", b"\0" * 4096),
        ("random bytes", rng.randbytes(4096)),
        ("a C3D file", SAMPLE.read_bytes()),
        (
            "wrong root",
            cmu.replace(b"<markers", b"<marker_set", 1).replace(b"</markers>", b"</marker_set>"),
        ),
        ("no markers", b'<markers name="none"/>'),
        ("cut in half", cmu[: len(cmu) // 2]),
        ("pos with two numbers", each(pos=lambda i, p: "0.1 0.2")),
        ("pos in hex", each(pos=lambda i, p: "0x1 0x2 0x3")),
        ("movable 2", cmu.replace(b'movable="1.0"', b'movable="2"')),
        (
            "left and right swapped",
            each(body=lambda i, b: b[:-2] + {"_r": "_l", "_l": "_r"}.get(b[-2:], b[-2:])),
        ),
        ("huge weights and offsets", each(pos=lambda i, p: "100 100 100", weight=lambda i: "1e6")),
    ]


# --------------------------------------------------------------------------- running


def _vmhwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _normalise(message: str) -> str:
    """Fold a message's numbers, quoted names and file names so one class is one line."""
    text = re.sub(r"case\d+\.c3d", "FILE.c3d", message)
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"-?\d+(\.\d+)?(e[+-]?\d+)?", "N", text)
    return text[:220]


def _seconds(job: dict[str, Any]) -> float:
    if not job.get("started_at") or not job.get("completed_at"):
        return 0.0
    start = datetime.fromisoformat(job["started_at"])
    return (datetime.fromisoformat(job["completed_at"]) - start).total_seconds()


def run(cases: list[Case], workers: int, job_timeout: float, deadline: float) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-jobs-") as data:
        srv = LocalServer(data_dir=data, workers=workers, rate_limit_per_second=0).start()
        try:
            _run(srv, cases, job_timeout, deadline)
        finally:
            srv.stop()


def _run(srv: LocalServer, cases: list[Case], job_timeout: float, deadline: float) -> None:
    client = httpx.Client(
        base_url=srv.base_url, headers={"X-Api-Key": srv.api_key}, timeout=120.0, trust_env=False
    )
    peaks: dict[int, int] = {}

    def sample_memory() -> None:
        for pid in srv.runtime.pool.worker_pids():
            peaks[pid] = max(peaks.get(pid, 0), _vmhwm_kib(pid))

    uploaded: dict[tuple[str, str], str] = {}

    def asset(data: bytes, name: str) -> str:
        key = (hashlib.sha256(data).hexdigest(), name)
        if key not in uploaded:
            uploaded[key] = upload(client, data, name)
        return uploaded[key]

    kinds: dict[str, str] = {}
    t0 = time.monotonic()
    for case in cases:
        body = {
            "c3d_asset_id": asset(case.c3d, case.c3d_name),
            "markerset_asset_id": asset(case.markerset, case.markerset_name),
        }
        r = client.post("/v1/runs/retarget", json=body)
        assert r.status_code in (200, 201, 202), r.text
        kinds[r.json()["job_id"]] = case.kind
        sample_memory()
    print(f"{len(cases)} jobs queued in {time.monotonic() - t0:.1f} s")

    stuck: set[str] = set()
    end = time.monotonic() + deadline
    pending = set(kinds)
    while pending - stuck and time.monotonic() < end:
        time.sleep(1.0)
        sample_memory()
        now = datetime.now().astimezone()
        open_jobs: dict[str, dict[str, Any]] = {}
        offset = 0
        while True:
            r = client.get(
                "/v1/jobs", params={"status": "QUEUED,RUNNING", "limit": 100, "offset": offset}
            )
            page = r.json()
            open_jobs.update({j["job_id"]: j for j in page["jobs"]})
            offset += 100
            if offset >= page["total"]:
                break
        pending = set(open_jobs)
        for job_id, job in open_jobs.items():
            started = job.get("started_at")
            running = (now - datetime.fromisoformat(started)).total_seconds() if started else 0
            if job["status"] == "RUNNING" and running > job_timeout:
                stuck.add(job_id)
        done = len(kinds) - len(pending)
        print(f"\r  {done}/{len(kinds)} terminal, {len(stuck)} stuck", end="", flush=True)
    print()
    stuck |= pending  # whatever is not terminal at the deadline

    jobs = [client.get(f"/v1/jobs/{job_id}").json() for job_id in kinds]
    sample_memory()
    statuses = Counter(j["status"] for j in jobs)
    messages: Counter[str] = Counter()
    examples: dict[str, str] = {}
    internal = 0
    for j in jobs:
        if j["status"] not in TERMINAL_STATUSES:
            continue
        error = j.get("error") or {}  # {error_message, error_type} since issue 12
        text = error.get("error_message") or j.get("message") or ""
        kind = error.get("error_type")
        if j["status"] == "FAILED" and (text.startswith(INTERNAL) or kind == INTERNAL_TYPE):
            internal += 1
        key = f"{j['status']}{f' {kind}' if kind else ''}: {_normalise(text)}"
        messages[key] += 1
        examples.setdefault(key, f"{kinds[j['job_id']]} -> {text[:400]}")

    print("\nfinal status:", ", ".join(f"{s} {n}" for s, n in statuses.most_common()))
    print(f"stuck (not terminal within {job_timeout:.0f} s of starting): {len(stuck)}")
    for job_id in sorted(stuck):
        print(f"  {job_id}  {kinds[job_id]}")
    print(f"messages that only say {INTERNAL!r} (or error_type {INTERNAL_TYPE}): {internal}")
    by_time = max(jobs, key=_seconds)
    print(f"longest job: {_seconds(by_time):.1f} s ({kinds[by_time['job_id']]})")
    peak = max(peaks.values(), default=0)
    print(
        f"worker peak RSS (VmHWM): {peak / 1024:.0f} MiB max over {len(peaks)} worker "
        f"process(es): " + ", ".join(f"{v / 1024:.0f}" for v in sorted(peaks.values()))
    )
    print("\nmessages (numbers and quoted names folded), count, first case:")
    for key, n in messages.most_common():
        print(f"{n:4d}  {key}\n      e.g. {examples[key]}")
    print("\nper case kind -> final status:")
    per_kind: dict[str, Counter[str]] = {}
    for j in jobs:
        per_kind.setdefault(kinds[j["job_id"]], Counter())[j["status"]] += 1
    for kind in sorted(per_kind):
        print(f"  {kind:45} " + ", ".join(f"{s} {n}" for s, n in per_kind[kind].items()))
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--c3d", type=int, default=200, help="damaged C3D cases")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--job-timeout", type=float, default=120.0, help="stuck after (s)")
    parser.add_argument("--deadline", type=float, default=1800.0, help="overall wait (s)")
    parser.add_argument("--only", choices=["c3d", "markersets"], help="run one family only")
    parser.add_argument("--save", type=Path, help="also write every case's files to this folder")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"fuzz_jobs: {machine_line()}, seed {args.seed}, {args.workers} workers")
    cmu = CMU_XML.read_bytes()
    sample = SAMPLE.read_bytes()
    cases: list[Case] = []
    with tempfile.TemporaryDirectory(prefix="fuzz-src-") as tmp:
        sources = [sample, *synthetic_sources(Path(tmp))]
    if args.only != "markersets":
        cases += damaged_c3ds(rng, sources, args.c3d, cmu)
    if args.only != "c3d":
        cases += [
            Case(f"markerset: {kind}", sample, xml, markerset_name=f"{i:02d}.xml")
            for i, (kind, xml) in enumerate(hostile_markersets(rng))
        ]
    print(
        f"{sum(c.kind.startswith('C3D') for c in cases)} damaged C3Ds, "
        f"{sum(c.kind.startswith('markerset') for c in cases)} hostile markersets"
    )
    if args.save:
        save(cases, args.save)
    run(cases, args.workers, args.job_timeout, args.deadline)


def save(cases: list[Case], folder: Path) -> None:
    """Write each case as ``NNN_<kind>.c3d`` and ``NNN_<kind>.xml`` (to replay one by hand)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, case in enumerate(cases):
        stem = f"{i:03d}_" + re.sub(r"[^A-Za-z0-9]+", "_", case.kind).strip("_")
        (folder / f"{stem}.c3d").write_bytes(case.c3d)
        (folder / f"{stem}.xml").write_bytes(case.markerset)


if __name__ == "__main__":
    main()
