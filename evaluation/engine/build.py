"""Build many reports fast: warm kernels in worker processes, or tasks on a Dask cluster.

Each report is one idempotent task (:func:`render_task`): it renders into temporary files and
renames them into place, so a task run twice (a worker killed and its task re-run elsewhere)
leaves one complete report. Reports whose inputs have not changed since their last build are
skipped (:func:`input_keys`). A progress bar (tqdm) shows counts, rate and time left; the
summary counts reports built, skipped, not estimable and failed, by reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from evaluation import config
from evaluation.engine.prune import KEPT_KINDS
from evaluation.engine.prune import prune as _prune
from evaluation.provenance import COMMIT_ENV, DATE_ENV, git_commit
from evaluation.render import KERNEL, ReportSpec, render_report, save_record
from evaluation.shared import SHARED_ENV, is_version_folder, unusable

_RENDER_LOCK = threading.Lock()


def package_hash() -> str:
    """Hash of the ``evaluation`` package's files: the code a worker imports (and its data).

    Examples
    --------
    >>> len(package_hash())
    16
    """
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for p in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".j2", ".json", ".yml",
                                                               ".csv") and p.is_file()
                    and "__pycache__" not in p.parts):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def code_hash(notebooks_dir: str | Path = config.NOTEBOOKS_DIR) -> str:
    """Hash of everything that shapes a report besides its data: the package and notebooks.

    The package (:func:`package_hash`), the notebooks and the analysis plan.

    Examples
    --------
    >>> len(code_hash())
    16
    """
    h = hashlib.sha256(package_hash().encode())
    for p in sorted(Path(notebooks_dir).glob("*.ipynb")) + [config.ANALYSIS_PLAN]:
        if p.is_file():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _files_hash(folder: Path) -> str:
    """Hash of the names and bytes of a folder's visible files (not recursive)."""
    h = hashlib.sha256()
    if folder.is_dir():
        for p in sorted(folder.iterdir()):
            if p.is_file() and not p.name.startswith("."):
                h.update(p.name.encode())
                h.update(p.read_bytes())
    return h.hexdigest()[:16]


def input_keys(specs: list[ReportSpec], notebooks_dir=config.NOTEBOOKS_DIR) -> dict[str, str]:
    """One key per report: the hash of what it reads, with the code's hash and its parameters.

    A school report's key covers what its page shows (:meth:`SchoolData.input_hash
    <evaluation.schools.data.SchoolData.input_hash>`): that school's own rows in every file,
    and its ranks, the medians and its similar schools' figures as printed, so changing one
    school's data re-renders that school's report and those whose shown numbers it moves; a
    cluster or overall report's key covers the data set's files; a published report's, its
    source folder.

    Examples
    --------
    >>> input_keys([])
    {}
    """
    code = code_hash(notebooks_dir)
    keys, folders, plan = {}, {}, None
    for spec in specs:
        p = spec.parameters
        if spec.kind == "school":
            from evaluation.schools.data import load_schools

            data = load_schools(p["published_dir"], p["source"], p["destinations"])
            if p["urn"] not in data.schools.index:  # no such school: always try (and fail)
                keys[spec.slug] = ""
                continue
            if plan is None:            # its disclosure threshold, read once for all schools
                from evaluation.plan import load_plan

                plan = load_plan()
            own = data.input_hash(p["urn"], threshold=plan.threshold)
        else:
            folder = (Path(p["published_dir"]) / p["source"] if "source" in p
                      else Path(p.get("data_dir", "")))
            if folder not in folders:
                folders[folder] = _files_hash(folder)
            own = folders[folder]
        params = hashlib.sha256(json.dumps(p, sort_keys=True).encode()).hexdigest()[:8]
        keys[spec.slug] = f"{code}-{own}-{params}"
    return keys


def up_to_date(spec: ReportSpec, reports_dir: Path, key: str) -> bool:
    """Whether the report was built from these inputs (same key) and its page is there.

    The record must be of the page in ``reports_dir``: a record copied or moved with its
    folder names the page where it was built, and that report is built again here.

    Examples
    --------
    >>> up_to_date(ReportSpec("x", "X", "x.ipynb"), Path("/nonexistent"), "k")
    False
    """
    if not key:
        return False
    rec = spec.record_path(reports_dir)
    if not (rec.is_file() and spec.html_path(reports_dir).is_file()):
        return False
    try:
        data = json.loads(rec.read_text())
    except (OSError, ValueError):
        return False
    return (data.get("fields", {}).get("input_key") == key
            and data.get("status") in ("ok", "not estimable")
            and page_here(data.get("html"), spec, reports_dir))


