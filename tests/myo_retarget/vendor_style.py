"""A CMU markerset written the way the vendor writes theirs, for tests.

Style of the vendor's markersets: MyoSkeleton body names, ``pos`` in MyoSkeleton's body frames,
every landmark ``movable="0.0"`` (cluster markers on the thigh and shank too), a heavier weight on
the pelvis. The positions are our own estimates from each marker's anatomical definition for a
1.75 m adult, placed in the frames as MyoSkeleton defines them where they differ from our
character's: the pelvis origin at the midpoint of the anterior superior iliac spines (ours: the
hip centres' midpoint, about 6 cm posterior and 8 cm inferior), the calcaneus origin at the back
of the heel (ours: 1.4 cm behind the ankle). Axes as ours: x anterior, y superior, z right.
"""

from __future__ import annotations

from pathlib import Path

# (name without side letter, body without side suffix, right-side position in metres, movable,
# ik_weight). Left markers mirror z.
_SIDED: list[tuple[str, str, tuple[float, float, float], bool, float]] = [
    ("FHD", "skull", (0.090, 0.085, 0.060), False, 1.0),  # headband at the temple
    ("BHD", "skull", (-0.075, 0.085, 0.060), False, 1.0),  # headband at the back of the head
    ("FWT", "pelvis", (0.012, 0.005, 0.125), False, 2.0),  # skin over the ASIS
    ("BWT", "pelvis", (-0.150, 0.015, 0.045), False, 2.0),  # skin over the PSIS
    ("SHO", "scapula", (0.0, 0.020, 0.010), False, 1.0),  # acromion
    ("UPA", "humerus", (0.0, -0.140, 0.045), True, 1.0),  # lateral upper arm
    ("ELB", "humerus", (0.0, -0.285, 0.040), False, 1.0),  # lateral epicondyle
    ("FRM", "radius", (0.0, -0.120, 0.040), False, 1.0),  # forearm, radial side
    ("WRA", "radius", (0.0, -0.245, 0.045), False, 1.0),  # wrist bar, thumb side
    ("WRB", "ulna", (0.0, -0.245, -0.045), False, 1.0),  # wrist bar, little-finger side
    ("FIN", "lunate", (-0.015, -0.075, 0.0), False, 1.0),  # dorsum of the hand
    ("THI", "femur", (0.0, -0.220, 0.080), False, 1.0),  # lateral thigh
    ("KNE", "femur", (0.0, -0.410, 0.050), True, 1.0),  # lateral femoral epicondyle
    ("SHN", "tibia", (0.030, -0.200, 0.030), False, 1.0),  # shin
    ("ANK", "tibia", (-0.005, -0.400, 0.045), False, 1.0),  # lateral malleolus
    ("HEE", "calcaneus", (-0.010, 0.025, 0.0), True, 1.0),  # back of the heel
    ("TOE", "calcaneus", (0.180, 0.025, -0.010), True, 1.0),  # 2nd metatarsal head, dorsal
    ("MT5", "calcaneus", (0.150, 0.015, 0.040), False, 1.0),  # 5th metatarsal head
]
_MID: list[tuple[str, str, tuple[float, float, float], bool, float]] = [
    ("C7", "thoracic_spine", (-0.070, 0.260, 0.0), False, 1.0),  # spinous process of C7
    ("T10", "thoracic_spine", (-0.090, 0.070, 0.0), False, 1.0),  # spinous process of T10
    ("CLAV", "thoracic_spine", (0.070, 0.215, 0.0), False, 1.0),  # jugular notch
    ("STRN", "thoracic_spine", (0.120, 0.060, 0.0), False, 1.0),  # xiphoid process
    ("RBAC", "scapula_r", (-0.100, -0.060, -0.070), False, 0.1),  # right scapula
]


def vendor_style_cmu_xml() -> str:
    """The markerset's XML text."""
    lines = ['<markers name="CMU" model="MyoSkeleton v1.0.0">']
    rows = [
        (side + name, body if body in ("skull", "pelvis") else f"{body}_{side.lower()}", pos, m, w)
        for side, sign in (("R", 1.0), ("L", -1.0))
        for name, body, (x, y, z), m, w in _SIDED
        for pos in [(x, y, sign * z)]
    ]
    for name, body, (x, y, z), movable, weight in [*rows, *_MID]:
        lines.append(
            f'    <marker body="{body}" name="{name}" pos="{x:.6f} {y:.6f} {z:.6f}" '
            f'movable="{1.0 if movable else 0.0}" ik_weight="{weight:g}"/>'
        )
    lines.append("</markers>")
    return "\n".join(lines) + "\n"


def write_vendor_style_cmu(path: Path) -> Path:
    """Write :func:`vendor_style_cmu_xml` to ``path`` and return it."""
    path.write_text(vendor_style_cmu_xml(), encoding="utf-8")
    return path
