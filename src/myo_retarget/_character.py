"""Characters: the shipped MuJoCo models the engine retargets onto, and their catalog."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ._exceptions import CharacterError

DEFAULT_CHARACTER_ID = "0199e278-06e6-7726-a6ba-9929f79005e8"
DEFAULT_CHARACTER_VERSION = "v1.0.0"

_CHARACTERS_DIR = Path(__file__).parent / "data" / "characters"
MODEL_FILE = "character.xml"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class CharacterInfo:
    """One version of a shipped character, as the catalog lists it.

    Attributes:
        character_id: The API's id of the character.
        name: Short machine-friendly name.
        description: One sentence for people.
        version: Version label such as ``v1.0.0``.
        files: File name -> path of every file of this version (model and manifest).
        manifest: The parsed manifest.
    """

    character_id: str
    name: str
    description: str
    version: str
    files: dict[str, Path] = field(hash=False)
    manifest: dict[str, Any] = field(hash=False, repr=False)


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CharacterError(f"{path}: manifest file is missing") from None
    except (OSError, ValueError) as exc:
        raise CharacterError(f"{path}: manifest is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CharacterError(f"{path}: manifest must be a JSON object")
    for key in ("character_id", "name", "version", "model_file", "joints", "default_height_m"):
        if key not in data:
            raise CharacterError(f"{path}: manifest lacks the field {key!r}")
    return data


@cache
def character_catalog() -> tuple[CharacterInfo, ...]:
    """Every character version shipped with the engine, sorted by name then version."""
    infos = []
    for manifest_path in sorted(_CHARACTERS_DIR.glob(f"*/*/{MANIFEST_FILE}")):
        manifest = _read_manifest(manifest_path)
        vdir = manifest_path.parent
        infos.append(
            CharacterInfo(
                character_id=str(manifest["character_id"]),
                name=str(manifest["name"]),
                description=str(manifest.get("description", "")),
                version=str(manifest["version"]),
                files={p.name: p for p in sorted(vdir.iterdir()) if p.is_file()},
                manifest=manifest,
            )
        )
    return tuple(infos)


# Character versions this process uses from other files than the shipped ones (use_character).
_IN_USE: dict[tuple[str, str], CharacterInfo] = {}


def character_from_files(files: Mapping[str, str | os.PathLike[str]]) -> CharacterInfo:
    """A character version described by its files, e.g. a server's stored copies.

    Args:
        files: File name -> path: the manifest (``manifest.json``) and the files it names.

    Raises:
        CharacterError: The manifest is missing or unsound, or names a model file not given.
    """
    paths = {name: Path(path) for name, path in files.items()}
    if MANIFEST_FILE not in paths:
        raise CharacterError(f"{MANIFEST_FILE} is missing from the character's files")
    manifest = _read_manifest(paths[MANIFEST_FILE])
    if str(manifest["model_file"]) not in paths:
        raise CharacterError(
            f"{paths[MANIFEST_FILE]}: the model file {manifest['model_file']!r} it names is not"
            " among the character's files"
        )
    return CharacterInfo(
        character_id=str(manifest["character_id"]),
        name=str(manifest["name"]),
        description=str(manifest.get("description", "")),
        version=str(manifest["version"]),
        files=paths,
        manifest=manifest,
    )


def use_character(info: CharacterInfo) -> None:
    """Make this process use ``info``'s files for its character id and version, in place of
    the shipped ones (retargeting, the exports and the viewer all look characters up by id and
    version): a server's workers retarget from the stored copies this way."""
    _IN_USE[(info.character_id, info.version)] = info


def find_character(
    character_id: str = DEFAULT_CHARACTER_ID, version: str = DEFAULT_CHARACTER_VERSION
) -> CharacterInfo:
    """Look up one character version: one :func:`use_character` named, else a shipped one.

    Raises:
        CharacterError: unknown id or version; the message lists what exists.
    """
    if (character_id, version) in _IN_USE:
        return _IN_USE[(character_id, version)]
    catalog = character_catalog()
    same_id = [c for c in catalog if c.character_id == character_id]
    if not same_id:
        known = ", ".join(f"{c.character_id} ({c.name})" for c in catalog)
        raise CharacterError(f"unknown character_id {character_id!r}; known: {known}")
    for info in same_id:
        if info.version == version:
            return info
    versions = ", ".join(c.version for c in same_id)
    raise CharacterError(
        f"character {character_id!r} has no version {version!r}; versions: {versions}"
    )