def page_here(html, spec: ReportSpec, reports_dir: str | Path) -> bool:
    """Whether ``html`` (a record's page) is ``spec``'s page in ``reports_dir``, and is there.

    Examples
    --------
    >>> spec = ReportSpec("x", "X", "x.ipynb")
    >>> page_here("/elsewhere/html/x.html", spec, "/nonexistent")
    False
    """
    page = spec.html_path(Path(reports_dir)).resolve()
    return isinstance(html, str) and bool(html) and Path(html).resolve() == page \
        and page.is_file()


def render_task(spec: ReportSpec, reports_dir: str, notebooks_dir: str, key: str = "",
                engine: str | None = "warm", env: dict[str, str | None] | None = None,
                code: str = "") -> dict:
    """Render one report in this process's warm kernel; idempotent (atomic writes).

    ``env`` gives the build's values of variables its reports read (:data:`BUILD_ENV`) to a
    worker started before the build set them (:func:`local_workers`) or on another machine
    (Dask); a None value removes the variable. ``code`` is the client's :func:`package_hash`:
    a worker that imported other code (:func:`worker_code`) renders nothing and returns a
    failed record that says to restart the workers. The notebooks and the analysis plan are
    read afresh by each report: an edit to them needs no restart.

    Returns the render record as a dict (plain data: it crosses process boundaries).

    Examples
    --------
    >>> import tempfile
    >>> spec = ReportSpec("x", "X", "x.ipynb")
    >>> render_task(spec, tempfile.mkdtemp(), ".", code="other")["error"][:28]
    'WorkerCodeError: this worker'
    """
    for name, value in (env or {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if code and code != worker_code():
        return _other_code(spec, reports_dir)
    with _RENDER_LOCK:  # one warm kernel per process: one report at a time in it
        rec = render_report(spec, reports_dir, notebooks_dir, engine=engine)
    out = rec.__dict__.copy()
    if key:
        out["fields"] = {**out["fields"], "input_key": key}
        save_record(spec.record_path(Path(reports_dir)), **out)
    out["pid"] = os.getpid()
    return out


_WORKER_CODE: list[str] = []


def worker_code() -> str:
    """Return :func:`package_hash` as it was at this process's first report (its imports).

    A worker (and its warm kernel) keeps the modules it imported at its first report: a
    checkout changed since (``git pull``) is not the code it renders with.

    Examples
    --------
    >>> worker_code() == worker_code()
    True
    """
    if not _WORKER_CODE:
        _WORKER_CODE.append(package_hash())
    return _WORKER_CODE[0]


def _other_code(spec: ReportSpec, reports_dir: str) -> dict:
    """Return (and save) the failed record of a report refused by a worker of other code."""
    error = ("WorkerCodeError: this worker (process "
             f"{os.getpid()} on {socket.gethostname()}) imported another version of the "
             "evaluation package than the build's (the checkout changed since "
             "the Dask workers started); restart the Dask workers (`dask worker ...`) so "
             "that they import the current code, then build again")
    rec = {"slug": spec.slug, "title": spec.title, "kind": spec.kind, "status": "failed",
           "seconds": {}, "html": str(spec.html_path(Path(reports_dir))), "fields": {},
           "error": error}
    save_record(spec.record_path(Path(reports_dir)), **rec)
    return {**rec, "pid": os.getpid()}


@dataclass
class BuildSummary:
    """What a build did: reports by status, failures by reason, time taken, files removed.

    ``not_pruned`` says why a full build removed no other report's files.
    """

    records: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    seconds: float = 0.0
    removed: dict = field(default_factory=dict)
    not_pruned: str = ""

    @property
    def counts(self) -> Counter:
        """Reports per status (``ok``, ``not estimable``, ``failed``), plus ``skipped``."""
        c = Counter(r["status"] for r in self.records)
        c["skipped (unchanged)"] = len(self.skipped)
        return c

    def text(self) -> str:
        """Return the end-of-build summary a person reads."""
        c = self.counts
        built = c.get("ok", 0) + c.get("not estimable", 0)
        lines = [f"built {built} ({c.get('ok', 0)} ok, {c.get('not estimable', 0)} not "
                 f"estimable), failed {c.get('failed', 0)}, skipped {len(self.skipped)} "
                 f"unchanged, in {self.seconds:.1f} s"
                 + (f" ({60 * len(self.records) / self.seconds:.0f} reports/min)"
                    if self.seconds and self.records else "")]
        reasons = Counter(r["error"].split(":")[0] for r in self.records
                          if r["status"] == "failed")
        for reason, n in reasons.most_common():
            lines.append(f"  failed: {n} x {reason}")
        if self.removed:
            n_files = sum(len(v) for v in self.removed.values())
            named = list(self.removed)
            listed = ", ".join(named[:10]) + (f" and {len(named) - 10} more"
                                              if len(named) > 10 else "")
            lines.append(f"removed {len(self.removed)} report(s) no longer in the build "
                         f"({n_files} files and log folders): {listed}")
        if self.not_pruned:
            lines.append(f"no report of an earlier build removed: {self.not_pruned}")
        return "\n".join(lines)


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="report", disable=not enabled, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.1)


def _warm_init(notebooks_dir: str | None = None) -> None:
    """Prepare a worker process; with ``notebooks_dir``, start its warm kernel there now.

    The kernel starts first (jupyter_client only), and the worker imports papermill while the
    kernel starts up: a worker used to import papermill (0.6-1 s), then start the kernel
    when its first report came. A kernel that cannot start is said on standard error, with
    what the kernel wrote, and the worker's first report starts one itself (its log says
    why, if it cannot either).
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.modules.setdefault("rfc3987_syntax", None)
    if notebooks_dir is None:
        return
    try:
        from evaluation.engine.kernels import launch

        launched = launch(notebooks_dir, KERNEL)
        from evaluation.engine import warm

        warm.start(notebooks_dir, KERNEL, launched=launched)
    except Exception as exc:  # a worker that cannot start early must still take reports
        print(f"build: worker {os.getpid()} could not start its kernel before its first "
              f"report ({type(exc).__name__}: {exc}); that report starts one",
              file=sys.stderr)


#: How often a worker checks that the build that started it still runs (seconds).
PARENT_POLL = 1.0


def _worker_init(notebooks_dir: str | None = None) -> None:
    """Start a worker process of :func:`local_workers`: it ends with its build, and is warm."""
    _exit_with_parent()
    _warm_init(notebooks_dir)


def _exit_with_parent(poll: float = PARENT_POLL) -> threading.Thread:
    """End this worker process when the build that started it has gone.

    A build killed outright (SIGKILL) left its workers rendering, each with its kernel, for
    as long as their reports took, writing into the reports' folder (review 20). A worker
    now checks every ``poll`` seconds that its parent is the one it started with and ends at
    once when not; its kernel, which watches the worker the same way (``JPY_PARENT_PID``),
    then ends too.
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll)
            if os.getppid() != parent:
                os._exit(1)

    thread = threading.Thread(target=watch, name="em-parent-watch", daemon=True)
    thread.start()
    return thread


