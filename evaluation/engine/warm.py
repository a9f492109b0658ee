"""A papermill engine that runs every notebook of a process in one long-lived kernel.

``papermill.execute_notebook(..., engine_name="warm")`` parameterises, records and saves the
notebook exactly as the default engine does; only the kernel differs: started once per
process (IPC transport), its namespace reset before each notebook, never shut down between
notebooks. Imports, data read through module-level caches and results computed once (the
similar-schools table) stay in memory across reports.

A build's worker starts its kernel before its first report (:func:`start`); otherwise the
first notebook does. What the kernel process itself writes (not its cells) goes to the log of
the report during which it was written.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.utils import merge_kwargs, remove_args

from evaluation.engine.kernels import Launched, connect, launch, reset_code

_LOCK = threading.Lock()
_STATE: dict = {}
#: Notebooks run in the current warm kernel (for tests and the bench).
STATS = {"kernels_started": 0, "notebooks": 0}


def _reset(client: PapermillNotebookClient) -> None:
    """Reset the namespace and the forwarded environment, silently (no output kept)."""
    from jupyter_core.utils import run_sync

    msg_id = client.kc.execute(reset_code(), silent=True, store_history=False)
    reply = run_sync(client.kc._async_get_shell_msg)(timeout=60)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = run_sync(client.kc._async_get_shell_msg)(timeout=60)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"warm kernel: reset failed: {reply['content']}")


def start(cwd, kernel_name: str = "python3", startup_timeout: float = 60,
          launched: Launched | None = None) -> None:
    """Give this process its warm kernel now, if it has none, and wait until it answers.

    Parameters
    ----------
    cwd : path
        The kernel's working directory (the notebooks' folder).
    kernel_name : str
        The kernel to start.
    startup_timeout : float
        Seconds to wait for the kernel to answer.
    launched : Launched, optional
        A kernel already started (:func:`evaluation.engine.kernels.launch`): a build's
        worker starts it, then imports papermill while it starts up.

    Examples
    --------
    >>> start("notebooks")          # doctest: +SKIP
    """
    with _LOCK:
        running = "km" in _STATE
    if running:
        if launched is not None:                   # not needed: stopped, not left running
            from jupyter_core.utils import run_sync

            try:
                run_sync(launched.km.shutdown_kernel)(now=True)
            finally:
                launched.output.close()
        return
    launched = launched or launch(cwd, kernel_name)
    try:
        kc = connect(launched, startup_timeout)
    except BaseException:
        try:
            _copy_output(launched.output, 0)     # why the kernel died: into the report's log
        finally:
            launched.output.close()
        raise
    with _LOCK:
        _STATE.update(km=launched.km, kc=kc, kernel_name=kernel_name, output=launched.output,
                      read=0)
        STATS["kernels_started"] += 1


def _copy_output(out, start: int) -> int:
    """Write the bytes of file ``out`` from ``start`` to this process's stderr; return the end."""
    new = os.pread(out.fileno(), 1 << 20, start)
    while new:
        start += len(new)
        sys.stderr.write(new.decode("utf-8", errors="replace"))
        new = os.pread(out.fileno(), 1 << 20, start)
    sys.stderr.flush()
    return start


def _forward_output() -> None:
    """Write what the kernel process wrote since the last call to this process's stderr."""
    if _STATE.get("output") is not None:
        _STATE["read"] = _copy_output(_STATE["output"], _STATE["read"])


def shutdown() -> None:
    """Stop this process's warm kernel (at exit, or to start afresh)."""
    from jupyter_core.utils import run_sync

    _forward_output()            # a kernel that died between reports: what it wrote last
    with _LOCK:
        km, kc = _STATE.pop("km", None), _STATE.pop("kc", None)
        out = _STATE.pop("output", None)
    if kc is not None:
        kc.stop_channels()
    if km is not None and km.has_kernel:
        run_sync(km.shutdown_kernel)(now=True)
    if out is not None:
        out.close()


atexit.register(shutdown)


class WarmEngine(NBClientEngine):
    """Papermill engine ``warm``: one kernel per process, reused for every notebook."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                 stderr_file=None, start_timeout=60, execution_timeout=None,
                                 **kwargs):
        """Execute the parameterised notebook in the process's warm kernel."""
        kwargs = remove_args(["input_path", "kernel_manager_class"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(
            safe_kwargs, timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
            startup_timeout=start_timeout, kernel_name=kernel_name, log_output=log_output,
            stdout_file=stdout_file, stderr_file=stderr_file)
        from jupyter_core.utils import run_sync

        with _LOCK:
            km = _STATE.get("km")
        if km is not None and (not km.has_kernel or _STATE.get("kernel_name") != kernel_name
                               or not run_sync(km.is_alive)()):
            shutdown()  # a kernel that died (or of another language) is replaced
        # papermill has moved into the notebook's working directory: the kernel's, as
        # nbclient would start it
        start(os.getcwd(), kernel_name, start_timeout)
        client = PapermillNotebookClient(nb_man, km=_STATE["km"], **final_kwargs)
        client.kc = _STATE["kc"]
        _reset(client)
        # papermill writes the notebook after every cell so that a long run can be watched;
        # here a report takes a second: write it once, at the end (papermill does, after the
        # engine returns, with the error shown if a cell failed)
        nb_man.save = lambda *args, **kw: None
        try:
            out = client.execute()
        finally:
            STATS["notebooks"] += 1
            _forward_output()
        return out


papermill_engines.register("warm", WarmEngine)
