# ruff: noqa: E501 (the snapshots are the answers as the model reads them, line for line)
"""Each shared real recording through a scripted assistant over a real stdio MCP session with the
embedded backend (issue 13): the script follows only what the tools answer (conversation.py),
and every conversation ends with a retargeted motion or a specific reason. Every answer's text
is snapshot (paths, ids and digits masked) so wording and size changes show as diffs."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from inline_snapshot import snapshot
from mcp import Client, StdioServerParameters
from tests.myo_mcp.conversation import Conversation, converse

from myo_mcp._budget import RESULT_BUDGET

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SHARED_C3D = Path(__file__).resolve().parents[3] / "shared" / "data" / "c3d"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _masked(text: str, work: Path) -> str:
    text = text.replace(str(work), "WORK")
    text = _UUID.sub("ID", text)
    text = re.sub(r"\b[0-9a-f]{64}\b", "SHA256", text)
    return re.sub(r"\d+(\.\d+)?", "#", text)


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def talks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Conversation, Path]]:
    if not SHARED_C3D.is_dir():
        pytest.skip(f"real recordings not available at {SHARED_C3D} (../shared/data is absent)")
    root = tmp_path_factory.mktemp("talks")
    work, home = root / "work", root / "home"
    (work / "out").mkdir(parents=True)
    for rec in sorted(SHARED_C3D.glob("*.c3d")):
        shutil.copy(rec, work / rec.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYOSDK_", "MYO_MCP_"))}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "myo_mcp", "--allow-dir", str(work), "--data-dir", str(home / "data")],
        env={**env, "MYO_HOME": str(home)},
    )
    out: dict[str, tuple[Conversation, Path]] = {}
    async with Client(params, read_timeout_seconds=600) as client:
        for rec in sorted(work.glob("*.c3d")):
            out[rec.name] = (await converse(client, rec, work / "out"), work)
    return out


async def test_every_recording_ends_retargeted_or_with_a_specific_reason(
    talks: dict[str, tuple[Conversation, Path]],
) -> None:
    ends = {name: talk.outcome for name, (talk, _) in talks.items()}
    assert ends == snapshot(
        {
            "cmu_01_01.c3d": "retargeted",
            "functional_static_dec.c3d": "retargeted",
            "mocap36_malformed.c3d": "stopped",
            "opensim_walking2.c3d": "retargeted",
            "optotrak.c3d": "stopped",
            "pig_motion_flatfoot_full.c3d": "retargeted",
            "pig_static_one_frame.c3d": "retargeted",
            "qualisys.c3d": "retargeted",
            "shd01_prefixed.c3d": "retargeted, no legs",
            "sprintbasket_metres.c3d": "stopped",
        }
    )
    for talk, work in talks.values():
        if talk.motion is None:  # a reason the user can act on, not a generic failure
            assert talk.reason and "Internal" not in talk.reason, talk.recording
        inspected = talk.turns[0].structured or {}
        labels = [*inspected.get("labels", []), *inspected.get("empty_labels", [])]
        for turn in talk.turns:
            # The answer within the budget, read with a user's short folder instead of this
            # test's long temporary one, and without the recording's labels it names, once in
            # each view: a wide recording (68 labels) costs ~800 characters more.
            answer = turn.text + json.dumps(turn.structured or {}, separators=(",", ":"))
            named = [label for label in labels if f'"{label}"' in answer]
            said = len(answer.replace(str(work), "/home/me/mocap")) - 2 * len(",".join(named))
            assert said <= RESULT_BUDGET, (talk.recording, turn.tool, said)


async def test_each_answer_reads_as_before(talks: dict[str, tuple[Conversation, Path]]) -> None:
    said = {
        name: [f"{t.tool}: {_masked(t.text, work)}" for t in talk.turns]
        for name, (talk, work) in talks.items()
    }
    assert said == snapshot(
        {
            "cmu_01_01.c3d": [
                """\