def nothing_built(reports_dir: str | Path) -> bool:
    """Whether no report has a record in ``reports_dir``: a build there builds every report.

    Examples
    --------
    >>> nothing_built("/nonexistent")
    True
    """
    return not any((Path(reports_dir) / "records").glob("*.json"))


def _ready() -> None:
    """Do nothing: submitted once per worker, so that every worker starts at once."""


#: Variables the build sets for its reports (the commit, the folder of shared results, the
#: reproducible build time); a worker started before the build set them is given them with
#: each task (unset ones are removed from the worker's environment).
BUILD_ENV = (COMMIT_ENV, SHARED_ENV, DATE_ENV)
#: Those a Dask task is given: not the folder of shared results, which is a folder of this
#: machine (a worker on another machine would make one of its own and never remove it).
DASK_ENV = (COMMIT_ENV, DATE_ENV)


def task_env(names: tuple[str, ...] = BUILD_ENV) -> dict[str, str | None]:
    """Return this process's values of ``names`` for :func:`render_task` (None: unset).

    Examples
    --------
    >>> task_env(("EM_SURELY_UNSET",))
    {'EM_SURELY_UNSET': None}
    """
    return {name: os.environ.get(name) for name in names}


@contextlib.contextmanager
def local_workers(workers: int | None = None,
                  notebooks_dir: str | Path | None = config.NOTEBOOKS_DIR):
    """Start local worker processes, each with its warm kernel, for :func:`build`.

    A build starts its workers once it knows which reports to build. A full build (``make
    reports`` into an empty folder) knows that all of them will be, and can start the workers
    and their kernels (3-4 s before a first report's first cell) while it lists the reports.

    Parameters
    ----------
    workers : int, optional
        How many (default: every core). All start now.
    notebooks_dir : path, optional
        The kernels' working directory; None: no kernel is started (a new one per report,
        ``engine=None``).

    Yields
    ------
    concurrent.futures.ProcessPoolExecutor
        To pass to :func:`build` as ``pool``; shut down when the block ends, after its
        running reports, and without the queued ones when the block ends with an error
        (Ctrl-C): nothing is left running to write after the build has cleaned up.

    Examples
    --------
    >>> with local_workers(1) as pool:              # doctest: +SKIP
    ...     build(specs, "reports", pool=pool)
    """
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    workers = workers or len(os.sched_getaffinity(0)) or 1
    with worker_environment(workers):
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_worker_init,
            initargs=(notebooks_dir and str(Path(notebooks_dir).resolve()),))
        try:
            for _ in range(workers):
                pool.submit(_ready)
            yield pool
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True)


