from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pygltflib
import pytest
from numpy.typing import NDArray

from myo_retarget import CharacterError, Motion, RetargetOptions, retarget
from myo_retarget._export_glb import _continuous, write_glb
from myo_retarget._skeleton import quat_multiply, quat_rotate

from .export_checks import validate_gltf

FloatArray = NDArray[np.float64]


@pytest.fixture(scope="module")
def motion(walk_c3d: Path) -> Motion:
    return retarget(walk_c3d, "cmu", options=RetargetOptions(frame_range=(0, 40)))


def _accessor(gltf: Any, index: int) -> FloatArray:
    acc = gltf.accessors[index]
    view = gltf.bufferViews[acc.bufferView]
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[acc.type]
    raw = gltf.binary_blob()[view.byteOffset : view.byteOffset + view.byteLength]
    return np.frombuffer(raw, dtype=np.float32).reshape(acc.count, width).astype(np.float64)


@pytest.mark.parametrize("markers", [False, True])
def test_glb_passes_the_khronos_validator(motion: Motion, tmp_path: Path, markers: bool) -> None:
    path = tmp_path / "walk.glb"
    write_glb(motion, path, markers=markers)
    issues = validate_gltf(path)["issues"]
    assert (issues["numErrors"], issues["numWarnings"]) == (0, 0), issues["messages"]


def test_glb_nodes_animate_the_bodies_where_the_motion_has_them(
    motion: Motion, tmp_path: Path
) -> None:
    """One node per body with its name and parent, a translation and a rotation channel per
    body, and the nodes' world positions (Y-up) reproduce motion.body_positions within 1 mm."""
    path = tmp_path / "walk.glb"
    write_glb(motion, path)
    gltf = pygltflib.GLTF2.load_binary(path)
    names = [n.name for n in gltf.nodes]
    assert names == motion.body_names
    parent = {c: p for p, n in enumerate(gltf.nodes) for c in n.children}
    assert [names[r] for r in gltf.scenes[0].nodes] == ["pelvis"]
    assert names[parent[names.index("tibia_r")]] == "femur_r"
    (animation,) = gltf.animations
    channels = {(c.target.node, c.target.path): c.sampler for c in animation.channels}
    assert set(channels) == {(b, p) for b in range(len(names)) for p in ("translation", "rotation")}
    times = _accessor(gltf, animation.samplers[0].input)[:, 0]
    np.testing.assert_allclose(times, motion.time_s, atol=1e-6)

    def track(node: int, path_: str) -> FloatArray:
        return _accessor(gltf, animation.samplers[channels[(node, path_)]].output)

    y_up = np.stack(
        [
            motion.body_positions[..., 0],
            motion.body_positions[..., 2],
            -motion.body_positions[..., 1],
        ],
        axis=-1,
    )
    for frame in (0, motion.n_frames // 2, motion.n_frames - 1):
        world_pos: dict[int, FloatArray] = {}
        world_rot: dict[int, FloatArray] = {}
        for b in range(len(names)):  # parents come first
            t = track(b, "translation")[frame]
            x, y, z, w = track(b, "rotation")[frame]
            q = np.array([w, x, y, z])
            if b in parent:
                p = parent[b]
                world_pos[b] = world_pos[p] + quat_rotate(world_rot[p], t)
                world_rot[b] = quat_multiply(world_rot[p], q)
            else:
                world_pos[b], world_rot[b] = t, q
        got = np.array([world_pos[b] for b in range(len(names))])
        np.testing.assert_allclose(got, y_up[frame], atol=1e-3)


def test_glb_markers_are_hidden_where_missing(motion: Motion, tmp_path: Path) -> None:
    """A marker missing in some frames has a STEP scale track: 0 there, 1 elsewhere."""
    observed = motion.marker_observed.copy()
    observed[5:9, 0] = np.nan
    gappy = dataclasses.replace(motion, marker_observed=observed)
    path = tmp_path / "walk.glb"
    write_glb(gappy, path, markers=True)
    gltf = pygltflib.GLTF2.load_binary(path)
    node = next(i for i, n in enumerate(gltf.nodes) if n.name == motion.marker_names[0])
    (animation,) = gltf.animations
    scale = next(
        _accessor(gltf, animation.samplers[c.sampler].output)
        for c in animation.channels
        if c.target.node == node and c.target.path == "scale"
    )
    assert (scale[5:9] == 0).all()
    assert (np.delete(scale, range(5, 9), axis=0) == 1).all()
    # A marker seen throughout is always shown: no scale track.
    assert not np.isnan(motion.marker_observed[:, 1]).any()
    steady = next(i for i, n in enumerate(gltf.nodes) if n.name == motion.marker_names[1])
    assert (steady, "scale") not in {(c.target.node, c.target.path) for c in animation.channels}


def test_glb_of_a_long_motion_is_small(motion: Motion, tmp_path: Path) -> None:
    """2,751 frames (a long recording) of the 27-body character stay under 4 MB."""
    frames = 2751
    take = np.arange(frames) % motion.n_frames
    long = dataclasses.replace(
        motion,
        qpos=motion.qpos[take],
        time_s=np.arange(frames) / motion.fps,
        marker_observed=motion.marker_observed[take],
        marker_gap_filled=motion.marker_gap_filled[take],
    )
    path = tmp_path / "long.glb"
    write_glb(long, path)
    assert path.stat().st_size <= 4_000_000


def test_glb_of_an_unknown_character_leaves_the_file_alone(motion: Motion, tmp_path: Path) -> None:
    path = tmp_path / "walk.glb"
    path.write_bytes(b"previous")
    stranger = dataclasses.replace(motion, metadata={**motion.metadata, "character_id": "nobody"})
    with pytest.raises(CharacterError, match="nobody"):
        write_glb(stranger, path)
    assert path.read_bytes() == b"previous"
    assert list(tmp_path.iterdir()) == [path]


def _continuous_frame_by_frame(quats: FloatArray) -> FloatArray:
    """The GLB writer's former loop: each keyframe against the previous one as written."""
    out = quats.copy()
    for f in range(1, len(out)):
        flip = np.sum(out[f] * out[f - 1], axis=-1) < 0
        out[f][flip] *= -1
    return np.asarray(out, dtype=np.float64)


def test_keyframe_sign_flips_match_the_frame_by_frame_rule() -> None:
    rng = np.random.default_rng(3)
    quats = rng.normal(size=(500, 6, 4))
    quats /= np.linalg.norm(quats, axis=-1, keepdims=True)
    quats[200:203, 1] = np.nan  # a gap: the keyframe after it starts afresh
    quats[300, 2] = [1.0, 0.0, 0.0, 0.0]
    quats[301, 2] = [0.0, 1.0, 0.0, 0.0]  # a half turn: dot product exactly 0
    quats[302, 2] = [0.0, -1.0, 0.0, 0.0]
    quats[400:, 3] = quats[400, 3] * np.where(np.arange(100) % 2, -1.0, 1.0)[:, None]
    expected = _continuous_frame_by_frame(quats)
    np.testing.assert_array_equal(_continuous(quats), expected)
    assert np.array_equal(np.signbit(_continuous(quats)), np.signbit(expected))
    assert _continuous(quats[:1]).shape == (1, 6, 4) and _continuous(quats[:0]).shape == (0, 6, 4)
