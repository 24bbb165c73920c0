"""The shipped default humanoid and its catalog."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import mujoco
import numpy as np
import pytest

from myo_retarget import (
    DEFAULT_CHARACTER_ID,
    DEFAULT_CHARACTER_VERSION,
    CharacterError,
    RetargetOptions,
    _character,
    character_catalog,
    character_from_files,
    find_character,
    load_character,
    retarget,
    use_character,
    validate_character_files,
)

ROOT = Path(__file__).resolve().parents[2]

REQUIRED_BODIES = [
    "pelvis", "lumbar_spine", "thoracic_spine", "cervical_spine", "skull",
    "clavicle_r", "clavicle_l", "scapula_r", "scapula_l", "humerus_r", "humerus_l",
    "ulna_r", "ulna_l", "radius_r", "radius_l", "lunate_r", "lunate_l", "femur_r", "femur_l",
    "tibia_r", "tibia_l", "talus_r", "talus_l", "calcaneus_r", "calcaneus_l", "toes_r", "toes_l",
]  # fmt: skip


def test_catalog_holds_the_default_humanoid() -> None:
    info = find_character()
    assert info.character_id == DEFAULT_CHARACTER_ID == "0199e278-06e6-7726-a6ba-9929f79005e8"
    assert info.version == DEFAULT_CHARACTER_VERSION == "v1.0.0"
    assert set(info.files) == {"character.xml", "manifest.json"}
    assert info in character_catalog()
    assert info.manifest["default_height_m"] == 1.75
    validate_character_files(info.files)


def test_unknown_character_or_version_names_what_exists() -> None:
    with pytest.raises(CharacterError, match=r"unknown character_id .nope.*0199e278"):
        find_character("nope")
    with pytest.raises(CharacterError, match=r"no version .v9.*v1\.0\.0"):
        find_character(DEFAULT_CHARACTER_ID, "v9")


def test_validate_reports_a_broken_model(tmp_path: Path) -> None:
    info = find_character()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(info.manifest))
    broken = tmp_path / "character.xml"
    broken.write_text("<mujoco><worldbody><body><joint type='bogus'/></body></worldbody></mujoco>")
    with pytest.raises(CharacterError, match="does not compile"):
        validate_character_files({"manifest.json": manifest, "character.xml": broken})
    with pytest.raises(CharacterError, match="missing"):
        validate_character_files({"manifest.json": manifest})


def test_bodies_joints_and_conventions() -> None:
    ch = load_character()
    assert set(REQUIRED_BODIES) <= set(ch.body_names)
    for side in "rl":
        for j in ("hip_flex", "hip_abdu", "hip_arot", "knee_flex", "ankle_flex", "subtal_inve",
                  "elbow_flex", "wrist_pron", "wrist_flex", "wrist_devi"):  # fmt: skip
            assert f"{j}_{side}" in ch.hinge_names
    for j in ("lumbar", "thorax", "neck"):
        for motion in ("flex", "bend", "arot"):
            assert f"{j}_{motion}" in ch.hinge_names
    assert ch.hinge_names == find_character().manifest["joints"]
    m, d = ch.model, mujoco.MjData(ch.model)
    mujoco.mj_kinematics(m, d)
    # Standing at qpos0: head above pelvis above feet, right side at world -y (facing +x).
    z = {n: d.xpos[ch.body_id(n)][2] for n in ("skull", "pelvis", "talus_r")}
    assert z["skull"] > z["pelvis"] > z["talus_r"]
    assert d.xpos[ch.body_id("femur_r")][1] < 0 < d.xpos[ch.body_id("femur_l")][1]
    # The left side mirrors the right.
    for n in ("femur", "tibia", "calcaneus", "humerus", "ulna", "lunate"):
        r, left = d.xpos[ch.body_id(f"{n}_r")], d.xpos[ch.body_id(f"{n}_l")]
        np.testing.assert_allclose(r * [1, -1, 1], left, atol=1e-9)
    # Long bones run proximal -> distal along the body's -y: the knee is straight below the hip.
    pelvis_R = d.xmat[ch.body_id("pelvis")].reshape(3, 3)
    np.testing.assert_allclose(pelvis_R[:, 1], [0, 0, 1], atol=1e-9)  # body y = up
    np.testing.assert_allclose(pelvis_R[:, 2], [0, -1, 0], atol=1e-9)  # body z = subject's right


@pytest.mark.parametrize(
    ("joint", "child", "direction"),
    [
        ("knee_flex_r", "talus_r", -1),  # flexion moves the ankle backward (-x)
        ("hip_flex_r", "tibia_r", +1),  # hip flexion moves the knee forward
        ("elbow_flex_r", "lunate_r", +1),  # elbow flexion moves the wrist forward
        ("lumbar_flex", "skull", +1),  # forward bending moves the head forward
        ("ankle_flex_r", "toes_r", +1),  # dorsiflexion lifts the toes (checked on z below)
    ],
)
def test_flexion_is_positive(joint: str, child: str, direction: int) -> None:
    ch = load_character()
    m, d = ch.model, mujoco.MjData(ch.model)
    before = _pos(ch, d, child, {})
    after = _pos(ch, d, child, {joint: 0.3})
    axis = 2 if joint.startswith("ankle") else 0
    assert np.sign(after[axis] - before[axis]) == direction
    del m


def _pos(ch: object, d: mujoco.MjData, body: str, q: dict[str, float]) -> np.ndarray:
    from myo_retarget import Character

    assert isinstance(ch, Character)
    d.qpos[:] = ch.model.qpos0
    for name, value in q.items():
        d.qpos[ch.model.joint(name).qposadr[0]] = value
    mujoco.mj_kinematics(ch.model, d)
    return np.array(d.xpos[ch.body_id(body)])


def test_shipped_files_are_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location(
        "build_character", ROOT / "tools" / "build_character.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_character"] = module
    spec.loader.exec_module(module)
    root = module.character()
    vdir = ROOT / "src" / "myo_retarget" / "data" / "characters" / "myo_humanoid" / "v1.0.0"
    assert (vdir / "character.xml").read_text() == module.build_mjcf(root)
    assert json.loads((vdir / "manifest.json").read_text()) == module.build_manifest(root)


def _copied_default(folder: Path, **manifest_changes: object) -> dict[str, Path]:
    """The default character's files, copied (a server's stored copies), manifest changed."""
    shipped = find_character()
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, path in shipped.files.items():
        files[name] = folder / name
        files[name].write_bytes(Path(path).read_bytes())
    manifest = json.loads(files["manifest.json"].read_text())
    manifest.update(manifest_changes)
    files["manifest.json"].write_text(json.dumps(manifest))
    return files


def test_a_process_can_use_a_characters_files_from_elsewhere(
    tmp_path: Path, walk_c3d: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server's worker retargets from the stored copies: use_character makes every lookup by
    id and version (retarget, the exports, the viewer) use them."""
    monkeypatch.setattr(_character, "_IN_USE", {})  # this process's choice ends with the test
    shipped = find_character()
    options = RetargetOptions(frame_range=(0, 20), subject_height=1.8)
    before = retarget(walk_c3d, "cmu", options=options)

    copy = character_from_files(_copied_default(tmp_path / "same"))
    assert (copy.character_id, copy.version) == (shipped.character_id, shipped.version)
    use_character(copy)
    assert find_character() is copy
    same = retarget(walk_c3d, "cmu", options=options)
    np.testing.assert_array_equal(same.qpos, before.qpos)  # the same files, the same motion

    taller = shipped.manifest["default_height_m"] * 1.25
    use_character(character_from_files(_copied_default(tmp_path / "tall", default_height_m=taller)))
    assert load_character().default_height == pytest.approx(taller)
    changed = retarget(walk_c3d, "cmu", options=options)
    assert changed.scale_factors != before.scale_factors  # scaled from the copy's height


def test_character_files_without_their_model_are_refused(tmp_path: Path) -> None:
    files = _copied_default(tmp_path)
    del files["character.xml"]
    with pytest.raises(CharacterError, match=r"model file 'character\.xml'"):
        character_from_files(files)
    with pytest.raises(CharacterError, match=r"manifest\.json is missing"):
        character_from_files({"character.xml": tmp_path / "character.xml"})