#: A full build starts its workers (one per core) before it knows how many reports it
#: has only on a machine of at most this many cores: a report set has the overall, the
#: design-value and the published reports besides its clusters', so all of them will work.
#: With more cores, it starts them once it knows (as many as there are reports): started
#: early, the executor would start another worker for each report submitted before the
#: first ones were ready (review of issue 17).
EARLY_WORKERS = 8


#: The order in which kinds of report are started (others between the published ones and
#: the design-value report): the ones that take longest first (the overall report about 20 s,
#: which also works out the whole evaluation's main analysis, and last the counts every
#: pupil-level report hides, which the first cluster report of another worker has computed
#: by then (:data:`PUBLISHED_BEFORE_CLUSTER`); a national published file 1-4 s; a cluster
#: 1-2.5 s on this project's 2-core machine), and late the design-value report, which reads
#: that main analysis: started earlier, it waits for the overall report to share it. Within
#: a kind, index order.
START_ORDER = {"overall": 0, "published": 1, "design_value": 3}

#: Reports started after the design-value report (about 3 s) when the build has many: two
#: cluster reports (about 1.5 s each) end it, so that the workers finish nearly together
#: instead of one waiting 1.5-2 s for the other's design-value report. In a small build it
#: stays last (started earlier, it would wait for the overall report's main analysis).
AFTER_DESIGN_VALUE = 2
MANY_REPORTS = 10

#: Published reports started before the first cluster report. The overall report's worker
#: first reads and checks the pupil data (3.5-4 s after its kernel's imports) while the other
#: worker renders published reports, which do not read them. That worker's first cluster
#: report then computes the counts linked across every report (about 5.5 s), which the
#: overall report asks for once it has worked out its main analyses. After all seven
#: published reports of ``../shared/data/real``, the cluster report started too late: the
#: overall report waited 1.1-1.7 s for the counts, with one core idle. After four (5.7 s,
#: their kernel's imports included, in one timed build), it waited 0.03 s for the data and
#: had the counts ready 1.1 s before the overall report asked (issue 17). This is a count
#: tuned to that report set on this project's 2-core machine, not a condition: with fewer
#: published reports the cluster report comes right after them and waits for the data
#: instead, as it did before.
PUBLISHED_BEFORE_CLUSTER = 4


