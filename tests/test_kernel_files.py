"""A kernel's files: beside its sockets, removed when it is shut down, or once it was killed."""

import asyncio
import os
import signal
import socket
import tempfile
import time
from pathlib import Path

import pytest

from evaluation.engine.kernels import IPCKernelManager, ipc_dir, remove_dead_kernels


@pytest.fixture
def own_tmp(monkeypatch):
    """A temporary folder of this test's own (short: a socket's path is at most ~100 bytes),
    so that no other test process's kernel, starting at that moment, is taken for dead."""
    folder = tempfile.mkdtemp(prefix="emk-", dir="/tmp")
    monkeypatch.setattr(tempfile, "tempdir", folder)
    yield Path(folder)
    for path in sorted(Path(folder).rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    os.rmdir(folder)


def _files(km: IPCKernelManager) -> list[str]:
    return sorted(p.name for p in ipc_dir().glob(f"{Path(km.ip).name}*"))


async def _ready(km: IPCKernelManager) -> None:
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
    finally:
        kc.stop_channels()


def test_a_killed_kernel_s_files_are_removed_and_a_running_one_s_kept(own_tmp):
    async def scenario():
        live, dead = (IPCKernelManager(kernel_name="python3") for _ in range(2))
        assert ipc_dir().parent == own_tmp
        await asyncio.gather(live.start_kernel(), dead.start_kernel())
        try:
            await asyncio.gather(_ready(live), _ready(dead))
            name = Path(dead.ip).name
            # its connection file beside its five sockets, none in the temporary folder
            assert _files(dead) == [f"{name}-{i}" for i in range(1, 6)] + [f"{name}.json"]
            assert not list(own_tmp.glob("*.json"))
            # young files are never taken for a dead kernel's, whatever its sockets say
            assert remove_dead_kernels() == 0
            os.kill(dead.provisioner.pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while await dead.is_alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert len(_files(dead)) == 6       # a killed kernel removes nothing
            assert remove_dead_kernels(older_than=0) == 1
            assert _files(dead) == [] and len(_files(live)) == 6
            await _ready(live)                  # the running kernel still answers
        finally:
            await asyncio.gather(live.shutdown_kernel(now=True), dead.shutdown_kernel(now=True))
        assert _files(live) == []               # shut down by its manager: nothing left

    asyncio.run(scenario())


def test_files_left_by_a_killed_kernel_go_when_the_next_kernel_is_made(own_tmp):
    folder = ipc_dir()
    stale = [folder / "0123456789abcdef.json", folder / "0123456789abcdef-1"]
    stale[0].write_text("{}")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(str(stale[1]))                   # a socket file nobody listens on any more
    young = folder / "fedcba9876543210.json"    # a kernel starting, its sockets not yet open
    young.write_text("{}")
    old = time.time() - 3600
    for path in stale:
        os.utime(path, (old, old), follow_symlinks=False)
    IPCKernelManager(kernel_name="python3")
    assert not any(p.exists() for p in stale) and young.exists()