inspect_c3d: path=WORK/cmu_#_#.c#d format=c#d frames=# rate_hz=# duration_s=# units=mm vertical_axis=+Z labels=LBWT,RBWT,LFWT,LTHI,RFRM,RTHI,RWRB,RWRA,STRN,T#,RFIN,RUPA,LKNE,RKNE,LUPA,CLAV,LELB,RSHO,LFRM,LSHN,RSHN,LBHD,LFHD,RBHD,RFHD,RANK,LANK,RHEE,LHEE,LTOE,RTOE,LMT#,RMT#,RFWT,RELB,RBAC,LSHO,C#,LWRA,LFIN,LWRB,RBAC-# next_step="retarget_motion(c#d_path='WORK/cmu_#_#.c#d', markerset='cmu')"
gaps (#): label | missing_pct | longest_gap | gap_filled_frames
RBAC-# | # | # | #
CLAV | # | # | #
RBAC | # | # | #
RFHD | # | # | #
STRN | # | # | #
best_markerset: name=cmu fits=true coverage=#
markersets (#): name | fits | coverage
plug-in-gait | true | #
opensim-gait | false | #
optitrack-rigid-bodies | false | #\
""",
                """\
retarget_motion: done=true job_id=ID status=SUCCEEDED message="Retarget completed (# frames); no markers on toes_r, toes_l or below; # joints left NaN: mtp_flex_r, mtp_flex_l; # other joints NaN in the frames where their markers are missing (up to # of #)" c#d_asset_id=ID markerset_asset_id=ID next_step="summarize_motion(path=output.path) for ranges of motion and a plot, show_motion to see it move, export_motion for GLB/BVH/.mot/CSV."
output: asset_id=ID path=WORK/out/cmu_#_#.npz size_bytes=# sha#=SHA#\
""",
                """\
summarize_motion: source=WORK/out/cmu_#_#.npz frames=# fps=# duration_s=# plotted_joints=hip_flex_r,knee_flex_r,ankle_flex_r,hip_flex_l,knee_flex_l,ankle_flex_l unmarked_bodies=toes_r,toes_l rms_residual_mm=# max_residual_mm=# failed_frames=# gap_filled_samples=#
joints (#): joint | min_deg | max_deg | range_deg | observed_pct
hip_flex_r | -# | # | # | #
knee_flex_r | # | # | # | #
ankle_flex_r | -# | # | # | #
hip_flex_l | -# | # | # | #
knee_flex_l | # | # | # | #
ankle_flex_l | -# | # | # | #
worst_markers (#): marker | rms_mm
RKNE | #
LKNE | #
RELB | #
LBWT | #
LTHI | #\
""",
            ],
            "functional_static_dec.c3d": [
                """\
inspect_c3d: path=WORK/functional_static_dec.c#d format=c#d frames=# rate_hz=# duration_s=# units=mm vertical_axis=+Z labels=LASI,RASI,LPSI,RPSI,LTHI,LKNE,LTIB,LANK,LHEE,LTOE,RTHI,RKNE,RTIB,RANK,RHEE,RTOE,LF#,LF#,LF#,LF#,LF#,RF#,RF#,RF#,RF#,RF#,LT#,LT#,LT#,LT#,LT#,RT#,RT#,RT#,RT#,RT# empty_labels=LFHD,RFHD,LBHD,RBHD,C#,T#,CLAV,STRN,LBAK,RBAK,LSHO,LUPA,LELB,LFRA,LWRA,LWRB,LFIN,RSHO,RUPA,RELB,RFRA,RWRA,RWRB,RFIN,SACR,LKNEin,LANKin,RKNEin,RANKin,LeftHipCenter,RightHipCenter,# next_step="retarget_motion(c#d_path='WORK/functional_static_dec.c#d', markerset='plug-in-gait')"
best_markerset: name=plug-in-gait fits=true partial=true coverage=# unobserved_bodies=lumbar_spine note="partial fit: no markers on lumbar_spine or below, so # joints get no data (NaN); # of its labels hold no data"
markersets (#): name | fits | partial | coverage
opensim-gait | true | true | #
cmu | false |  | #\
""",
                """\
retarget_motion: done=true job_id=ID status=SUCCEEDED message="Retarget completed (# frames); no markers on lumbar_spine, toes_r, toes_l or below; # joints left NaN: lumbar_flex, lumbar_bend, lumbar_arot, thorax_flex, thorax_bend, thorax_arot, neck_flex, neck_bend, neck_arot, clav_elev_r, clav_prot_r, shoulder_flex_r … (+#)" c#d_asset_id=ID markerset_asset_id=ID next_step="summarize_motion(path=output.path) for ranges of motion and a plot, show_motion to see it move, export_motion for GLB/BVH/.mot/CSV."
output: asset_id=ID path=WORK/out/functional_static_dec.npz size_bytes=# sha#=SHA#\
""",
                """\
summarize_motion: source=WORK/out/functional_static_dec.npz frames=# fps=# duration_s=# plotted_joints=hip_flex_r,knee_flex_r,ankle_flex_r,hip_flex_l,knee_flex_l,ankle_flex_l unmarked_bodies=lumbar_spine,toes_r,toes_l rms_residual_mm=# max_residual_mm=# failed_frames=# gap_filled_samples=#
joints (#): joint | min_deg | max_deg | range_deg | observed_pct
hip_flex_r | -# | -# | # | #
knee_flex_r | # | # | # | #
ankle_flex_r | # | # | # | #
hip_flex_l | -# | -# | # | #
knee_flex_l | # | # | # | #
ankle_flex_l | # | # | # | #
worst_markers (#): marker | rms_mm
LPSI | #
RKNE | #
LASI | #
RPSI | #
RASI | #\
""",
            ],
            "mocap36_malformed.c3d": [
                "inspect_c3d: Error executing tool inspect_c#d: Cannot read mocap#_malformed.c#d as a C#D recording: malformed parameter section: record 'LABELS' at byte #: its dimensions claim more data than the record holds; the file is damaged or was written by a non-conforming exporter, re-export it. Check that it is a .c#d file (not truncated)."
            ],
            "opensim_walking2.c3d": [
                """\
inspect_c3d: path=WORK/opensim_walking#.c#d format=c#d frames=# rate_hz=# duration_s=# units=mm vertical_axis=+Z labels=RTH#,RFHD,RTH#,LTH#,LTH#,LTB#,LTB#,LPSI,LTH#,RBHD,LFHD,RPSI,T#,LMT#,LBHD,C#,RTB#,RTB#,RMT#,RTB#,LTB#,RMT#,RASI,RTH#,LASI,LMT#,RCAL,STRN,CLAV,LCAL,RLFC,RMFC,LLFC,LMFC,RMMAL,RLMAL,LMMAL,LLMAL,LAJC,LHJC,LKJC,RAJC,RHJC,RKJC next_step="retarget_motion(c#d_path='WORK/opensim_walking#.c#d', markerset='opensim-gait')"
gaps (#): label | missing_pct | longest_gap | gap_filled_frames
RLFC | # | # | #
RMFC | # | # | #
LLFC | # | # | #
LMFC | # | # | #
RMMAL | # | # | #
best_markerset: name=opensim-gait fits=true coverage=#
markersets (#): name | fits | partial | coverage
plug-in-gait | true | true | #
cmu | false |  | #
optitrack-rigid-bodies | false |  | #\
""",
                """\
retarget_motion: done=true job_id=ID status=SUCCEEDED message="Retarget completed (# frames); no markers on clavicle_r, clavicle_l, toes_r, toes_l or below; # joints left NaN: clav_elev_r, clav_prot_r, shoulder_flex_r, shoulder_abdu_r, shoulder_arot_r, elbow_flex_r, wrist_pron_r, wrist_flex_r, wrist_devi_r, clav_elev_l, clav_prot_l, shoulder_flex_l … (+#); # other joints NaN in the frames where their markers are missing (up to # of #)" c#d_asset_id=ID markerset_asset_id=ID next_step="summarize_motion(path=output.path) for ranges of motion and a plot, show_motion to see it move, export_motion for GLB/BVH/.mot/CSV."
output: asset_id=ID path=WORK/out/opensim_walking#.npz size_bytes=# sha#=SHA#\
""",
                """\
summarize_motion: source=WORK/out/opensim_walking#.npz frames=# fps=# duration_s=# plotted_joints=hip_flex_r,knee_flex_r,ankle_flex_r,hip_flex_l,knee_flex_l,ankle_flex_l unmarked_bodies=clavicle_r,clavicle_l,toes_r,toes_l rms_residual_mm=# max_residual_mm=# failed_frames=# gap_filled_samples=#
joints (#): joint | min_deg | max_deg | range_deg | observed_pct
hip_flex_r | -# | # | # | #
knee_flex_r | -# | # | # | #
ankle_flex_r | -# | # | # | #
hip_flex_l | -# | # | # | #
knee_flex_l | -# | # | # | #
ankle_flex_l | -# | # | # | #
worst_markers (#): marker | rms_mm
LASI | #
RASI | #
RMFC | #
RLFC | #
RKJC | #\
""",
            ],
            "optotrak.c3d": [
                """\
inspect_c3d: path=WORK/optotrak.c#d format=c#d frames=# rate_hz=# duration_s=# units=mm vertical_axis=+X labels=Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_#,Marker_# empty_labels=Marker_#,Marker_# next_step="No shipped markerset fits (closest cmu: only # trunk/pelvis markers match (need # on the pelvis/trunk, or # on the pelvis for the lower body)). draft_markerset(path='WORK/optotrak.c#d') drafts one; or write your own (myo://characters/{character_id}/bodies)."
gaps (#): label | missing_pct | longest_gap | gap_filled_frames
Marker_# | # | # | #\
""",
                'draft_markerset: Error executing tool draft_markerset: Cannot draft a markerset for optotrak.c#d: # of its labels name a pelvis/trunk landmark (need # to fit the character before placing the rest): recognised none; labels Marker_#, Marker_#, Marker_#, Marker_#, Marker_#, Marker_#, Marker_#, Marker_#, Marker_#, Marker_#, Marker_#, Marker_#, Marker_#, Marker_#, Marker_#, Marker_#, Marker_#, Marker_#, Marker_#, Marker_# … (+#). Names it knows (with a side as L/R, Left/Right, L_/_L): pelvis ASI, ASIS, IAS, PSI, PSIS, IPS, SACR, SACRUM, SAC; trunk C#, CV#, VC#, T#, TV#, TH#, T#, TV#, TH#, CLAV, SNJ, IJ, STRN, STERNUM, SXS, BAK, BAC, BACK, SHO, SHOULDER, SAJ. Write a markerset XML (<markers><marker name="LABEL" body="pelvis" pos="x y z" movable="#"/>…</markers>, pos in metres in the body\'s frame: x anterior, y up, z to the right) that attaches the labels to the bodies of myo_humanoid (pelvis, lumbar_spine, thoracic_spine, cervical_spine, skull, clavicle_r, scapula_r, humerus_r, ulna_r, radius_r, lunate_r, clavicle_l, scapula_l, humerus_l, ulna_l, radius_l, lunate_l, femur_r, tibia_r, talus_r, calcaneus_r, toes_r, femur_l, tibia_l, talus_l, calcaneus_l, toes_l), with at least # on the pelvis/trunk, or # on the pelvis for the lower body, or relabel the markers in the capture software and draft again.',
            ],
            "pig_motion_flatfoot_full.c3d": [
                """\
inspect_c3d: path=WORK/pig_motion_flatfoot_full.c#d format=c#d frames=# rate_hz=# duration_s=# units=mm vertical_axis=+Z labels=RFHD,LBHD,RBHD,C#,T#,CLAV,STRN,RBAK,LSHO,LELB,LWRA,LWRB,LFIN,RSHO,RELB,RWRA,RWRB,RFIN,LASI,RASI,LPSI,RPSI,LTHI,LKNE,LTIB,LANK,LHEE,LTOE,RTHI,RKNE,RTIB,RANK,RHEE,RTOE,LFHD next_step="retarget_motion(c#d_path='WORK/pig_motion_flatfoot_full.c#d', markerset='plug-in-gait')"
gaps (#): label | missing_pct | longest_gap | gap_filled_frames
LFHD | # | # | #
best_markerset: name=plug-in-gait fits=true coverage=# missing=LUPA,LFRA,RUPA,RFRA,SACR
markersets (#): name | fits | coverage | partial
cmu | true | # | \n\
opensim-gait | true | # | true
optitrack-rigid-bodies | false | # | \
""",
                """\
retarget_motion: done=true job_id=ID status=SUCCEEDED message="Retarget completed (# frames); no markers on toes_r, toes_l or below; # joints left NaN: mtp_flex_r, mtp_flex_l" c#d_asset_id=ID markerset_asset_id=ID next_step="summarize_motion(path=output.path) for ranges of motion and a plot, show_motion to see it move, export_motion for GLB/BVH/.mot/CSV."
output: asset_id=ID path=WORK/out/pig_motion_flatfoot_full.npz size_bytes=# sha#=SHA#\
""",
                """\
summarize_motion: source=WORK/out/pig_motion_flatfoot_full.npz frames=# fps=# duration_s=# plotted_joints=hip_flex_r,knee_flex_r,ankle_flex_r,hip_flex_l,knee_flex_l,ankle_flex_l unmarked_bodies=toes_r,toes_l rms_residual_mm=# max_residual_mm=# failed_frames=# gap_filled_samples=#
joints (#): joint | min_deg | max_deg | range_deg | observed_pct
hip_flex_r | -# | # | # | #
knee_flex_r | # | # | # | #
ankle_flex_r | -# | # | # | #
hip_flex_l | -# | # | # | #
knee_flex_l | -# | # | # | #
ankle_flex_l | -# | # | # | #
worst_markers (#): marker | rms_mm
LASI | #
RKNE | #
RASI | #
LKNE | #
RANK | #\
""",
            ],
            "pig_static_one_frame.c3d": [
                """\
inspect_c3d: path=WORK/pig_static_one_frame.c#d format=c#d frames=# rate_hz=# duration_s=# units=mm vertical_axis=+Z labels=LFHD,RFHD,LBHD,RBHD,C#,T#,CLAV,STRN,RBAK,LSHO,LELB,LWRA,LWRB,LFIN,RSHO,RELB,RWRA,RWRB,RFIN,LASI,RASI,LPSI,RPSI,LTHI,LKNE,LTIB,LANK,LHEE,LTOE,RTHI,RKNE,RTIB,RANK,RHEE,RTOE,*# next_step="retarget_motion(c#d_path='WORK/pig_static_one_frame.c#d', markerset='plug-in-gait')"
best_markerset: name=plug-in-gait fits=true coverage=# missing=LUPA,LFRA,RUPA,RFRA,SACR
markersets (#): name | fits | coverage | partial
cmu | true | # | \n\
opensim-gait | true | # | true
optitrack-rigid-bodies | false | # | \
""",
                """\
retarget_motion: done=true job_id=ID status=SUCCEEDED message="Retarget completed (# frames); no markers on toes_r, toes_l or below; # joints left NaN: mtp_flex_r, mtp_flex_l" c#d_asset_id=ID markerset_asset_id=ID next_step="summarize_motion(path=output.path) for ranges of motion and a plot, show_motion to see it move, export_motion for GLB/BVH/.mot/CSV."
output: asset_id=ID path=WORK/out/pig_static_one_frame.npz size_bytes=# sha#=SHA#\
""",
                """\
summarize_motion: source=WORK/out/pig_static_one_frame.npz frames=# fps=# duration_s=# plotted_joints=hip_flex_r,knee_flex_r,ankle_flex_r,hip_flex_l,knee_flex_l,ankle_flex_l unmarked_bodies=toes_r,toes_l rms_residual_mm=# max_residual_mm=# failed_frames=# gap_filled_samples=#
joints (#): joint | min_deg | max_deg | range_deg | observed_pct
hip_flex_r | # | # | # | #
knee_flex_r | # | # | # | #
ankle_flex_r | # | # | # | #
hip_flex_l | -# | -# | # | #
knee_flex_l | # | # | # | #
ankle_flex_l | # | # | # | #
worst_markers (#): marker | rms_mm
RPSI | #
LANK | #
T# | #
LPSI | #
RASI | #\
""",
            ],
            "qualisys.c3d": [
                """\
inspect_c3d: path=WORK/qualisys.c#d format=c#d frames=# rate_hz=# duration_s=# units=mm vertical_axis=+Z labels=L_IAS,L_IPS,R_IPS,R_IAS,SNJ,SXS,TV#,CV#,R_SCAP,L_HDF,L_HDB,R_HDB,R_HDF,L_FTC,L_WAND#,L_FLE,L_FME,L_FAX,L_TTC,L_WAND#,L_FAL,L_TAM,L_FCC,L_FM#,L_FM#,R_FTC,R_WAND#,R_FLE,R_FME,R_FAX,R_TTC,R_WAND#,R_FAL,R_TAM,R_FCC,R_FM#,R_FM#,L_HM#,L_HM#,L_UHE,L_RSP,L_WAND#,L_HLE,L_HME,L_WAND#,R_HM#,R_HM#,R_UHE,R_RSP,R_WAND#,R_HLE,R_HME,R_WAND#,L_SAJ,R_SAJ next_step="retarget_motion(c#d_path='WORK/qualisys.c#d', markerset='qualisys')"
best_markerset: name=qualisys fits=true coverage=#\
""",
                """\
retarget_motion: done=true job_id=ID status=SUCCEEDED message="Retarget completed (# frames); no markers on toes_r, toes_l or below; # joints left NaN: mtp_flex_r, mtp_flex_l" c#d_asset_id=ID markerset_asset_id=ID next_step="summarize_motion(path=output.path) for ranges of motion and a plot, show_motion to see it move, export_motion for GLB/BVH/.mot/CSV."
output: asset_id=ID path=WORK/out/qualisys.npz size_bytes=# sha#=SHA#\
""",
                """\
summarize_motion: source=WORK/out/qualisys.npz frames=# fps=# duration_s=# plotted_joints=hip_flex_r,knee_flex_r,ankle_flex_r,hip_flex_l,knee_flex_l,ankle_flex_l unmarked_bodies=toes_r,toes_l rms_residual_mm=# max_residual_mm=# failed_frames=# gap_filled_samples=#
joints (#): joint | min_deg | max_deg | range_deg | observed_pct
hip_flex_r | -# | # | # | #
knee_flex_r | -# | # | # | #
ankle_flex_r | -# | # | # | #
hip_flex_l | -# | # | # | #
knee_flex_l | -# | # | # | #
ankle_flex_l | -# | # | # | #
worst_markers (#): marker | rms_mm
R_FTC | #
L_FTC | #
R_FAX | #
L_FLE | #
L_FAX | #\
""",
            ],
            "shd01_prefixed.c3d": [
                """\
inspect_c3d: path=WORK/shd#_prefixed.c#d format=c#d frames=# rate_hz=# duration_s=# units=mm vertical_axis=+Z labels=RASI,RELB,RUPA,RPSI,STRN,LPSI,RFRA,T#,RSHO,RBAK,CLAV,RWRA,RFIN,RWRB,C#,LELB,LUPA,LWRA,LSHO,RBHD,LBHD,LFRA,RFHD,LFHD,LWRB,LASI,LFIN next_step="retarget_motion(c#d_path='WORK/shd#_prefixed.c#d', markerset='plug-in-gait')"
gaps (#): label | missing_pct | longest_gap | gap_filled_frames
RWRA | # | # | #
RFIN | # | # | #
LFIN | # | # | #
LFHD | # | # | #
best_markerset: name=plug-in-gait fits=true partial=true coverage=# missing=LTHI,LKNE,LTIB,LANK,LHEE,LTOE,RTHI,RKNE,RTIB,RANK,RHEE,RTOE,SACR unobserved_bodies=femur_r,femur_l note="partial fit: no markers on femur_r, femur_l or below, so # joints get no data (NaN)"
markersets (#): name | fits | partial | coverage
cmu | true | true | #
opensim-gait | true | true | #
optitrack-rigid-bodies | false |  | #\
""",
                """\
retarget_motion: done=true job_id=ID status=SUCCEEDED message="Retarget completed (# frames); no markers on femur_r, femur_l or below; # joints left NaN: hip_flex_r, hip_abdu_r, hip_arot_r, knee_flex_r, ankle_flex_r, subtal_inve_r, mtp_flex_r, hip_flex_l, hip_abdu_l, hip_arot_l, knee_flex_l, ankle_flex_l … (+#); # other joints NaN in the frames where their markers are missing (up to # of #)" c#d_asset_id=ID markerset_asset_id=ID next_step="summarize_motion(path=output.path) for ranges of motion and a plot, show_motion to see it move, export_motion for GLB/BVH/.mot/CSV."
output: asset_id=ID path=WORK/out/shd#_prefixed.npz size_bytes=# sha#=SHA#\
""",
                """\
summarize_motion: source=WORK/out/shd#_prefixed.npz frames=# fps=# duration_s=# plotted_joints=shoulder_flex_r,elbow_flex_r,shoulder_flex_l,elbow_flex_l unmarked_bodies=femur_r,femur_l rms_residual_mm=# max_residual_mm=# failed_frames=# gap_filled_samples=#
joints (#): joint | min_deg | max_deg | range_deg | observed_pct
shoulder_flex_r | # | # | # | #
elbow_flex_r | # | # | # | #
shoulder_flex_l | # | # | # | #
elbow_flex_l | # | # | # | #
worst_markers (#): marker | rms_mm
RWRA | #
RWRB | #
STRN | #
RBAK | #
LPSI | #\
""",
            ],
            "sprintbasket_metres.c3d": [
                """\
inspect_c3d: path=WORK/sprintbasket_metres.c#d format=c#d frames=# rate_hz=# duration_s=# units=m vertical_axis=+Z labels=WheelchairL:Marker#,SWL:Marker#,WheelchairL:Marker#,ArmL:Marker#,SWL:Marker#,ArmL:Marker#,ArmL:Marker#,SWL:Marker#,WheelchairL:Marker#,ArmL:Marker#,WheelchairL:Marker#,SWL:Marker#,ForearmL:Marker#,ForearmL:Marker#,ForearmL:Marker#,ForearmL:Marker#,Forehead,TempleL,EarL,C#,AcromionL,ScapularSpineL,ScapulaL,LateralEpicondyleL,HandL,Sync next_step="No shipped markerset fits (closest optitrack-rigid-bodies: only # trunk/pelvis markers match (need # on the pelvis/trunk, or # on the pelvis for the lower body)). draft_markerset(path='WORK/sprintbasket_metres.c#d') drafts one; or write your own (myo://characters/{character_id}/bodies)."
gaps (#): label | missing_pct | longest_gap | gap_filled_frames
ForearmL:Marker# | # | # | #
HandL | # | # | #
ForearmL:Marker# | # | # | #
Sync | # | # | #
Forehead | # | # | #
markersets (#): name | fits | coverage
optitrack-rigid-bodies | false | #
plug-in-gait | false | #
cmu | false | #
opensim-gait | false | #\
""",
                """\
draft_markerset: markerset=WORK/sprintbasket_metres.markerset.xml ready=false by_rigidity="ArmL:Marker# -> humerus_l (#, # mm)","ArmL:Marker# -> humerus_l (#, # mm)","ArmL:Marker# -> humerus_l (#, # mm)","ArmL:Marker# -> humerus_l (#, # mm)","Forehead -> skull (#, # mm)","EarL -> skull (#, # mm)","ScapularSpineL -> scapula_l (#, # mm)" fit_rms_mm=# next_step="Only # of the draft's markers are on the pelvis/trunk and retargeting needs # on the pelvis/trunk, or # on the pelvis for the lower body: add pelvis/trunk markers the recording has to the draft by hand, or retarget a recording with more of them."
by_name: skull=TempleL thoracic_spine=C# scapula_l=AcromionL,ScapulaL humerus_l=LateralEpicondyleL lunate_l=HandL
left_out: moves with no body=WheelchairL:Marker#,SWL:Marker#,WheelchairL:Marker#,SWL:Marker#,SWL:Marker#,WheelchairL:Marker#,WheelchairL:Marker#,SWL:Marker#,ForearmL:Marker#,ForearmL:Marker#,ForearmL:Marker#,ForearmL:Marker#,Sync\
""",
            ],
        }
    )