def start_order(specs: list[ReportSpec]) -> list[ReportSpec]:
    """Return the reports in the order the workers start them (:data:`START_ORDER`).

    Examples
    --------
    >>> specs = [ReportSpec(s, s, "x.ipynb", kind=k) for s, k in
    ...          [("c1", "cluster"), ("dv", "design_value"), ("ov", "overall"),
    ...           *[(f"c{i}", "cluster") for i in range(2, 11)]]]
    >>> [s.slug for s in start_order(specs)][-4:]
    ['c8', 'dv', 'c9', 'c10']
    >>> [s.slug for s in start_order(specs[:5])]
    ['ov', 'c1', 'c2', 'c3', 'dv']

    The first cluster report comes after the first :data:`PUBLISHED_BEFORE_CLUSTER`
    published reports:

    >>> pub = [ReportSpec(f"p{i}", f"p{i}", "x.ipynb", kind="published") for i in range(8)]
    >>> [s.slug for s in start_order(specs[:5] + pub[:6])]
    ['ov', 'p0', 'p1', 'p2', 'p3', 'c1', 'p4', 'p5', 'dv', 'c2', 'c3']

    With at most four published reports, or no cluster report, nothing moves; the move comes
    before the design-value report's place is chosen (:data:`AFTER_DESIGN_VALUE`):

    >>> [s.slug for s in start_order(specs[:3] + pub[:4])]
    ['ov', 'p0', 'p1', 'p2', 'p3', 'c1', 'dv']
    >>> [s.slug for s in start_order(specs[1:3] + pub[:6])]
    ['ov', 'p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'dv']
    >>> [s.slug for s in start_order(specs[:4] + pub)][-3:]
    ['p7', 'c2', 'dv']
    """
    order = sorted(specs, key=lambda s: START_ORDER.get(s.kind, 2))
    published = [i for i, s in enumerate(order) if s.kind == "published"]
    clusters = [i for i, s in enumerate(order) if s.kind == "cluster"]
    if clusters and len(published) > PUBLISHED_BEFORE_CLUSTER:
        order.insert(published[PUBLISHED_BEFORE_CLUSTER - 1] + 1, order.pop(clusters[0]))
    tail = order[-1 - AFTER_DESIGN_VALUE:]
    if (len(order) > MANY_REPORTS and tail[-1].kind == "design_value"
            and all(s.kind == "cluster" for s in tail[:-1])):
        order.insert(len(order) - 1 - AFTER_DESIGN_VALUE, order.pop())
    return order


def build(specs: list[ReportSpec], reports_dir: str | Path = config.REPORTS_DIR,
          notebooks_dir: str | Path = config.NOTEBOOKS_DIR, workers: int | None = None,
          scheduler: str | None = None, force: bool = False, progress: bool = True,
          engine: str | None = "warm", prune: bool = False,
          on_done: Callable[[dict], None] | None = None, pool=None) -> BuildSummary:
    """Render many reports in parallel, each at most once per build, skipping unchanged ones.

    Parameters
    ----------
    specs : list of ReportSpec
        Reports to build.
    reports_dir, notebooks_dir : path
        Output root and the template notebooks.
    workers : int, optional
        Local worker processes (default: every core). Ignored with ``scheduler``.
    scheduler : str, optional
        A Dask distributed scheduler address (``tcp://host:8786``), or a
        ``distributed.Client``: reports run as tasks on its workers.
    force : bool
        Render even the reports whose inputs are unchanged.
    progress : bool
        Show a progress bar on standard error.
    engine : {"warm", None}
        ``"warm"``: one long-lived kernel per worker; None: a new kernel per report.
    prune : bool
        ``specs`` are every report of the folder (a full build): remove the files of any
        other report once the reports are built (:func:`evaluation.engine.prune.prune`), so
        that no page of an earlier data set stays among those given to readers; unless a
        report failed because its data could not be read (:data:`UNREAD_DATA`): the data
        named may be the wrong ones (a misspelt folder), and the summary says why nothing
        was removed.
    on_done : callable, optional
        Called with each finished report's record (tests, logs).
    pool : concurrent.futures.ProcessPoolExecutor, optional
        Workers already started (:func:`local_workers`), used instead of ``workers``.

    Returns
    -------
    BuildSummary

    Examples
    --------
    >>> build([], "/tmp/em-empty", progress=False).text().split(", in")[0]
    'built 0 (0 ok, 0 not estimable), failed 0, skipped 0 unchanged'
    """
    t0 = time.perf_counter()
    reports_dir = Path(reports_dir).resolve()
    notebooks_dir = Path(notebooks_dir).resolve()
    if not os.environ.get(SHARED_ENV):    # every build, even one with nothing to render
        _remove_orphaned_scratch()
    keys = input_keys(specs, notebooks_dir)
    todo = [s for s in specs if force or not up_to_date(s, reports_dir, keys[s.slug])]
    summary = BuildSummary(skipped=[s.slug for s in specs if s not in todo])
    if todo:
        summary.records = _render_all(todo, reports_dir, notebooks_dir, keys, engine,
                                      scheduler, workers, pool, progress, on_done)
    _remove_running_files(specs, reports_dir)
    if prune:
        summary.not_pruned = unread_data(summary.records)
        summary.removed = {} if summary.not_pruned else _prune(specs, reports_dir)
    summary.seconds = time.perf_counter() - t0
    return summary


