"""Check a C3D file's header and parameter section before ezc3d reads it.

ezc3d trusts what the parameter section says: a corrupted record size makes it read out of bounds,
a corrupted count or rate makes it allocate without bound (a negative ``ROTATION:RATIO`` asked for
gigabytes), and some values make it crash the process (segfault, abort). These checks walk the
records (a few hundred at most) and refuse, naming the parameter, every value found by fuzzing to
do harm, so that a damaged upload fails its job with a reason instead of taking a worker down.
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass

from ._exceptions import C3DReadError

__all__ = ["HEAD_BYTES", "Layout", "Parameter", "check_file", "parameter_layout", "read_head"]

# The header and parameter section lie within the first 510 blocks (both block counts are bytes).
HEAD_BYTES = 510 * 512

_PROCESSORS = {84: "Intel", 85: "DEC", 86: "SGI"}
# Parameters ezc3d reads as scalars: when present they must hold a value (an empty one can
# crash it).
_SCALARS = (
    "POINT:USED",
    "POINT:RATE",
    "POINT:SCALE",
    "POINT:DATA_START",
    "POINT:FRAMES",
    "ANALOG:USED",
    "ANALOG:RATE",
    "ANALOG:GEN_SCALE",
)
# ezc3d builds per-frame objects for every announced analog sample and rotation sample, even when
# no channel uses them: these bound what a file may ask for before its size vouches for it.
MAX_ANALOG_SAMPLES_PER_FRAME = 10_000
MAX_ROTATION_SAMPLES = 1_000_000
_DAMAGED = "the file is damaged, re-export it"


@dataclass(frozen=True)
class Parameter:
    """Where one parameter's data lies in the file.

    Attributes:
        kind: -1 text, 1 byte, 2 int16, 4 float; 0 when it holds no value.
        dims: Its dimensions.
        at: Byte offset of its data in the file.
    """

    kind: int
    dims: tuple[int, ...]
    at: int


@dataclass(frozen=True)
class Layout:
    """What :func:`check_file` learnt of a file.

    Attributes:
        processor: ``Intel`` or ``DEC``.
        parameters: ``GROUP:NAME`` (upper case) -> :class:`Parameter`.
        frames: The frame count POINT:FRAMES announces (ezc3d rewrites it to what it could read),
            or None when the file does not say.
    """

    processor: str
    parameters: dict[str, Parameter]
    frames: int | None


def read_head(path: str) -> tuple[bytes, int, str]:
    """The file's first bytes (header and parameters), its size and its SHA-256.

    The file is streamed, so hashing a long recording does not hold a second copy of it.
    """
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                if size < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - size]
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        raise C3DReadError(path, "file not found") from None
    except IsADirectoryError:
        raise C3DReadError(path, "is a directory, not a C3D file") from None
    except OSError as exc:
        raise C3DReadError(path, f"cannot be read: {exc.strerror or exc}") from None
    return head, size, digest.hexdigest()


def check_file(path: str, blob: bytes, size: int) -> Layout:
    """Validate the header and the parameter section of a file of ``size`` bytes.

    Args:
        path: The file, for messages.
        blob: Its first :data:`HEAD_BYTES` bytes.
        size: Its size.

    Raises:
        C3DReadError: Not a C3D, an SGI file, a record that does not fit, or a value that would
            make ezc3d crash, hang or allocate without bound.
    """
    if size == 0:
        raise C3DReadError(path, "the file is empty")
    if size < 512 or blob[1] != 0x50:
        looks = (
            " (it looks like XML text: is it the markerset?)" if blob.lstrip()[:1] == b"<" else ""
        )
        raise C3DReadError(
            path, f"not a C3D file (the header's C3D signature byte 0x50 is missing){looks}"
        )
    param_block = blob[0]
    if param_block < 2:
        raise C3DReadError(
            path, f"corrupt header: parameter section at block {param_block}; {_DAMAGED}"
        )
    start = (param_block - 1) * 512
    if size < start + 4:
        raise C3DReadError(
            path,
            f"truncated: the file ends ({size} bytes) before its parameters; upload or copy the "
            "whole file again",
        )
    proc_byte = blob[start + 3]
    processor = _PROCESSORS.get(proc_byte)
    if processor is None:
        raise C3DReadError(
            path,
            f"corrupt parameter section: unknown processor type byte {proc_byte} (expected 84 "
            f"Intel, 85 DEC or 86 SGI); {_DAMAGED}",
        )
    if processor == "SGI":
        raise C3DReadError(
            path,
            "it uses the SGI/MIPS (big-endian) processor format, which ezc3d cannot read; "
            "re-export it as an Intel (PC) C3D, e.g. from your capture software or with a C3D "
            "converter, and try again",
        )
    n_blocks = blob[start + 2]
    end = start + max(n_blocks, 1) * 512
    if end > size:
        raise C3DReadError(
            path,
            f"truncated: the parameter section ({n_blocks} blocks) runs past the end of the "
            f"file ({size} bytes); upload or copy the whole file again",
        )
    # ezc3d reads the data from where the header says, whatever POINT:DATA_START says.
    data_block = struct.unpack_from("<H", blob, 16)[0]
    if data_block < param_block + n_blocks:
        raise C3DReadError(
            path,
            f"corrupt header: the data section starts at block {data_block}, before the end of "
            f"the parameter section (block {param_block + n_blocks}); {_DAMAGED}",
        )
    params = _walk(path, blob, start + 4, end)
    values = _Values(path, blob, params, dec=processor == "DEC")
    frames = values.check(size, data_block)
    return Layout(processor, params, frames)


def parameter_layout(blob: bytes) -> dict[str, Parameter]:
    """``GROUP:NAME`` -> :class:`Parameter` of a file's parameter section (its first bytes).

    For tools that edit files (tests, fuzzing); raises :class:`C3DReadError` like the reader.
    """
    start = (blob[0] - 1) * 512
    return _walk("<bytes>", blob, start + 4, start + max(blob[start + 2], 1) * 512)


# --------------------------------------------------------------------------- records


def _walk(path: str, blob: bytes, offset: int, end: int) -> dict[str, Parameter]:
    """Check that each group/parameter record fits inside the section (ezc3d trusts the sizes)."""
    groups: dict[int, str] = {}
    found: list[tuple[int, str, Parameter]] = []
    while offset + 2 <= end:
        name_len = abs(struct.unpack_from("<b", blob, offset)[0])
        record_id = struct.unpack_from("<b", blob, offset + 1)[0]
        if name_len == 0 or record_id == 0:
            break  # end-of-parameters marker
        next_field = offset + 2 + name_len
        name = blob[offset + 2 : min(next_field, end)].decode("latin-1")
        if next_field + 2 > end:
            raise _corrupt(path, offset, name, "its name runs past the section")
        (to_next,) = struct.unpack_from("<h", blob, next_field)
        if to_next < 0:  # ezc3d would seek backwards
            raise _corrupt(path, offset, name, "its offset to the next record is negative")
        limit = end if to_next == 0 else next_field + to_next
        if limit > end:
            raise _corrupt(path, offset, name, "it points past the end of the section")
        body = next_field + 2
        if record_id > 0:  # a parameter: type, dimensions, data, description
            if body + 2 > limit:
                raise _corrupt(path, offset, name, "its header is cut short")
            kind = struct.unpack_from("<b", blob, body)[0]
            n_dims = blob[body + 1]
            # The C3D format allows at most 7 dimensions; ezc3d reads the count signed (a
            # corrupt count of 128+ crashes it).
            if kind not in (-1, 1, 2, 4) or n_dims > 7 or body + 2 + n_dims > limit:
                raise _corrupt(path, offset, name, "it has an invalid type or dimensions")
            if kind == -1 and n_dims == 0:
                raise _corrupt(path, offset, name, "it is a text parameter without dimensions")
            dims = tuple(blob[body + 2 : body + 2 + n_dims])
            count = math.prod(dims)
            data_at = body + 2 + n_dims
            desc_at = data_at + abs(kind) * count
            if desc_at + 1 > limit or desc_at + 1 + blob[desc_at] > limit:
                raise _corrupt(
                    path, offset, name, "its dimensions claim more data than the record holds"
                )
            _check_description(path, offset, name, blob[desc_at])
            found.append((record_id, name.upper(), Parameter(kind if count else 0, dims, data_at)))
        else:
            if body + 1 > limit or body + 1 + blob[body] > limit:
                raise _corrupt(path, offset, name, "its description runs past the record")
            _check_description(path, offset, name, blob[body])
            groups[-record_id] = name.upper()
        if to_next == 0:
            break
        offset = limit
    return {f"{groups.get(g, f'#{g}')}:{n}": p for g, n, p in found}


def _check_description(path: str, offset: int, name: str, length: int) -> None:
    # ezc3d reads this length as a signed byte: 128..255 make it fail or crash.
    if length > 127:
        raise _corrupt(path, offset, name, f"its description length {length} exceeds 127")


def _corrupt(path: str, offset: int, name: str, what: str) -> C3DReadError:
    # A damaged name is bytes, not text: quoting it would put control characters in the message.
    record = (
        f"record {name!r}"
        if name and name.isascii() and name.isprintable()
        else "a record with an unreadable name"
    )
    return C3DReadError(
        path,
        f"malformed parameter section: {record} at byte {offset}: {what}; the file is damaged "
        "or was written by a non-conforming exporter, re-export it",
    )


# --------------------------------------------------------------------------- values


class _Values:
    """The parameter values ezc3d sizes its reading by, read as ezc3d reads them."""

    def __init__(self, path: str, blob: bytes, params: dict[str, Parameter], *, dec: bool):
        self.path = path
        self.blob = blob
        self.params = params
        self.dec = dec

    def number(self, name: str) -> float | None:
        """The first value of ``name`` (int16 read signed, as ezc3d does), or None if absent."""
        p = self.params.get(name)
        if p is None or p.kind == 0:
            return None
        if p.kind == 4:
            if self.dec:  # DEC floats: 16-bit words swapped, exponent bias 2 higher
                word_swapped = self.blob[p.at + 2 : p.at + 4] + self.blob[p.at : p.at + 2]
                return float(struct.unpack("<f", word_swapped)[0]) / 4.0
            return float(struct.unpack_from("<f", self.blob, p.at)[0])
        if p.kind == 2:
            return float(struct.unpack_from("<h", self.blob, p.at)[0])
        return float(self.blob[p.at])

    def count(self, name: str) -> int:
        p = self.params.get(name)
        return math.prod(p.dims) if p is not None and p.kind else 0

    def damaged(self, what: str) -> C3DReadError:
        return C3DReadError(self.path, f"malformed parameter section: {what}; {_DAMAGED}")

    def check(self, size: int, data_block: int) -> int | None:
        """Check the values, then that the data they announce fits in the file.

        Returns:
            The frame count POINT:FRAMES announces, or None.
        """
        for name in _SCALARS:
            p = self.params.get(name)
            if p is not None and p.kind == 0:
                raise self.damaged(f"{name} has no value")
        points = self._used("POINT:USED")
        analogs = self._used("ANALOG:USED")
        point_rate = self._rate("POINT:RATE", f"POINT:USED is {points}" if points else "")
        analog_rate = self._rate("ANALOG:RATE", f"ANALOG:USED is {analogs}" if analogs else "")
        if analogs:
            absent = [p for p in ("ANALOG:SCALE", "ANALOG:OFFSET") if p not in self.params]
            if absent:
                raise self.damaged(
                    f"ANALOG:USED is {analogs} but {' and '.join(absent)} is missing"
                )
            for name in ("ANALOG:SCALE", "ANALOG:OFFSET"):  # ezc3d indexes them per channel
                if self.count(name) < analogs:
                    raise self.damaged(
                        f"ANALOG:USED is {analogs} but {name} holds {self.count(name)} values"
                    )
        scale = self.number("POINT:SCALE")
        if points and scale is not None and not (math.isfinite(scale) and scale != 0):
            raise self.damaged(
                f"POINT:SCALE is {scale:g} (it must be a non-zero number: negative for float "
                "data, the integer scale factor otherwise)"
            )
        per_frame = 0
        if point_rate and analog_rate:
            ratio = analog_rate / point_rate
            if ratio > MAX_ANALOG_SAMPLES_PER_FRAME:
                raise self.damaged(
                    f"ANALOG:RATE {analog_rate:g} Hz and POINT:RATE {point_rate:g} Hz make "
                    f"{ratio:.3g} analog samples per frame (at most "
                    f"{MAX_ANALOG_SAMPLES_PER_FRAME} are accepted)"
                )
            per_frame = round(ratio)
        frames = self._frames()
        self._rotations(frames)
        if self._used("EVENT_CONTEXT:USED"):
            empty = [
                n for n, p in self.params.items() if n.startswith("EVENT_CONTEXT:") and not p.kind
            ]
            if empty:
                raise self.damaged(f"EVENT_CONTEXT is used but {empty[0]} is empty")
        word = 4 if scale is None or scale < 0 else 2
        frame_bytes = word * (4 * points + analogs * per_frame)
        self._fits(size, data_block, frames, frame_bytes, points, analogs, per_frame)
        return frames

    def _used(self, name: str) -> int:
        value = self.number(name)
        if value is None:
            return 0
        if value < 0:  # ezc3d turns a negative count into a huge size
            raise self.damaged(f"{name} is {value:g}, and a count cannot be negative")
        return int(value)

    def _rate(self, name: str, used: str = "") -> float:
        """The rate ``name`` (0 when absent); ``used`` says what needs it positive, if anything."""
        value = self.number(name)
        if value is None:
            return 0.0
        if not math.isfinite(value) or value < 0:
            raise self.damaged(f"{name} is {value:g} Hz (a sampling rate must be a number >= 0)")
        if used and value == 0:
            raise self.damaged(
                f"{name} is 0 Hz, but {used}: a sampling rate must be a positive number"
            )
        return value

    def _frames(self) -> int | None:
        p = self.params.get("POINT:FRAMES")
        if p is None or p.kind not in (2, 4):
            return None
        if p.kind == 2:  # unsigned: files beyond 32767 frames
            return int(struct.unpack_from("<H", self.blob, p.at)[0])
        value = self.number("POINT:FRAMES")
        return int(value) if value is not None and math.isfinite(value) and value >= 0 else None

    def _rotations(self, frames: int | None) -> None:
        """ezc3d's own ROTATION group: it reads it whenever the group exists."""
        if not any(n.startswith("ROTATION:") for n in self.params):
            return
        needed = ["ROTATION:USED", "ROTATION:DATA_START"]
        if "ROTATION:RATE" not in self.params:
            needed.append("ROTATION:RATIO")
        for name in needed:  # ezc3d refuses the group without them
            if name not in self.params:
                raise self.damaged(f"the ROTATION group lacks {name}")
        used = self._used("ROTATION:USED")
        if used:  # ezc3d 1.7 aborts the process reading them
            raise C3DReadError(
                self.path,
                f"it holds rotation data (ROTATION:USED {used}), which the C3D reader cannot load "
                "safely; re-export the recording without rotations (markers only)",
            )
        ratio = self.number("ROTATION:RATIO")
        if ratio is not None and ratio < 0:
            raise self.damaged(f"ROTATION:RATIO is {ratio:g}, and a ratio cannot be negative")
        self._rate("ROTATION:RATE")
        if ratio and frames and ratio * frames > MAX_ROTATION_SAMPLES:
            raise self.damaged(
                f"ROTATION:RATIO {ratio:g} asks for {ratio * frames:.3g} rotation samples (at most "
                f"{MAX_ROTATION_SAMPLES} are accepted)"
            )

    def _fits(
        self,
        size: int,
        data_block: int,
        frames: int | None,
        frame_bytes: int,
        points: int,
        analogs: int,
        per_frame: int,
    ) -> None:
        """Reject files shorter than the data their parameters announce.

        ezc3d allocates each frame before it finds the file's end, and otherwise silently reads
        what is there (rewriting its header and POINT:FRAMES to match), so a cut-off upload would
        look like a shorter recording.
        """
        if not frame_bytes or frames == 0:
            return
        data_at = (data_block - 1) * 512
        available = max(size - data_at, 0)
        if frame_bytes > available:
            analog = f" and {analogs} analog channels x {per_frame} samples" if analogs else ""
            raise C3DReadError(
                self.path,
                f"its parameters announce {points} points{analog} per frame ({frame_bytes} "
                f"bytes), more than the {available} bytes of data the file holds: the file is "
                "damaged or cut off; re-export it, or upload or copy the whole file again",
            )
        if frames is None or size >= data_at + frames * frame_bytes:
            return
        held, leftover = divmod(available, frame_bytes)
        # A file that stops exactly at a frame boundary is a writer that announced the wrong count
        # (NDI's Optotrak export does this); one that stops inside a frame was cut off.
        if leftover:
            raise C3DReadError(
                self.path,
                f"truncated: its parameters announce {frames} frames but the file ({size} bytes) "
                f"stops inside frame {held + 1}; upload or copy the whole file again",
            )
