"""What kind of failure ended a job: the ``error_type`` of a FAILED job's ``error``.

The names are stable (clients branch on them); the message says the rest.
"""

from __future__ import annotations

__all__ = [
    "CHARACTER",
    "ENGINE_CRASH",
    "ERROR_TYPES",
    "EXPORT",
    "INTERNAL",
    "INVALID_INPUT",
    "INVALID_MARKERSET",
    "INVALID_RECORDING",
    "MARKERSET_MISMATCH",
    "MISSING_INPUT",
    "OUT_OF_MEMORY",
    "OUT_OF_SPACE",
    "TIMEOUT",
]

INVALID_RECORDING = "INVALID_RECORDING"
INVALID_MARKERSET = "INVALID_MARKERSET"
MARKERSET_MISMATCH = "MARKERSET_MISMATCH"
INVALID_INPUT = "INVALID_INPUT"
MISSING_INPUT = "MISSING_INPUT"
CHARACTER = "CHARACTER"
EXPORT = "EXPORT"
TIMEOUT = "TIMEOUT"
OUT_OF_MEMORY = "OUT_OF_MEMORY"
OUT_OF_SPACE = "OUT_OF_SPACE"
ENGINE_CRASH = "ENGINE_CRASH"
INTERNAL = "INTERNAL"

#: Every error_type, with what it means (the API's field description lists them).
ERROR_TYPES: dict[str, str] = {
    INVALID_RECORDING: "the marker recording (C3D or tracker table) is unreadable or unusable",
    INVALID_MARKERSET: "the markerset XML is invalid",
    MARKERSET_MISMATCH: "the recording's labels do not match the markerset's markers",
    INVALID_INPUT: "another input or option is unusable (e.g. the fit failed on it)",
    MISSING_INPUT: "an input file is no longer in storage (asset deleted)",
    CHARACTER: "the character version cannot be used",
    EXPORT: "an output could not be written",
    TIMEOUT: "the job ran longer than the server's limit per job",
    OUT_OF_MEMORY: "the job needed more memory than a worker may use",
    OUT_OF_SPACE: "the server's disk is full",
    ENGINE_CRASH: "the worker running it died (or its host stopped) on each attempt",
    INTERNAL: "an unexpected server error (see the server log)",
}