#: The reason (:func:`evaluation.render._failure_reason`) of a report whose data could not be
#: read: a full build then removes no other report (:func:`unread_data`).
UNREAD_DATA = "DataError"


def unread_data(records: list[dict]) -> str:
    """Return why a full build must not remove other reports' files: a data set not read.

    Only the reports of the data the build's list was made from count (the pupil data, a
    performance table's schools): a published report's file failing to read says nothing of
    them, and never kept an earlier data set's pages (second review of issue 17).

    Examples
    --------
    >>> unread_data([{"slug": "overall", "kind": "overall", "status": "failed",
    ...               "error": "DataError: data/x: no such data directory"}])
    'report overall could not read its data (DataError: data/x: no such data directory)'
    >>> unread_data([{"slug": "p", "kind": "published", "status": "failed",
    ...               "error": "DataError: x.csv: column 'URN' missing"}])
    ''
    """
    for rec in records:
        if (rec["status"] == "failed" and rec.get("kind") not in KEPT_KINDS
                and rec["error"].startswith(UNREAD_DATA + ":")):
            return f"report {rec['slug']} could not read its data ({rec['error']})"
    return ""


def _render_all(todo: list[ReportSpec], reports_dir: Path, notebooks_dir: Path,
                keys: dict[str, str], engine, scheduler, workers, pool, progress,
                on_done) -> list[dict]:
    """Render ``todo`` (:func:`build`'s arguments); return their records in ``todo``'s order.

    A record whose page is not this folder's (:func:`page_here`: a task run for another
    build, a worker that sees another file system) is counted as failed, naming both.
    """
    # longest first, so that no long report starts last while the other workers wait
    order = start_order(todo)
    args = [(s, str(reports_dir), str(notebooks_dir), keys[s.slug], engine) for s in order]
    by_slug = {s.slug: s for s in todo}
    bar = _progress(len(todo), progress)
    done: dict[str, dict] = {}

    def finished(rec: dict) -> None:
        spec = by_slug[rec["slug"]]
        if rec["status"] != "failed" and not page_here(rec["html"], spec, reports_dir):
            rec = {**rec, "status": "failed",
                   "error": f"PageMissing: the task reported its page as {rec['html']}, but "
                            f"{spec.html_path(reports_dir)} is not there (a task of another "
                            "build, or a worker that sees another file system); expected "
                            "the page in the reports' folder of this build"}
        done[rec["slug"]] = rec
        bar.update(1)
        if rec["status"] == "failed":
            bar.write(f"report {rec['slug']}: failed: {rec['error']}", file=sys.stderr)
        if on_done:
            on_done(rec)

    commit = os.environ.get(COMMIT_ENV)
    os.environ[COMMIT_ENV] = commit or git_commit()   # read once: one label per build
    shared = os.environ.get(SHARED_ENV)
    # the shared results hold every linked count unsuppressed: never under the reports'
    # folder (tenth review of issue 14), in a private folder of this build, removed after it
    scratch = None if shared else tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
    held = None if shared else _hold(Path(scratch))
    shutil.rmtree(reports_dir / "_shared", ignore_errors=True)   # where earlier builds put it
    os.environ[SHARED_ENV] = str(_shared_folder(Path(shared or scratch), notebooks_dir))
    if why := unusable(os.environ[SHARED_ENV]):
        print(f"build: results are not shared between workers (slower): "
              f"{os.environ[SHARED_ENV]}: {why}", file=sys.stderr)
    try:
        if scheduler is not None:
            from evaluation.engine.dask import run_on_cluster

            run_on_cluster(scheduler, args, finished, env=task_env(DASK_ENV),
                           code=package_hash())
        elif pool is not None:
            _run_local(args, 0, finished, pool=pool)
        else:
            # as many workers as reports at most: their share of the cores counts these
            _run_local(args, min(workers or len(os.sched_getaffinity(0)) or 1, len(args)),
                       finished)
    finally:
        bar.close()
        if commit is None:
            os.environ.pop(COMMIT_ENV, None)
        if shared is None:
            os.environ.pop(SHARED_ENV, None)
            shutil.rmtree(scratch, ignore_errors=True)
            held.close()
        else:                    # the user's folder, not this build's version folder in it
            os.environ[SHARED_ENV] = shared
    return [done[s.slug] for s in todo if s.slug in done]


