"""Review of issue 17, finding 5: a kernel that cannot start hung the build's workers.

With a long ``TMPDIR`` the kernels' socket paths were too long (``ZMQError: File name too
long``); the failed start left its control socket open, and the worker blocked for ever in
``zmq_ctx_term`` when the manager was collected. The kernels' folder now falls back to a short
one, and a failed start closes what it opened.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from evaluation.engine import kernels

#: Starts a kernel whose socket paths are too long, then collects its manager.
FAILED_START = """\
import gc, pathlib, sys
from evaluation.engine import kernels
folder = pathlib.Path(sys.argv[1])
folder.mkdir(parents=True)
kernels.ipc_dir = lambda root=None: folder
try:
    kernels.launch(sys.argv[2])
except Exception as exc:
    print("raised", type(exc).__name__, flush=True)
gc.collect()
print("collected", flush=True)
"""


def test_the_kernels_folder_falls_back_to_a_short_one_under_a_long_tmpdir(tmp_path):
    long = tmp_path / ("t" * 100)
    long.mkdir()
    folder = kernels.ipc_dir(long)
    assert len(os.fsencode(folder)) + kernels.SOCKET_NAME <= kernels.MAX_SOCKET_PATH
    assert folder.is_dir() and folder.stat().st_uid == os.getuid()
    # a short one is used as it is (pytest's own tmp_path can be too long under xdist)
    short = Path(tempfile.mkdtemp(prefix="emk-", dir="/tmp"))
    try:
        assert kernels.ipc_dir(short) == short / f"em-kernels-{os.getuid()}"
    finally:
        shutil.rmtree(short)


@pytest.mark.slow
def test_a_kernel_that_cannot_start_leaves_nothing_open(tmp_path):
    from evaluation import config

    long = tmp_path / ("s" * 100)
    try:
        run = subprocess.run([sys.executable, "-c", FAILED_START, str(long),
                              str(config.NOTEBOOKS_DIR)], capture_output=True, text=True,
                             timeout=60)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"a failed kernel start hung its process: {err.stdout!r}")
    assert run.stdout.split() == ["raised", "ZMQError", "collected"], run.stderr
