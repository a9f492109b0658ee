"""Kernels for rendering: IPC transport (no TCP ports to collide) and one warm kernel per process.

Two kernels started at the same moment on TCP could pick the same free port and fail with
``ZMQError: Address already in use``; over IPC each kernel's sockets are files with a unique
name, so no two kernels can ever ask for the same address.

This module imports jupyter_client only (not papermill): a build's worker starts its kernel
first and imports the renderer while the kernel starts (:func:`launch`, :func:`connect`).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from jupyter_client.manager import AsyncKernelManager

#: What a warm kernel runs before each notebook: a namespace as fresh as a new kernel's. Every
#: name a notebook made is deleted and the output history emptied (``%reset -f`` does the same
#: but also collects garbage, which costs a second per report with large data in memory);
#: imported modules stay loaded, which is the point.
RESET_CODE = """\
def __em_reset():
    ip = get_ipython()
    ns, hidden = ip.user_ns, ip.user_ns_hidden
    for name in [n for n in ns if n not in hidden and n != "__em_reset"]:
        del ns[name]
    ip.history_manager.output_hist.clear()
    ns.update({"_": "", "__": "", "___": ""})
__em_reset()
del __em_reset
"""

#: What a warm kernel runs before each notebook, after :data:`RESET_CODE`: the cyclic garbage
#: collector runs its youngest generation every 3,000 new objects instead of every 700, and
#: its full collection less often with it. A kernel holds every library a report imports
#: (about 200,000 objects once imported, 260,000-290,000 after its reports), and each full
#: collection goes through all of them. In one full build (21 reports, two kernels), the
#: kernels spent 2.8 s collecting with 17 full collections, and 0.9 s with 2; the larger
#: kernel's peak memory went from 776 to 794 MB. At 10,000 they spent 0.7 s with no full
#: collection at all, and that kernel peaked at 864 MB: garbage in reference cycles waited
#: longer (issue 17). The same garbage is collected, later; no result depends on when.
GC_CODE = "import gc\ngc.set_threshold(3_000, 10, 10)\ndel gc\n"

#: The arguments nbclient starts a kernel with (its default ``ipython_hist_file``): the
#: kernel keeps no history file.
KERNEL_ARGUMENTS = ("--HistoryManager.hist_file=:memory:",)

#: Environment variables a report reads at run time (the output checker's log folder, the
#: build's commit, the folder of results its workers share). A warm kernel keeps the
#: environment it was started with, so before each notebook they are set to the rendering
#: process's current values (or removed).
FORWARDED_ENV = ("EM_OUTPUT_LOG", "EVALUATION_COMMIT", "EVALUATION_SHARED_DIR")


def reset_code(environ=None) -> str:
    """Return ``RESET_CODE``, ``GC_CODE`` and code giving the kernel the forwarded variables.

    Examples
    --------
    >>> code = reset_code({"EM_OUTPUT_LOG": "checker/overall"})
    >>> "os.environ['EM_OUTPUT_LOG'] = 'checker/overall'" in code
    True
    >>> "os.environ.pop('EM_OUTPUT_LOG', None)" in reset_code({})
    True
    """
    environ = os.environ if environ is None else environ
    lines = ["import os"]
    for name in FORWARDED_ENV:
        if name in environ:
            lines.append(f"os.environ[{name!r}] = {environ[name]!r}")
        else:
            lines.append(f"os.environ.pop({name!r}, None)")
    lines.append("del os")
    return RESET_CODE + GC_CODE + "\n".join(lines) + "\n"


def ipc_dir() -> Path:
    """Return a private folder for kernel sockets (short path: Unix sockets allow ~100 bytes).

    Examples
    --------
    >>> ipc_dir().is_dir()
    True
    """
    path = Path(tempfile.gettempdir()) / f"em-kernels-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


class IPCKernelManager(AsyncKernelManager):
    """An nbclient/papermill kernel manager whose sockets are unique files, not TCP ports.

    Examples
    --------
    >>> km = IPCKernelManager(kernel_name="python3")
    >>> km.transport, km.ip.startswith(str(ipc_dir()))
    ('ipc', True)
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("transport", "ipc")
        super().__init__(**kwargs)
        if self.transport == "ipc":
            self.ip = str(ipc_dir() / uuid.uuid4().hex[:16])


@dataclass
class Launched:
    """A kernel process started and not yet known to answer.

    Attributes
    ----------
    km : IPCKernelManager
        Its manager.
    output : file
        An unnamed temporary file that receives what the kernel process itself writes to its
        standard output and error (starting up, shutting down). What its cells print reaches
        the notebook, as from any kernel; ipykernel also copies here what they write at the
        file-descriptor level (C code, subprocesses).
    """

    km: IPCKernelManager
    output: IO[bytes]


def launch(cwd: str | Path, kernel_name: str = "python3") -> Launched:
    """Start a kernel process in ``cwd``, with nbclient's arguments, without waiting for it.

    Examples
    --------
    >>> k = launch("notebooks")            # doctest: +SKIP
    >>> kc = connect(k)                     # doctest: +SKIP
    """
    from jupyter_core.utils import run_sync

    output = tempfile.TemporaryFile()
    km = IPCKernelManager(kernel_name=kernel_name)
    try:
        run_sync(km.start_kernel)(extra_arguments=list(KERNEL_ARGUMENTS), cwd=str(cwd),
                                  stdout=output, stderr=output)
    except BaseException:
        output.close()
        raise
    return Launched(km, output)


def connect(launched: Launched, timeout: float = 60):
    """Return a client of a launched kernel once the kernel answers (as nbclient connects).

    A kernel that does not answer within ``timeout`` seconds is shut down and the error
    raised.
    """
    from jupyter_core.utils import run_sync

    kc = launched.km.client()
    kc.start_channels()
    try:
        run_sync(kc.wait_for_ready)(timeout=timeout)
    except BaseException:
        kc.stop_channels()
        run_sync(launched.km.shutdown_kernel)(now=True)
        raise
    kc.allow_stdin = False
    return kc