def _remove_running_files(specs: list[ReportSpec], reports_dir: Path) -> None:
    """Remove what killed runs of these reports left in ``_executed/`` (any is an orphan now).

    A worker killed mid-render (a lost Dask worker, a build killed outright) leaves its
    half-written notebook and, when its kernel finishes late, its run's record; a build with
    nothing to render removes them too (review 20).
    """
    for s in specs:
        executed = s.executed_path(reports_dir)
        for stale in executed.parent.glob(f".{executed.name}.*.running.*"):
            stale.unlink(missing_ok=True)


#: Start of the name of a build's own folder of shared results.
SCRATCH_PREFIX = "evaluation-shared-"
#: The file in that folder whose lock the build holds while it runs.
SCRATCH_LOCK = ".held"


def _hold(folder: Path):
    """Hold the lock of a build's own folder of shared results until the file is closed.

    The kernel releases it when the build ends in any way, SIGKILL included: a folder whose
    lock can be taken is an orphan (:func:`_remove_orphaned_scratch`).
    """
    import fcntl

    fh = open(folder / SCRATCH_LOCK, "w")      # noqa: SIM115  (held for the build's life)
    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fh


def _remove_orphaned_scratch(root: str | Path | None = None) -> list[Path]:
    """Remove the shared-results folders of this user's builds that were killed; return them.

    A build removes its folder when it ends, even on Ctrl-C; one killed outright (SIGKILL, a
    lost machine) cannot, and its folder holds every linked count unsuppressed and the pupil
    data read. A folder is an orphan when it is this user's and the lock its build held
    (:func:`_hold`) is free: its build has ended. Process ids are not used: a build in another
    PID namespace (a container sharing the folder) has one this process cannot see (review 20).
    A folder without the lock file (from before it existed, or being created) is left.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> live, dead = root / f"{SCRATCH_PREFIX}a", root / f"{SCRATCH_PREFIX}b"
    >>> live.mkdir(); dead.mkdir()
    >>> held = _hold(live); (dead / SCRATCH_LOCK).touch()
    >>> [p.name for p in _remove_orphaned_scratch(root)], live.exists()
    (['evaluation-shared-b'], True)
    >>> held.close()
    """
    import fcntl

    removed = []
    for folder in sorted(Path(root or tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*")):
        lock = folder / SCRATCH_LOCK
        try:
            if (folder.is_symlink() or not folder.is_dir()
                    or folder.stat().st_uid != os.getuid() or not lock.is_file()
                    or lock.is_symlink()):
                continue
            with open(lock) as fh:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)   # raises while a build holds it
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:           # held by a running build, or gone meanwhile
            continue
        removed.append(folder)
    return removed


#: Libraries whose version changes the results the workers share (:func:`_shared_folder`).
SHARED_LIBRARIES = ("numpy", "pandas", "scipy", "statsmodels", "patsy", "numba")


def _shared_folder(root: Path, notebooks_dir: Path) -> Path:
    """Return the folder of results the build's workers share (:mod:`evaluation.shared`).

    One folder under ``root`` per version of the code and of the libraries that compute the
    shared results (numpy, pandas, scipy: a new solver may choose other cells to hide;
    statsmodels and patsy: the impacts' fits; numba: the optimal matching's solver); folders
    of other versions are removed.
    """
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "none"

    libs = "-".join(installed(p) for p in SHARED_LIBRARIES)
    tag = hashlib.sha256(f"{code_hash(notebooks_dir)}-{libs}".encode()).hexdigest()[:16]
    folder = root / tag
    if root.is_dir():        # only earlier versions' folders: a user's folder may hold more
        for old in root.iterdir():
            if old != folder and old.is_dir() and is_version_folder(old):
                shutil.rmtree(old, ignore_errors=True)
    return folder


#: The variables by which numpy's BLAS (OpenBLAS, MKL) and OpenMP read their thread count.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS",
                    "MKL_NUM_THREADS")


#: Where Arrow's buffers come from in the workers' kernels, unless the user has chosen
#: (:data:`ARROW_POOL_VARIABLE`): the C library's allocator. pandas keeps text columns in
#: Arrow buffers, and with Arrow's default pool (mimalloc, in pyarrow 26) the 21 reports run in
#: one process took 3.0-3.5 s of system time, against 1.6-2.0 s, and about 1.3 s more user
#: time; a full build took about 1 s more system time, its user time within the noise (three
#: runs each; issue 17). Why was not traced: the system allocator has more page faults, not
#: fewer. The kernels' peak memory in a full build: 774 and 850 MB, against 789 and 824 MB.
#: The pages are the same byte for byte.
ARROW_POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"
ARROW_POOL = "system"


