"""``Client`` and ``AsyncClient`` are twins: same resources, same methods, same signatures."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

import myosdk
from myosdk import (
    Assets,
    AsyncAssets,
    AsyncCharacters,
    AsyncClient,
    AsyncJobHandle,
    AsyncJobs,
    Characters,
    Client,
    JobHandle,
    Jobs,
)

PAIRS = [
    (Client, AsyncClient),
    (Assets, AsyncAssets),
    (Jobs, AsyncJobs),
    (Characters, AsyncCharacters),
    (JobHandle, AsyncJobHandle),
]
#: Lifecycle methods that differ by design (``with`` vs ``async with``).
LIFECYCLE = {"close": "aclose", "__enter__": "__aenter__", "__exit__": "__aexit__"}


def _public_methods(cls: type) -> dict[str, Callable[..., Any]]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") or name in LIFECYCLE or name in LIFECYCLE.values()
    }


def _shape(fn: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS)
def test_twins_expose_the_same_methods_and_signatures(sync_cls: type, async_cls: type) -> None:
    sync_methods = _public_methods(sync_cls)
    async_methods = _public_methods(async_cls)
    renamed = {LIFECYCLE.get(name, name) for name in sync_methods}
    assert renamed == set(async_methods)
    for name, fn in sync_methods.items():
        twin = async_methods[LIFECYCLE.get(name, name)]
        if name in LIFECYCLE:
            assert inspect.iscoroutinefunction(twin), name
            continue
        assert _shape(fn) == _shape(twin), name
        assert not inspect.iscoroutinefunction(fn), name
        if inspect.isgeneratorfunction(fn):
            assert inspect.isasyncgenfunction(twin), name
        else:
            assert inspect.iscoroutinefunction(twin), name
        assert (fn.__doc__ or "").strip(), f"{sync_cls.__name__}.{name} has no docstring"
        assert (twin.__doc__ or "").strip(), f"{async_cls.__name__}.{name} has no docstring"


def test_clients_have_the_same_constructor_and_resources() -> None:
    assert _shape(Client.__init__) == _shape(AsyncClient.__init__)
    sync_client = Client(api_key="k", base_url="http://127.0.0.1:9")
    async_client = AsyncClient(api_key="k", base_url="http://127.0.0.1:9")
    try:
        for attr, (sync_cls, async_cls) in {
            "assets": (Assets, AsyncAssets),
            "jobs": (Jobs, AsyncJobs),
            "characters": (Characters, AsyncCharacters),
        }.items():
            assert type(getattr(sync_client, attr)) is sync_cls
            assert type(getattr(async_client, attr)) is async_cls
    finally:
        sync_client.close()


def test_reference_surface_names_and_defaults() -> None:
    """The vendor reference's names, positional order and defaults are the contract."""
    sig = inspect.signature(Jobs.start_retarget)
    assert list(sig.parameters)[1:] == [
        "c3d_asset_id",
        "c3d_s3",
        "markerset_asset_id",
        "markerset_s3",
        "character_id",
        "character_version",
        "enable_scaling",
        "subject_gender",
        "subject_height",
        "subject_weight",
        "metadata",
        "export_glb",  # after the reference's own: their positions are unchanged
        "export_formats",  # this project's server only
        # the vendor's newer API fields: keyword-only, None (not sent) by default
        "rotation",
        "mocap_scale",
        "clip_length",
        "n_frames_scaling",
        "chunk_size",
        "disable_contacts",
        # myo-server's extensions (the engine's options): keyword-only, None by default too
        "vertical_axis",
        "frame_range",
        "calibration_window",
    ]
    newer = list(sig.parameters.values())[-9:]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is None for p in newer)
    assert sig.parameters["export_glb"].default is False
    assert sig.parameters["export_formats"].default is None
    assert sig.parameters["character_id"].default == "0199e278-06e6-7726-a6ba-9929f79005e8"
    assert sig.parameters["character_version"].default == "v1.0.0"
    assert sig.parameters["enable_scaling"].default is True
    assert sig.parameters["subject_gender"].default == "male"
    assert _shape(Jobs.list)[1:] == [
        (name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default)
        for name, default in [
            ("status", None),
            ("job_type", None),
            ("created_after", None),
            ("created_before", None),
            ("run_id", None),
            ("has_output", None),
            ("input_asset_id", None),
            ("limit", 50),
            ("offset", 0),
        ]
    ]
    assert [p[:3:2] for p in _shape(Jobs.wait)[1:4]] == [
        ("job_id", inspect.Parameter.empty),
        ("interval", 2.0),
        ("timeout", None),
    ]
    assert [(n, d) for n, _, d in _shape(Assets.list)[1:5]] == [
        ("purpose", None),
        ("reference_count", None),
        ("limit", 50),
        ("offset", 0),
    ]
    # Our extension after the reference's parameters, keyword-only.
    assert _shape(Assets.list)[5:] == [("sha256", inspect.Parameter.KEYWORD_ONLY, None)]
    assert [(n, d) for n, _, d in _shape(Assets.upload_file)[1:4]] == [
        ("file_path", inspect.Parameter.empty),
        ("purpose", None),
        ("metadata", None),
    ]
    assert [(n, d) for n, _, d in _shape(Characters.list)[1:]] == [
        ("name_contains", None),
        ("has_ready_versions", None),
        ("limit", 50),
        ("offset", 0),
    ]
    assert [n for n, _, _ in _shape(Characters.validate_manifest)[1:]] == [
        "character_id",
        "version",
    ]
    client_sig = inspect.signature(Client.__init__)
    assert [(n, p.default) for n, p in list(client_sig.parameters.items())[1:4]] == [
        ("api_key", None),
        ("base_url", None),
        ("timeout", 30.0),
    ]


def test_public_names_are_exported() -> None:
    for name in myosdk.__all__:
        assert hasattr(myosdk, name), name
    assert issubclass(myosdk.JobTimeoutError, TimeoutError)
    assert issubclass(myosdk.ConflictError, myosdk.ValidationError)
    assert issubclass(myosdk.APITimeoutError, myosdk.APIConnectionError)
    for cls in (myosdk.APIError, myosdk.APIConnectionError, myosdk.IntegrityError):
        assert issubclass(cls, myosdk.MyoSDKError)


def test_retarget_and_create_retarget_take_the_same_options() -> None:
    """``client.retarget`` is ``jobs.create_retarget`` + wait + download: the same options, in
    the same order and with the same defaults, plus its own."""
    create = _shape(Jobs.create_retarget)[1:]
    one_call = _shape(Client.retarget)[1:]
    own = {"output_dir", "on_status", "timeout"}
    assert [p for p in one_call if p[0] not in own] == create
    start = {name: default for name, _, default in _shape(Jobs.start_retarget)[1:]}
    for name, _, default in create:
        if name in start:
            assert default == start[name], name
    assert Client.retarget.__doc__ and "JobFailedError" in Client.retarget.__doc__