def validate_character_files(files: Mapping[str, Path]) -> None:
    """Check that a character version's files exist, the manifest is sound and the model compiles.

    Args:
        files: File name -> path, as in :attr:`CharacterInfo.files` (the server passes the paths of
            its stored copies).

    Raises:
        CharacterError: naming the missing file or the compiler's complaint.
    """
    import mujoco

    if MANIFEST_FILE not in files:
        raise CharacterError(f"{MANIFEST_FILE} is missing from the character's files")
    manifest = _read_manifest(Path(files[MANIFEST_FILE]))
    model_name = str(manifest["model_file"])
    model_path = files.get(model_name)
    if model_path is None or not Path(model_path).is_file():
        raise CharacterError(f"model file {model_name!r} named by the manifest is missing")
    try:
        model = mujoco.MjModel.from_xml_path(str(model_path))
    except ValueError as exc:
        raise CharacterError(f"{model_name}: the model does not compile: {exc}") from None
    joints = {model.joint(i).name for i in range(model.njnt)}
    missing = [j for j in manifest["joints"] if j not in joints]
    if missing:
        raise CharacterError(f"{model_name}: joints listed in the manifest are absent: {missing}")


class Character:
    """A compiled character model with the names the engine needs.

    Attributes:
        info: The catalog entry.
        model: The compiled ``mujoco.MjModel`` (its ``body_pos`` is rescaled in place by
            calibration; :attr:`nominal_body_pos` keeps the shipped values).
        body_names: Names of bodies 1..nbody-1 (the world body excluded), in model order.
        hinge_names: Names of the hinge joints, in qpos order (after the 7 root coordinates).
        body_segment: Scale segment of each body (index = body id; world is ``""``).
        segments: Sorted names of the scale segments.
        default_height: Standing height the shipped model was built for, metres.
    """

    def __init__(self, info: CharacterInfo) -> None:
        import mujoco
        import numpy as np

        self.info = info
        model_path = info.files[str(info.manifest["model_file"])]
        try:
            self.model = mujoco.MjModel.from_xml_path(str(model_path))
        except ValueError as exc:
            raise CharacterError(f"{model_path}: the model does not compile: {exc}") from None
        m = self.model
        if m.njnt < 1 or m.jnt_type[0] != mujoco.mjtJoint.mjJNT_FREE:
            raise CharacterError(f"{model_path}: the first joint must be the free root joint")
        if any(m.jnt_type[j] != mujoco.mjtJoint.mjJNT_HINGE for j in range(1, m.njnt)):
            raise CharacterError(f"{model_path}: every joint but the root must be a hinge")
        self.body_names = [m.body(i).name for i in range(1, m.nbody)]
        self.hinge_names = [m.joint(j).name for j in range(1, m.njnt)]
        seg_of = {b["name"]: b["segment"] for b in info.manifest["bodies"]}
        self.body_segment = [""] + [seg_of.get(n, "") for n in self.body_names]
        self.segments = sorted({s for s in self.body_segment if s})
        self.default_height = float(info.manifest["default_height_m"])
        self.nominal_body_pos = np.array(m.body_pos, copy=True)

    @property
    def character_id(self) -> str:
        return self.info.character_id

    @property
    def version(self) -> str:
        return self.info.version

    @property
    def qpos_names(self) -> list[str]:
        """Names of the qpos coordinates: root position, root quaternion, then hinges."""
        root = ["root_x", "root_y", "root_z", "root_qw", "root_qx", "root_qy", "root_qz"]
        return root + self.hinge_names

    def body_id(self, name: str) -> int:
        """Model id of a body, or :class:`CharacterError` listing the valid names."""
        try:
            return self.body_names.index(name) + 1
        except ValueError:
            raise CharacterError(
                f"character {self.info.name} has no body {name!r}; bodies: "
                + ", ".join(self.body_names)
            ) from None


def load_character(
    character_id: str = DEFAULT_CHARACTER_ID, version: str = DEFAULT_CHARACTER_VERSION
) -> Character:
    """Compile a fresh copy of a shipped character (each call returns an independent model)."""
    return Character(find_character(character_id, version))