@contextlib.contextmanager
def worker_environment(workers: int, cores: int | None = None):
    """Set what the worker processes and their kernels inherit: threads and Arrow's pool.

    Each worker's kernel gets its share of the cores for its numerical libraries. A kernel's
    numpy otherwise starts one BLAS thread per core: two workers on two cores ran four busy
    threads, and a build took 80 s instead of 40 s. When the user has set any of
    :data:`THREAD_VARIABLES`, none is touched (OpenBLAS reads its own variable before
    ``OMP_NUM_THREADS``: setting it would override the user's choice). Arrow's memory pool is
    :data:`ARROW_POOL` unless the user has set :data:`ARROW_POOL_VARIABLE`. An empty variable
    counts as unset, as it does to OpenBLAS and Arrow. Each variable set gets its earlier value
    back (or is removed) when the block ends.

    Parameters
    ----------
    workers : int
        How many worker processes share the cores.
    cores : int, optional
        The cores to share (default: those this process may run on).

    Yields
    ------
    None

    Examples
    --------
    >>> import os
    >>> names = [*THREAD_VARIABLES, ARROW_POOL_VARIABLE]
    >>> saved = {v: os.environ.pop(v, None) for v in names}
    >>> with worker_environment(2, cores=2):
    ...     os.environ["OMP_NUM_THREADS"], os.environ[ARROW_POOL_VARIABLE]
    ('1', 'system')
    >>> "OMP_NUM_THREADS" in os.environ, ARROW_POOL_VARIABLE in os.environ
    (False, False)
    >>> os.environ.update(OMP_NUM_THREADS="2", ARROW_DEFAULT_MEMORY_POOL="jemalloc")
    >>> with worker_environment(2, cores=2):
    ...     os.environ["OPENBLAS_NUM_THREADS"] if "OPENBLAS_NUM_THREADS" in os.environ else "-"
    ...     os.environ[ARROW_POOL_VARIABLE]
    '-'
    'jemalloc'
    >>> os.environ[ARROW_POOL_VARIABLE] = ""
    >>> with worker_environment(2, cores=2):
    ...     os.environ[ARROW_POOL_VARIABLE]
    'system'
    >>> os.environ[ARROW_POOL_VARIABLE]
    ''
    >>> for v in names:
    ...     _ = os.environ.pop(v, None)
    >>> os.environ.update({v: x for v, x in saved.items() if x is not None})
    """
    cores = cores or len(os.sched_getaffinity(0)) or 1
    share = str(max(1, cores // max(1, workers)))
    chosen = any(os.environ.get(v) for v in THREAD_VARIABLES)   # "" is unset to OpenBLAS
    values = {} if chosen else dict.fromkeys(THREAD_VARIABLES, share)
    if not os.environ.get(ARROW_POOL_VARIABLE):
        values[ARROW_POOL_VARIABLE] = ARROW_POOL
    earlier = {v: os.environ.get(v) for v in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for v, value in earlier.items():
            if value is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = value


def _run_local(args: list[tuple], workers: int, finished: Callable[[dict], None],
               pool=None) -> None:
    """Run the tasks in ``workers`` processes (or ``pool``'s), each with its own warm kernel.

    With the warm engine, each worker starts its kernel as it starts (:func:`_warm_init`),
    before its first task; with one worker, the tasks run in this process. When this ends
    with an error (Ctrl-C), the pool's queued reports are cancelled and its running ones
    awaited before the build cleans up.
    """
    if workers <= 1 and pool is None:     # its kernel gets what a worker's would
        _warm_init()
        with worker_environment(1):
            for a in args:
                finished(render_task(*a))
        return
    from concurrent.futures import as_completed

    env = task_env()
    warm = args[0][4] == "warm"
    with contextlib.nullcontext(pool) if pool is not None else local_workers(
            min(workers, len(args)), args[0][2] if warm else None) as pool:
        try:
            futures = [pool.submit(render_task, *a, env=env) for a in args]
            for f in as_completed(futures):
                finished(f.result())
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
