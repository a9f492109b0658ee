"""Run report tasks on a Dask distributed cluster (``make reports SCHEDULER=tcp://...``).

Each report is a task keyed by its slug and input key: Dask runs each key once, re-runs the
task of a worker that dies, and the task's atomic writes make a re-run harmless. Workers keep
a warm kernel each (:mod:`evaluation.engine.warm`); start them with one thread
(``dask worker --nthreads 1``) or tasks queue for the process's kernel.
"""

from __future__ import annotations

from collections.abc import Callable


def run_on_cluster(scheduler, args: list[tuple], finished: Callable[[dict], None],
                   retries: int = 3) -> None:
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
    """
    from distributed import Client, as_completed

    from evaluation.engine.build import render_task

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        keys = [f"render-{a[0].slug}-{a[3] or 'nokey'}" for a in args]
        futures = [client.submit(render_task, *a, key=k, pure=False, retries=retries)
                   for a, k in zip(args, keys, strict=True)]
        seen = set()
        for fut in as_completed(futures):
            rec = fut.result()
            if rec["slug"] in seen:  # never twice, whatever the cluster did
                continue
            seen.add(rec["slug"])
            finished(rec)
    finally:
        if client is not scheduler:
            client.close()
