"""Kernels for rendering: IPC transport (no TCP ports to collide) and one warm kernel per process.

Two kernels started at the same moment on TCP could pick the same free port and fail with
``ZMQError: Address already in use``; over IPC each kernel's sockets are files with a unique
name, so no two kernels can ever ask for the same address.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

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

#: Environment variables a report reads at run time (the output checker's log folder, the
#: build's commit, the folder of results its workers share). A warm kernel was started with
#: the environment of the first report it ran, so before each later notebook they are set to
#: the rendering process's current values (or removed).
FORWARDED_ENV = ("EM_OUTPUT_LOG", "EVALUATION_COMMIT", "EVALUATION_SHARED_DIR")


def reset_code(environ=None) -> str:
    """Return ``RESET_CODE`` followed by code giving the kernel the forwarded variables' values.

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
    return RESET_CODE + "\n".join(lines) + "\n"


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
