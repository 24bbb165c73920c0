"""Generate the default humanoid character (MJCF + manifest) shipped with ``myo_retarget``.

Run ``uv run python tools/build_character.py`` after changing a proportion; a test checks that the
shipped files are what this script writes.

Conventions (interoperable with markersets written for the vendor's character):

* every body frame: x anterior, y superior, z to the subject's right; a long bone runs
  proximal -> distal along -y; the left side mirrors the right (z -> -z);
* the world is MuJoCo's usual +Z up; at ``qpos0`` the character stands in the anatomical position
  (palms forward) facing world +X, so the pelvis body is rotated +90 degrees about world X;
* joints are named by motion, flexion positive (knee and elbow flexion, hip and shoulder flexion,
  ankle dorsiflexion, trunk/neck forward flexion), with physiological limits.

The body names and axes are MyoSkeleton's; some origins and proportions are not, as the vendor's
markersets show (``benchmarks/bench_vendor_markerset.py`` measures them on a recording): its pelvis
origin is at the midpoint of the anterior superior iliac spines, with the hip centres about 6 cm
posterior and 8 cm inferior of it (ours: at the hip centres' midpoint); its calcaneus origin is at
the back of the heel (ours: 1.4 cm behind and 2 cm below the ankle); its thorax is longer (C7 about
30 cm above the thoracic_spine origin, ours 26 cm); at zero pronation its wrist markers sit as in a
mid-prone forearm, ours in supination. Calibration therefore does not let the landmarks of a
markerset written for another skeleton anchor the hip and knee zeros
(``MarkerAttachment.own_frames`` in ``_calibration.py``).

Proportions are fractions of standing height H (default 1.75 m) from Winter (2009, Fig. 4.1) as
listed in ``shared/data/anthropometry_fraction_of_height.csv``; where the table has no entry (joint
centres inside the pelvis and thorax, landmark depths), the fractions are our own estimates from
typical adult dimensions, noted next to each number.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

HEIGHT_M = 1.75
CHARACTER_ID = "0199e278-06e6-7726-a6ba-9929f79005e8"
VERSION = "v1.0.0"
NAME = "myo_humanoid"
OUT_DIR = (
    Path(__file__).resolve().parents[1] / "src" / "myo_retarget" / "data" / "characters" / NAME
)

# Winter (2009) Fig. 4.1 fractions of H.
HIP_HEIGHT = 0.530  # floor - greater trochanter; used as the hip joint centre height
THIGH = 0.245
SHANK = 0.246
ANKLE_HEIGHT = 0.039
FOOT_LENGTH = 0.152
FOOT_BREADTH = 0.055
SHOULDER_HEIGHT = 0.818
HALF_SHOULDER_WIDTH = 0.129
UPPER_ARM = 0.186  # acromion - elbow; from the glenohumeral centre we use ELBOW below
FOREARM = 0.146
HAND = 0.108
HEAD_LENGTH = 0.130
HIP_WIDTH = 0.191
ELBOW_HEIGHT = 0.630

# Our estimates (fractions of H), documented in the manifest.
HJC_HALF_WIDTH = 0.052  # ~0.27 x HIP_WIDTH: hip joint centres ~18 cm apart at 1.75 m
L5S1 = (-0.035, 0.060)  # lumbosacral joint from the hip-centre midpoint (x, y)
LUMBAR_LENGTH = 0.100  # L5/S1 -> T12/L1
THORACIC_LENGTH = 0.145  # T12/L1 -> C7/T1
NECK_LENGTH = 0.065  # C7/T1 -> occipital condyles
GH_DROP = 0.022  # glenohumeral centre below the acromion
HUMERUS = SHOULDER_HEIGHT - GH_DROP - ELBOW_HEIGHT  # 0.166 H: GH centre -> elbow (de Leva 0.162)


def _r(x: float) -> str:
    return f"{x:.5f}".rstrip("0").rstrip(".") if x != 0 else "0"


def _vec(v: tuple[float, ...]) -> str:
    return " ".join(_r(c) for c in v)


@dataclass
class Joint:
    name: str
    axis: tuple[float, float, float]
    range_deg: tuple[float, float]
    segment: str = ""


@dataclass
class Body:
    name: str
    pos: tuple[float, float, float]  # in the parent frame, metres
    segment: str  # scale group of this body's own geometry, child offsets and markers
    joints: list[Joint] = field(default_factory=list)
    geoms: list[str] = field(default_factory=list)
    children: list[Body] = field(default_factory=list)


def h(*fractions: float) -> tuple[float, float, float]:
    """Fractions of height -> metres at the default height."""
    x, y, z = (f * HEIGHT_M for f in fractions)
    return (x, y, z)


def capsule(a: tuple[float, float, float], b: tuple[float, float, float], radius: float) -> str:
    return f'<geom type="capsule" fromto="{_vec(a + b)}" size="{_r(radius)}"/>'


def sphere(c: tuple[float, float, float], radius: float) -> str:
    return f'<geom type="sphere" pos="{_vec(c)}" size="{_r(radius)}"/>'


def box(c: tuple[float, float, float], half: tuple[float, float, float]) -> str:
    return f'<geom type="box" pos="{_vec(c)}" size="{_vec(half)}"/>'


def leg(side: str) -> Body:
    s = 1.0 if side == "r" else -1.0
    # Abduction moves the limb laterally, internal rotation turns the front medially, inversion
    # turns the sole medially: their axes flip with the side; sagittal axes do not.
    toes = Body(
        f"toes_{side}",
        h(0.079, -0.012, 0.0),
        "foot",
        [Joint(f"mtp_flex_{side}", (0, 0, 1), (-30, 70))],
        [box(h(0.020, -0.003, 0.0), h(0.020, 0.006, FOOT_BREADTH / 2))],
    )
    calcaneus = Body(
        f"calcaneus_{side}",
        h(-0.008, -0.012, 0.0),
        "foot",
        [Joint(f"subtal_inve_{side}", (s, 0, 0), (-25, 35))],
        [
            box(h(0.035, -0.006, 0.0), h(0.055, 0.010, FOOT_BREADTH / 2 * 0.9)),
        ],
        [toes],
    )
    talus = Body(
        f"talus_{side}",
        h(0.0, -SHANK, 0.0),
        "foot",
        [Joint(f"ankle_flex_{side}", (0, 0, 1), (-50, 45))],
        [sphere((0.0, 0.0, 0.0), 0.025)],
        [calcaneus],
    )
    tibia = Body(
        f"tibia_{side}",
        h(0.0, -THIGH, 0.0),
        "shank",
        [Joint(f"knee_flex_{side}", (0, 0, -1), (-10, 150))],
        [capsule((0.0, -0.02, 0.0), h(0.0, -SHANK + 0.012, 0.0), 0.045)],
        [talus],
    )
    return Body(
        f"femur_{side}",
        h(0.0, 0.0, s * HJC_HALF_WIDTH),
        "thigh",
        [
            Joint(f"hip_flex_{side}", (0, 0, 1), (-30, 130)),
            Joint(f"hip_abdu_{side}", (-s, 0, 0), (-35, 55)),
            Joint(f"hip_arot_{side}", (0, s, 0), (-45, 50)),
        ],
        [capsule((0.0, -0.03, 0.0), h(0.0, -THIGH + 0.015, 0.0), 0.06)],
        [tibia],
    )


def arm(side: str) -> Body:
    s = 1.0 if side == "r" else -1.0
    # The radius turns about an oblique axis from the radial head (lateral, at the elbow) to the
    # distal ulna (medial, at the wrist); the hand hangs off the radius.
    lunate = Body(
        f"lunate_{side}",
        h(0.0, -FOREARM, s * -0.010),
        "hand",
        [
            Joint(f"wrist_flex_{side}", (0, 0, 1), (-80, 85)),
            Joint(f"wrist_devi_{side}", (s, 0, 0), (-30, 45)),
        ],
        [box(h(0.0, -0.045, 0.0), h(0.012, 0.045, 0.025))],
    )
    # Pronation turns the thumb from lateral to anterior: the axis points proximally (right
    # side), from the distal ulna to the radial head; mirrored on the left.
    axis = (0.0, s * FOREARM, 0.020)
    norm = math.hypot(*axis)
    radius = Body(
        f"radius_{side}",
        h(0.0, 0.0, s * 0.010),
        "forearm",
        [Joint(f"wrist_pron_{side}", (0.0, axis[1] / norm, axis[2] / norm), (-20, 170))],
        [capsule((0.0, -0.02, 0.0), h(0.0, -FOREARM + 0.01, s * -0.010), 0.025)],
        [lunate],
    )
    ulna = Body(
        f"ulna_{side}",
        h(0.0, -HUMERUS, 0.0),
        "forearm",
        [Joint(f"elbow_flex_{side}", (0, 0, 1), (0, 150))],
        [capsule((0.0, -0.02, 0.0), h(0.0, -FOREARM + 0.01, s * -0.012), 0.022)],
        [radius],
    )
    humerus = Body(
        f"humerus_{side}",
        h(0.0, -GH_DROP, s * -0.012),
        "upper_arm",
        [
            Joint(f"shoulder_flex_{side}", (0, 0, 1), (-90, 180)),
            Joint(f"shoulder_abdu_{side}", (-s, 0, 0), (-60, 180)),
            Joint(f"shoulder_arot_{side}", (0, s, 0), (-90, 100)),
        ],
        [capsule((0.0, -0.03, 0.0), h(0.0, -HUMERUS + 0.015, 0.0), 0.035)],
        [ulna],
    )
    scapula = Body(
        f"scapula_{side}",
        h(-0.015, 0.018, s * (HALF_SHOULDER_WIDTH - 0.012)),
        "shoulder",
        [],
        [box(h(-0.035, -0.035, s * -0.03), h(0.005, 0.04, 0.035))],
        [humerus],
    )
    return Body(
        f"clavicle_{side}",
        h(0.035, 0.110, s * 0.012),
        "shoulder",
        [
            Joint(f"clav_elev_{side}", (-s, 0, 0), (-15, 40)),
            Joint(f"clav_prot_{side}", (0, s, 0), (-25, 30)),
        ],
        [capsule((0.0, 0.0, 0.0), h(-0.015, 0.018, s * (HALF_SHOULDER_WIDTH - 0.020)), 0.012)],
        [scapula],
    )


def character() -> Body:
    skull = Body(
        "skull",
        h(0.010, NECK_LENGTH, 0.0),
        "head",
        [],
        [sphere(h(0.015, 0.040, 0.0), 0.10)],
    )
    cervical = Body(
        "cervical_spine",
        h(-0.010, THORACIC_LENGTH, 0.0),
        "head",
        [
            Joint("neck_flex", (0, 0, -1), (-60, 70)),
            Joint("neck_bend", (1, 0, 0), (-45, 45)),
            Joint("neck_arot", (0, 1, 0), (-80, 80)),
        ],
        [capsule((0.0, 0.0, 0.0), h(0.010, NECK_LENGTH - 0.01, 0.0), 0.05)],
        [skull],
    )
    thoracic = Body(
        "thoracic_spine",
        h(0.0, LUMBAR_LENGTH, 0.0),
        "trunk",
        [
            Joint("thorax_flex", (0, 0, -1), (-30, 45)),
            Joint("thorax_bend", (1, 0, 0), (-25, 25)),
            Joint("thorax_arot", (0, 1, 0), (-35, 35)),
        ],
        [box(h(0.02, 0.07, 0.0), h(0.055, 0.065, 0.085))],
        [cervical, arm("r"), arm("l")],
    )
    lumbar = Body(
        "lumbar_spine",
        h(L5S1[0], L5S1[1], 0.0),
        "trunk",
        [
            Joint("lumbar_flex", (0, 0, -1), (-30, 60)),
            Joint("lumbar_bend", (1, 0, 0), (-30, 30)),
            Joint("lumbar_arot", (0, 1, 0), (-30, 30)),
        ],
        [capsule((0.0, 0.0, 0.0), h(0.0, LUMBAR_LENGTH - 0.01, 0.0), 0.07)],
        [thoracic],
    )
    return Body(
        "pelvis",
        (0.0, 0.0, HIP_HEIGHT * HEIGHT_M),
        "pelvis",
        [],
        [box(h(-0.010, 0.035, 0.0), h(0.045, 0.030, HIP_WIDTH / 2 * 0.75))],
        [lumbar, leg("r"), leg("l")],
    )


def _emit(body: Body, depth: int, out: list[str], root: bool) -> None:
    pad = "  " * depth
    attrs = f'name="{body.name}" pos="{_vec(body.pos)}"'
    if root:
        # Body frame y (superior) onto world z: +90 degrees about world x.
        c = math.cos(math.pi / 4)
        attrs += f' quat="{_r(c)} {_r(c)} 0 0"'
    out.append(f"{pad}<body {attrs}>")
    if root:
        out.append(f'{pad}  <freejoint name="root"/>')
    for j in body.joints:
        out.append(
            f'{pad}  <joint name="{j.name}" axis="{_vec(j.axis)}" range="{_r(j.range_deg[0])} '
            f'{_r(j.range_deg[1])}"/>'
        )
    out.extend(f"{pad}  {g}" for g in body.geoms)
    for child in body.children:
        _emit(child, depth + 1, out, False)
    out.append(f"{pad}</body>")


def _walk(body: Body, parent: str | None, acc: list[tuple[Body, str | None]]) -> None:
    acc.append((body, parent))
    for c in body.children:
        _walk(c, body.name, acc)


def build_mjcf(root: Body) -> str:
    lines = [
        f'<mujoco model="{NAME}">',
        "  <!-- Generated by tools/build_character.py; edit that script, not this file. -->",
        '  <compiler angle="degree" autolimits="true"/>',
        '  <option gravity="0 0 -9.81"/>',
        "  <default>",
        '    <joint type="hinge" limited="true" damping="0.5" armature="0.01"/>',
        '    <geom contype="0" conaffinity="0" density="1000" rgba="0.75 0.68 0.6 1"/>',
        "  </default>",
        "  <worldbody>",
        '    <light pos="0 -3 4" dir="0 0.6 -0.8"/>',
        '    <geom name="floor" type="plane" size="5 5 0.1" rgba="0.85 0.85 0.85 1"/>',
    ]
    body_lines: list[str] = []
    _emit(root, 2, body_lines, True)
    lines += body_lines
    lines += ["  </worldbody>", "</mujoco>", ""]
    return "\n".join(lines)


def build_manifest(root: Body) -> dict[str, object]:
    acc: list[tuple[Body, str | None]] = []
    _walk(root, None, acc)
    return {
        "character_id": CHARACTER_ID,
        "name": NAME,
        "description": (
            "Default full-body humanoid: 27 bodies, 41 hinge joints named by motion plus a free "
            "root; proportions from Winter (2009) for a 1.75 m adult."
        ),
        "version": VERSION,
        "default_height_m": HEIGHT_M,
        "model_file": "character.xml",
        "root_body": root.name,
        "up_axis": "+Z",
        "bodies": [
            {
                "name": b.name,
                "parent": p,
                "segment": b.segment,
                "joints": [j.name for j in b.joints],
            }
            for b, p in acc
        ],
        "joints": [j.name for b, _ in acc for j in b.joints],
        "segments": sorted({b.segment for b, _ in acc}),
        "sources": [
            "Winter DA (2009) Biomechanics and Motor Control of Human Movement, 4th ed., Fig. 4.1",
            "de Leva P (1996) J Biomech 29(9):1223-1230, Table 1",
        ],
    }


# Markers: (name without side letter, body without side suffix, position as fractions of H in the
# right-side body frame, movable). Bilateral markers get L/R prefixes and _l/_r bodies, z mirrored.
# Positions come from each marker's anatomical definition placed on this character's bodies.
Marker = tuple[str, str, tuple[float, float, float], bool]

HEAD = [
    # Head markers ride on a headband whose placement varies: movable.
    ("FHD", "skull", (0.060, 0.055, 0.030), True),  # front head (temple)
    ("BHD", "skull", (-0.045, 0.055, 0.035), True),  # back head
]
TRUNK_MID = [
    ("C7", "thoracic_spine", (-0.050, 0.150, 0.0), False),  # spinous process of C7
    ("T10", "thoracic_spine", (-0.050, 0.035, 0.0), False),  # spinous process of T10
    ("CLAV", "thoracic_spine", (0.045, 0.112, 0.0), False),  # jugular notch
    ("STRN", "thoracic_spine", (0.065, 0.030, 0.0), False),  # xiphoid process
]
ARM = [
    ("SHO", "scapula", (0.0, 0.008, 0.0), False),  # acromio-clavicular joint
    ("UPA", "humerus", (-0.010, -0.100, 0.025), True),  # upper arm, lateral
    ("ELB", "humerus", (-0.005, -0.166, 0.022), False),  # lateral epicondyle
    # Wrist bar ends, about 5 cm beyond the radial and ulnar styloids.
    ("WRA", "radius", (0.0, -0.146, 0.030), False),  # wrist bar, thumb side
    ("WRB", "ulna", (0.0, -0.146, -0.030), False),  # wrist bar, little-finger side
    ("FIN", "lunate", (-0.010, -0.045, 0.005), True),  # dorsum, 2nd-3rd metacarpal head
]
FOOT = [
    ("ANK", "tibia", (-0.004, -0.246, 0.022), False),  # lateral malleolus
    ("HEE", "calcaneus", (-0.034, 0.0, 0.0), False),  # calcaneus, posterior
    ("TOE", "calcaneus", (0.079, 0.008, -0.005), False),  # 2nd metatarsal head, dorsal
]

CMU_SIDED = [
    *HEAD,
    ("FWT", "pelvis", (0.030, 0.045, 0.075), True),  # front waist (near the ASIS)
    ("BWT", "pelvis", (-0.065, 0.050, 0.035), True),  # back waist (near the PSIS)
    *ARM,
    ("FRM", "radius", (-0.012, -0.070, 0.015), True),  # forearm
    ("THI", "femur", (0.0, -0.140, 0.040), True),  # thigh, lateral
    ("KNE", "femur", (0.0, -0.245, 0.030), False),  # lateral femoral epicondyle
    ("SHN", "tibia", (0.020, -0.120, 0.010), True),  # shin, anterior
    *FOOT,
    ("MT5", "calcaneus", (0.063, -0.007, 0.027), False),  # 5th metatarsal head
]
CMU_MID = [*TRUNK_MID, ("RBAC", "scapula_r", (-0.075, -0.053, -0.079), True)]

PIG_SIDED = [
    *HEAD,
    ("ASI", "pelvis", (0.030, 0.042, 0.070), False),  # anterior superior iliac spine
    ("PSI", "pelvis", (-0.068, 0.048, 0.026), False),  # posterior superior iliac spine
    *ARM,
    ("FRA", "radius", (-0.012, -0.070, 0.015), True),  # forearm
    ("THI", "femur", (0.0, -0.160, 0.045), True),  # thigh wand, lateral
    ("KNE", "femur", (0.0, -0.245, 0.030), False),  # lateral femoral epicondyle
    ("TIB", "tibia", (0.0, -0.160, 0.040), True),  # tibia wand, lateral
    *FOOT,
]
PIG_MID = [
    *TRUNK_MID,
    ("RBAK", "scapula_r", (-0.075, -0.053, -0.079), True),  # right scapula (asymmetry marker)
    ("SACR", "pelvis", (-0.070, 0.048, 0.0), False),  # sacrum (alternative to the PSIS pair)
]


# Landmarks several conventions share (right-side frames, fractions of H).
MEDIAL_EPICONDYLE = (0.0, -0.245, -0.030)  # femur: medial femoral epicondyle
MEDIAL_MALLEOLUS = (0.003, -0.241, -0.020)  # tibia: a little anterior and above the lateral one
MT1_HEAD = (0.073, -0.008, -0.020)  # calcaneus: 1st metatarsal head, medial
RADIAL_STYLOID = (0.0, -0.143, 0.006)  # radius: lateral of the wrist centre (0, -0.146, -0.010)
ULNAR_STYLOID = (-0.004, -0.143, -0.014)  # ulna: medial and dorsal of the wrist centre

# Qualisys' sports and gait marker sets (QTM's "Sports Marker Set" labels, as in the ezc3d
# test file qualisys.c3d): side prefix L_/R_, names after the anatomical landmark.
QUALISYS_SIDED = [
    ("HDF", "skull", (0.060, 0.055, 0.030), True),  # head front (headband)
    ("HDB", "skull", (-0.045, 0.055, 0.035), True),  # head back (headband)
    ("IAS", "pelvis", (0.030, 0.042, 0.070), False),  # anterior superior iliac spine
    ("IPS", "pelvis", (-0.068, 0.048, 0.026), False),  # posterior superior iliac spine
    ("SAJ", "scapula", (0.0, 0.008, 0.0), False),  # acromio-clavicular joint
    ("WAND3", "humerus", (-0.010, -0.100, 0.040), True),  # upper-arm wand, lateral
    ("HLE", "humerus", (-0.005, -0.166, 0.022), False),  # lateral epicondyle of the humerus
    ("HME", "humerus", (-0.005, -0.166, -0.026), False),  # medial epicondyle of the humerus
    # The forearm wand sits just below the elbow (10 cm from HLE in qualisys.c3d) and moves
    # with the ulna there (0.5 mm SD of its distance to UHE).
    ("WAND4", "ulna", (-0.010, -0.050, 0.030), True),
    ("RSP", "radius", RADIAL_STYLOID, False),  # radial styloid process
    ("UHE", "ulna", ULNAR_STYLOID, False),  # ulnar head (styloid)
    ("HM2", "lunate", (-0.008, -0.050, 0.012), False),  # 2nd metacarpal head, dorsal
    ("HM5", "lunate", (-0.006, -0.045, -0.018), False),  # 5th metacarpal head, dorsal
    ("FTC", "femur", (-0.005, -0.006, 0.050), False),  # greater trochanter, 1 cm below hip centre
    ("WAND1", "femur", (0.0, -0.160, 0.050), True),  # thigh wand, lateral
    ("FLE", "femur", (0.0, -0.245, 0.030), False),  # lateral femoral epicondyle
    ("FME", "femur", MEDIAL_EPICONDYLE, False),  # medial femoral epicondyle
    ("FAX", "tibia", (-0.008, -0.022, 0.030), False),  # apex of the fibular head
    ("TTC", "tibia", (0.022, -0.035, 0.002), False),  # tibial tuberosity
    ("WAND2", "tibia", (0.0, -0.160, 0.045), True),  # shank wand, lateral
    ("FAL", "tibia", (-0.004, -0.246, 0.022), False),  # lateral malleolus (fibula)
    ("TAM", "tibia", MEDIAL_MALLEOLUS, False),  # medial malleolus (tibia)
    ("FCC", "calcaneus", (-0.034, 0.0, 0.0), False),  # calcaneus, posterior
    ("FM1", "calcaneus", MT1_HEAD, False),  # 1st metatarsal head
    ("FM5", "calcaneus", (0.063, -0.007, 0.027), False),  # 5th metatarsal head
]
QUALISYS_MID = [
    ("CV7", "thoracic_spine", (-0.050, 0.150, 0.0), False),  # spinous process of C7
    ("TV8", "thoracic_spine", (-0.052, 0.058, 0.0), False),  # spinous process of T8
    ("SNJ", "thoracic_spine", (0.045, 0.112, 0.0), False),  # jugular (sternal) notch
    ("SXS", "thoracic_spine", (0.065, 0.030, 0.0), False),  # xiphoid process
    ("R_SCAP", "scapula_r", (-0.075, -0.053, -0.079), True),  # right scapula (asymmetry)
]

# OpenSim's gait lab set (opensim-core's walking trials, e.g. opensim_walking2.c3d): Plug-in
# Gait's pelvis, trunk and head, three-marker clusters on thigh and shank plates (where a plate
# sits varies per subject: movable), femoral condyles, malleoli, calcaneus, metatarsal heads,
# and the lab's computed joint centres (see OPENSIM_VIRTUAL).
OPENSIM_SIDED = [
    *HEAD,
    ("ASI", "pelvis", (0.030, 0.042, 0.070), False),  # anterior superior iliac spine
    ("PSI", "pelvis", (-0.068, 0.048, 0.026), False),  # posterior superior iliac spine
    ("TH1", "femur", (-0.015, -0.050, 0.050), True),  # thigh plate, upper
    ("TH2", "femur", (0.025, -0.080, 0.045), True),  # thigh plate, anterior
    ("TH3", "femur", (0.0, -0.135, 0.050), True),  # thigh plate, lower
    ("LFC", "femur", (0.0, -0.245, 0.030), False),  # lateral femoral condyle (epicondyle)
    ("MFC", "femur", MEDIAL_EPICONDYLE, False),  # medial femoral condyle (epicondyle)
    ("TB1", "tibia", (0.0, -0.035, 0.045), True),  # shank plate, upper
    ("TB2", "tibia", (-0.005, -0.095, 0.045), True),  # shank plate, posterior
    ("TB3", "tibia", (0.020, -0.140, 0.040), True),  # shank plate, lower anterior
    ("LMAL", "tibia", (-0.004, -0.246, 0.022), False),  # lateral malleolus
    ("MMAL", "tibia", MEDIAL_MALLEOLUS, False),  # medial malleolus
    ("CAL", "calcaneus", (-0.034, 0.0, 0.0), False),  # calcaneus, posterior
    ("MT1", "calcaneus", MT1_HEAD, False),  # 1st metatarsal head
    ("MT2", "calcaneus", (0.079, 0.008, -0.005), False),  # 2nd metatarsal head, dorsal
    # Virtual points the lab computed, not on the skin, at our joint centres: the hip centre
    # from a pelvis regression, the knee and ankle centres as condyle and malleolus midpoints.
    ("HJC", "femur", (0.0, 0.0, 0.0), False),
    ("KJC", "tibia", (0.0, 0.0, 0.0), False),
    ("AJC", "talus", (0.0, 0.0, 0.0), False),
]
OPENSIM_MID = TRUNK_MID
# The joint centres weigh nothing in the fit: each is computed from markers the set already
# fits (pelvis, condyles, malleoli), so weighing it would count those twice, and the hip
# regression's own error (1-2 cm) would pull our hip. Matched at weight 0, they are registered
# and their residual reports how far the lab's centres sit from ours.
OPENSIM_VIRTUAL = {f"{s}{j}JC": 0.0 for s in "LR" for j in "HKA"}

# OptiTrack Motive's skeleton marker sets (Baseline and Conventional; labels as Motive exports
# them, "Skeleton:" prefix stripped): side letter first or inside the name.
MOTIVE_SIDED = [
    ("Waist{s}Front", "pelvis", (0.030, 0.045, 0.075), True),  # front waist, on the ASIS
    ("Waist{s}Back", "pelvis", (-0.065, 0.050, 0.035), True),  # back waist, near the PSIS
    ("ShoulderTop", "scapula", (0.0, 0.008, 0.0), False),  # acromion
    ("ShoulderBack", "scapula", (-0.040, -0.015, -0.025), True),  # back of the shoulder
    ("UArmHigh", "humerus", (-0.010, -0.060, 0.028), True),  # upper arm, high and lateral
    ("ElbowOut", "humerus", (-0.005, -0.166, 0.022), False),  # lateral epicondyle
    ("WristOut", "radius", RADIAL_STYLOID, False),  # radial styloid (thumb side)
    ("WristIn", "ulna", ULNAR_STYLOID, False),  # ulnar styloid (little-finger side)
    ("HandOut", "lunate", (-0.006, -0.045, -0.018), False),  # 5th metacarpal head
    ("Thigh", "femur", (0.0, -0.140, 0.045), True),  # thigh, lateral
    ("KneeOut", "femur", (0.0, -0.245, 0.030), False),  # lateral femoral epicondyle
    ("KneeIn", "femur", MEDIAL_EPICONDYLE, False),  # medial femoral epicondyle (Conventional)
    ("Shin", "tibia", (0.020, -0.120, 0.010), True),  # shin, anterior
    ("AnkleOut", "tibia", (-0.004, -0.246, 0.022), False),  # lateral malleolus
    ("AnkleIn", "tibia", MEDIAL_MALLEOLUS, False),  # medial malleolus (Conventional)
    ("Heel", "calcaneus", (-0.034, 0.0, 0.0), False),  # calcaneus, posterior
    ("ToeOut", "calcaneus", (0.063, -0.007, 0.027), False),  # 5th metatarsal head
    ("ToeIn", "calcaneus", MT1_HEAD, False),  # 1st metatarsal head
    ("ToeTip", "toes", (0.038, 0.002, -0.008), False),  # tip of the big toe
]
MOTIVE_MID = [
    # Head markers ride on a cap; HeadSide's side varies with the lab: movable.
    ("HeadTop", "skull", (0.005, 0.078, 0.0), True),
    ("HeadFront", "skull", (0.065, 0.060, 0.0), True),
    ("HeadSide", "skull", (0.0, 0.060, 0.045), True),
    ("BackTop", "thoracic_spine", (-0.055, 0.125, 0.0), True),  # upper back, below C7
    ("BackLeft", "thoracic_spine", (-0.060, 0.060, -0.040), True),  # left of the spine
    ("BackRight", "thoracic_spine", (-0.060, 0.045, 0.040), True),  # right, lower (asymmetry)
    ("Chest", "thoracic_spine", (0.058, 0.075, 0.0), True),  # on the sternum
]

# OptiTrack Motive rigid bodies on the segments ("ArmL:Marker1": rigid body, then Motive's own
# marker number; which number sits where on the plate varies: movable), with the anatomical
# landmarks of kineticstoolkit's wheelchair recordings (sprintbasket_metres.c3d).
MOTIVE_RIGID_SIDED = [
    ("Temple{s}", "skull", (0.050, 0.045, 0.035), True),  # temple
    ("Ear{s}", "skull", (0.008, 0.015, 0.042), False),  # tragus
    ("Acromion{s}", "scapula", (0.0, 0.008, 0.0), False),  # acromion
    ("ScapularSpine{s}", "scapula", (-0.020, -0.005, -0.032), False),  # spine of the scapula
    ("Scapula{s}", "scapula", (-0.040, -0.030, -0.045), True),  # on the scapular blade
    *(
        (f"Arm{{s}}:Marker{n}", "humerus", (-0.005 + dx, -0.090 + dy, 0.035), True)
        for n, (dx, dy) in enumerate(
            ((0.012, 0.012), (-0.012, 0.012), (-0.012, -0.012), (0.012, -0.012)), 1
        )
    ),
    ("LateralEpicondyle{s}", "humerus", (-0.005, -0.166, 0.022), False),
    ("MedialEpicondyle{s}", "humerus", (-0.005, -0.166, -0.026), False),
    *(
        (f"Forearm{{s}}:Marker{n}", "radius", (-0.020 + dx, -0.090 + dy, 0.010), True)
        for n, (dx, dy) in enumerate(
            ((0.010, 0.012), (-0.010, 0.012), (-0.010, -0.012), (0.010, -0.012)), 1
        )
    ),
    ("RadialStyloid{s}", "radius", RADIAL_STYLOID, False),
    ("UlnarStyloid{s}", "ulna", ULNAR_STYLOID, False),
    ("Hand{s}", "lunate", (-0.010, -0.045, 0.005), True),  # dorsum of the hand
]
MOTIVE_RIGID_MID = [
    ("Forehead", "skull", (0.062, 0.050, 0.0), False),  # mid forehead
    ("C7", "thoracic_spine", (-0.050, 0.150, 0.0), False),  # spinous process of C7
]


def _markers(
    sided: list[Marker], mid: list[Marker], template: str = "{s}{name}"
) -> list[tuple[str, str, tuple[float, ...], bool]]:
    """Both sides' markers (left first), then the midline ones. ``template`` spells a sided
    marker's label from its side letter ``s`` (L/R) and its ``name``; a name that holds ``{s}``
    itself (``Waist{s}Front``) is spelled by that name alone."""
    out: list[tuple[str, str, tuple[float, ...], bool]] = []
    for side, sign in (("L", -1.0), ("R", 1.0)):
        for name, body, (x, y, z), movable in sided:
            b = body if body in ("skull", "pelvis", "thoracic_spine") else f"{body}_{side.lower()}"
            label = name.format(s=side) if "{s}" in name else template.format(s=side, name=name)
            out.append((label, b, h(x, y, sign * z), movable))
    for name, body, pos, movable in mid:
        out.append((name, body, h(*pos), movable))
    return out


def build_markerset(
    name: str,
    model: str,
    markers: list[tuple[str, str, tuple[float, ...], bool]],
    about: str = "",
    weights: dict[str, float] | None = None,
) -> str:
    """Markerset XML; ``about`` (one line) says which convention it follows, ``weights`` gives
    the ``ik_weight`` of the markers that do not weigh 1."""
    lines = [
        f'<markers name="{name}" model="{model}">',
        "  <!-- Generated by tools/build_character.py for the default humanoid. -->",
    ]
    if about:
        lines.append(f"  <!-- {about} -->")
    for mname, body, pos, movable in markers:
        weight = (weights or {}).get(mname, 1)
        lines.append(
            f'  <marker body="{body}" name="{mname}" pos="{_vec(pos)}" '
            f'movable="{1.0 if movable else 0.0}" ik_weight="{_r(weight)}"/>'
        )
    lines += ["</markers>", ""]
    return "\n".join(lines)


def shipped_markersets() -> dict[str, str]:
    """Each shipped markerset's XML by its shipped name (``SHIPPED_MARKERSETS``)."""
    return {
        "cmu": build_markerset("CMU", NAME, _markers(CMU_SIDED, CMU_MID)),
        "plug-in-gait": build_markerset("PlugInGait", NAME, _markers(PIG_SIDED, PIG_MID)),
        "qualisys": build_markerset(
            "Qualisys",
            NAME,
            _markers(QUALISYS_SIDED, QUALISYS_MID, "{s}_{name}"),
            "Qualisys sports/gait marker set (QTM): L_IAS, L_FLE, SNJ, CV7",
        ),
        "opensim-gait": build_markerset(
            "OpenSimGait",
            NAME,
            _markers(OPENSIM_SIDED, OPENSIM_MID),
            "OpenSim gait lab set: RTH1-3/RTB1-3 plate clusters, condyles, malleoli; the computed"
            " joint centres (RHJC, RKJC, RAJC) weigh 0",
            OPENSIM_VIRTUAL,
        ),
        "optitrack-motive": build_markerset(
            "OptiTrackMotive",
            NAME,
            _markers(MOTIVE_SIDED, MOTIVE_MID),
            "OptiTrack Motive skeleton markers (Baseline, Conventional): WaistLFront, LKneeOut",
        ),
        "optitrack-rigid-bodies": build_markerset(
            "OptiTrackRigidBodies",
            NAME,
            _markers(MOTIVE_RIGID_SIDED, MOTIVE_RIGID_MID),
            "OptiTrack Motive rigid bodies per segment (ArmL:Marker1..4, ForearmL:Marker1..4)"
            " and named landmarks (AcromionL, LateralEpicondyleL)",
        ),
    }


def main() -> None:
    root = character()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    vdir = OUT_DIR / VERSION
    vdir.mkdir(exist_ok=True)
    (vdir / "character.xml").write_text(build_mjcf(root), encoding="utf-8")
    manifest = json.dumps(build_manifest(root), indent=2) + "\n"
    (vdir / "manifest.json").write_text(manifest, encoding="utf-8")
    print(f"wrote {vdir}")
    mdir = OUT_DIR.parents[1] / "markersets"
    mdir.mkdir(exist_ok=True)
    for key, text in shipped_markersets().items():
        (mdir / f"{key}.xml").write_text(text, encoding="utf-8")
    print(f"wrote {mdir}")


if __name__ == "__main__":
    main()
