"""Run report tasks on a Dask distributed cluster (``make reports SCHEDULER=tcp://...``).

Each report is a task keyed by its slug, input key and the folders it reads and writes
(:func:`task_key`): Dask runs each key once, re-runs the task of a worker that dies, and the
task's atomic writes make a re-run harmless. Two builds into different folders on one
scheduler never share a task. Workers keep a warm kernel each (:mod:`evaluation.engine.warm`);
start them with one thread (``dask worker --nthreads 1``) or tasks queue for the process's
kernel.
"""

from __future__ import annotations

from collections.abc import Callable


def task_key(args: tuple, env: dict | None = None) -> str:
    """Return the Dask key of one report's task: what makes its output distinct.

    The report's slug and input key, and a hash of the reports' and notebooks' folders
    (arguments 2 and 3 of :func:`evaluation.engine.build.render_task`, resolved by the build)
    and of the variables the task is given (``env``: the commit and ``SOURCE_DATE_EPOCH``,
    which the page prints), so that two builds that would write different pages never share
    a task.

    Examples
    --------
    >>> from evaluation.render import ReportSpec
    >>> spec = ReportSpec("overall", "Overall", "x.ipynb")
    >>> task_key((spec, "/r/a", "/nb", "k1")) == task_key((spec, "/r/b", "/nb", "k1"))
    False
    >>> task_key((spec, "/r/a", "/nb", "k1")).startswith("render-overall-k1-")
    True
    >>> a = (spec, "/r/a", "/nb", "k1")
    >>> task_key(a, {"SOURCE_DATE_EPOCH": "1"}) == task_key(a, {"SOURCE_DATE_EPOCH": "2"})
    False
    """
    import hashlib

    spec, reports_dir, notebooks_dir, key = args[:4]
    given = "\0".join(f"{k}={v}" for k, v in sorted((env or {}).items()))
    where = hashlib.sha256(f"{reports_dir}\0{notebooks_dir}\0{given}".encode()).hexdigest()[:12]
    return f"render-{spec.slug}-{key or 'nokey'}-{where}"


def run_on_cluster(scheduler, args: list[tuple], finished: Callable[[dict], None],
                   retries: int = 3, **kwargs) -> None:
    """Submit one task per report to the cluster and call ``finished`` as each completes.

    Parameters
    ----------
    scheduler : str or distributed.Client
        The scheduler's address, or a connected client.
    args : list of tuple
        Arguments of :func:`evaluation.engine.build.render_task`, one tuple per report.
    finished : callable
        Called with each report's record, once per report.
    retries : int
        Re-runs of a task that raised (a lost worker's tasks are re-run by the scheduler
        itself, up to its ``allowed-failures``).
    **kwargs
        Given to every task (``env``, ``code``).
    """
    from distributed import Client, as_completed

    from evaluation.engine.build import render_task

    client = scheduler if isinstance(scheduler, Client) else connect(scheduler)
    try:
        futures = [client.submit(render_task, *a, key=task_key(a, kwargs.get("env")), pure=False,
                                 retries=retries, **kwargs) for a in args]
        seen = set()
        for fut in as_completed(futures):
            rec = fut.result()
            # let the scheduler forget it: a result held on a worker that then dies would
            # otherwise be computed again (a re-render racing the end of the build)
            fut.release()
            if rec["slug"] in seen:  # never twice, whatever the cluster did
                continue
            seen.add(rec["slug"])
            finished(rec)
    finally:
        if client is not scheduler:
            client.close()


def connect(address: str, timeout: str = "30s"):
    """Connect to the scheduler at ``address``; a bad or unreachable address is a SchedulerError.

    Examples
    --------
    >>> connect("garbage")
    Traceback (most recent call last):
    ...
    evaluation.exceptions.SchedulerError: SCHEDULER='garbage' is not a Dask scheduler address ...
    """
    from distributed import Client
    from distributed.comm.addressing import parse_address, parse_host_port

    from evaluation.exceptions import SchedulerError

    expected = ("expected the address of a running Dask scheduler such as tcp://host:8786 "
                "(started with `dask scheduler`), or no SCHEDULER to build on this machine")
    try:
        scheme, loc = parse_address(address, strict=True)
        if scheme in ("tcp", "tls"):
            parse_host_port(loc)
    except (ValueError, TypeError) as err:
        raise SchedulerError(f"SCHEDULER={address!r} is not a Dask scheduler address ({err}); "
                             f"{expected}") from None
    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError) as err:
        raise SchedulerError(f"SCHEDULER={address!r}: no Dask scheduler answered ({err}); "
                             f"{expected}") from None
