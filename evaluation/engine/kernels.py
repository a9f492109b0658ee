"""Kernels for rendering: IPC transport (no TCP ports to collide) and one warm kernel per process.

Two kernels started at the same moment on TCP could pick the same free port and fail with
``ZMQError: Address already in use``; over IPC each kernel's sockets are files with a unique
name, so no two kernels can ever ask for the same address. A kernel's files (its connection
file and its five sockets) are in a private folder (:func:`ipc_dir`); those of a kernel that
was killed (a lost worker, a build stopped as it started) are removed when another starts.

This module imports jupyter_client only (not papermill): a build's worker starts its kernel
first and imports the renderer while the kernel starts (:func:`launch`, :func:`connect`).
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import tempfile
import time
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
#: build's commit, the folder of results its workers share, the reproducible build time of
#: ``SOURCE_DATE_EPOCH``). A warm kernel keeps the
#: environment it was started with, so before each notebook they are set to the rendering
#: process's current values (or removed).
FORWARDED_ENV = ("EM_OUTPUT_LOG", "EVALUATION_COMMIT", "EVALUATION_SHARED_DIR",
                 "SOURCE_DATE_EPOCH")


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


#: Longest path of a kernel's socket file: a Unix socket's address holds 108 bytes on Linux
#: and 104 on macOS, its final NUL included.
MAX_SOCKET_PATH = 100
#: What a kernel's files add to their folder's path: ``/<16 hex digits>-<n>`` (a socket).
SOCKET_NAME = 20
#: Where the kernels' folder goes when the temporary folder's path is too long for sockets.
SHORT_ROOT = "/tmp"


def ipc_dir(root: str | Path | None = None) -> Path:
    """Return a private folder for kernel sockets, with a path short enough for them.

    The folder is ``em-kernels-<uid>`` in the temporary folder (``TMPDIR``), or in
    :data:`SHORT_ROOT` when that path would leave a socket longer than
    :data:`MAX_SOCKET_PATH` bytes (a long ``TMPDIR``, common on HPC job nodes: the kernel
    could not start, ``ZMQError: File name too long``). A folder of that name that is not
    this user's own (another user made it) is never used: a new private one is made.

    Parameters
    ----------
    root : path, optional
        The temporary folder (default :func:`tempfile.gettempdir`).

    Examples
    --------
    >>> ipc_dir().is_dir()
    True
    >>> str(ipc_dir("/" + "x" * 90)).startswith(SHORT_ROOT + "/em-kernels-")
    True
    """
    name = f"em-kernels-{os.getuid()}"
    path = Path(root or tempfile.gettempdir()) / name
    if len(os.fsencode(path)) + SOCKET_NAME > MAX_SOCKET_PATH:
        path = Path(SHORT_ROOT) / name
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        mine = path.lstat()
        if stat.S_ISDIR(mine.st_mode) and mine.st_uid == os.getuid():
            return path
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=path.parent))


#: Files of a kernel younger than this (seconds) are never taken for a dead kernel's: one
#: starting has written its connection file and not yet opened its sockets.
STALE_AFTER = 300


def _listening(path: Path) -> bool:
    """Whether a process accepts connections on the Unix socket ``path`` (unknown: True)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except OSError:
            return True
    return True


def remove_dead_kernels(folder: str | Path | None = None, older_than: float = STALE_AFTER) -> int:
    """Remove the files of kernels that are gone from ``folder``; return how many kernels.

    A kernel's files share its name (:class:`IPCKernelManager`): ``<name>.json`` (its
    connection file) and ``<name>-1`` ... ``<name>-5`` (its sockets). A kernel shut down by its
    manager removes them; one killed (its worker lost, a build stopped as it started) leaves
    them. They are a dead kernel's when none of its sockets accepts a connection and all are
    older than ``older_than`` seconds. Never fails.

    Examples
    --------
    >>> import socket, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> s = socket.socket(socket.AF_UNIX); s.bind(str(folder / "0123abcd-1")); s.close()
    >>> (folder / "0123abcd.json").write_text("{}")
    2
    >>> remove_dead_kernels(folder, older_than=0), sorted(folder.iterdir())
    (1, [])
    """
    folder = Path(folder) if folder is not None else ipc_dir()
    kernels: dict[str, list[Path]] = {}
    try:
        for path in folder.iterdir():
            kernels.setdefault(path.name.removesuffix(".json").split("-")[0], []).append(path)
    except OSError:
        return 0
    removed = 0
    for files in kernels.values():
        try:
            modes = [f.lstat() for f in files]
            if any(time.time() - m.st_mtime < older_than for m in modes):
                continue
            if any(_listening(f) for f, m in zip(files, modes, strict=True)
                   if stat.S_ISSOCK(m.st_mode)):
                continue
            for f in files:
                f.unlink(missing_ok=True)
            removed += 1
        except OSError:
            continue
    return removed


class IPCKernelManager(AsyncKernelManager):
    """An nbclient/papermill kernel manager whose sockets are unique files, not TCP ports.

    The kernel's connection file is beside its sockets, in :func:`ipc_dir` (jupyter_client
    would write it to the system's temporary folder, where a killed kernel's would stay); the
    files of kernels that were killed are removed first (:func:`remove_dead_kernels`).

    Examples
    --------
    >>> km = IPCKernelManager(kernel_name="python3")
    >>> km.transport, km.ip.startswith(str(ipc_dir()))
    ('ipc', True)
    >>> Path(km.connection_file).parent == ipc_dir()
    True
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("transport", "ipc")
        super().__init__(**kwargs)
        if self.transport == "ipc":
            folder = ipc_dir()
            remove_dead_kernels(folder)
            name = uuid.uuid4().hex[:16]
            self.ip = str(folder / name)
            if not self.connection_file:
                self.connection_file = str(folder / f"{name}.json")


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
        abandon(km)
        raise
    return Launched(km, output)


def abandon(km: AsyncKernelManager) -> None:
    """Stop a kernel that failed to start, and close every socket its manager opened.

    A start that fails as it connects its control socket (``ZMQError: File name too long``)
    has started the kernel process and leaves that socket open: the manager's ZMQ context
    then never ends, and the process that collects it (a build's worker) blocks in
    ``zmq_ctx_term`` for ever. Never fails.

    Examples
    --------
    >>> km = IPCKernelManager(kernel_name="python3")
    >>> abandon(km)
    >>> km.context.closed
    True
    """
    from jupyter_core.utils import run_sync

    with contextlib.suppress(Exception):
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    with contextlib.suppress(Exception):
        km.cleanup_connection_file()
    with contextlib.suppress(Exception):
        km.context.destroy(linger=0)    # closes the sockets left open, then ends


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
