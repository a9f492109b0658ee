"""Rendering reports: papermill execution, nbconvert export without code, error pages, records."""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import re
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from evaluation import config
from evaluation.engine.export import exporter

KERNEL = "python3"


@dataclass(frozen=True)
class ReportSpec:
    """One report to render: which notebook, with which papermill parameters, to which slug.

    Examples
    --------
    >>> spec = ReportSpec("cluster-ashdown", "Ashdown cluster", "cluster_report.ipynb",
    ...                   {"cluster": "Ashdown cluster"}, "cluster")
    >>> spec.html_path(Path("reports")).name
    'cluster-ashdown.html'
    """

    slug: str
    title: str
    notebook: str
    parameters: dict = field(default_factory=dict)
    kind: str = "cluster"

    def html_path(self, reports_dir: Path) -> Path:
        """Where the rendered HTML goes."""
        return Path(reports_dir) / "html" / f"{self.slug}.html"

    def record_path(self, reports_dir: Path) -> Path:
        """Where the notebook writes its headline record."""
        return Path(reports_dir) / "records" / f"{self.slug}.json"

    def executed_path(self, reports_dir: Path) -> Path:
        """Where the executed notebook is kept for debugging."""
        return Path(reports_dir) / "_executed" / f"{self.slug}.ipynb"

    def log_path(self, reports_dir: Path) -> Path:
        """Where the failure log goes."""
        return Path(reports_dir) / "logs" / f"{self.slug}.log"


#: Statuses of a report: rendered (``ok``, ``not estimable``), ``failed`` (an error page was
#: written), or ``not built`` (never rendered: no record).
STATUSES = ("ok", "not estimable", "failed", "not built")


@dataclass(frozen=True)
class RenderRecord:
    """What happened when a report was rendered (one of ``STATUSES``)."""

    slug: str
    title: str
    kind: str
    status: str
    seconds: dict
    html: str
    fields: dict = field(default_factory=dict)
    error: str = ""


#: Longest slug; a longer one is cut and ends with a hash of the whole text (file names stay
#: far below the 255-byte limit of common file systems, and distinct texts stay distinct).
MAX_SLUG = 80


def slugify(text: str) -> str:
    """Lower-case ASCII slug for file names (at most ``MAX_SLUG`` characters).

    Examples
    --------
    >>> slugify("Secondary phase 1")
    'secondary-phase-1'
    >>> len(slugify("a very long cluster name " * 20)) <= 80
    True
    """
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) <= MAX_SLUG:
        return slug
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return f"{slug[:MAX_SLUG - 11].rstrip('-')}-{digest}"


def save_record(path: str | Path | None, **fields) -> None:
    """Write a report's headline record (JSON) for the index page; no-op when path is empty.

    The report notebooks call this in their last cell with the numbers the index shows.

    Parameters
    ----------
    path : str or pathlib.Path or None
        Where to write; the renderer passes it as the ``record_path`` parameter.
    **fields
        JSON-serialisable values, e.g. ``title``, ``phase``, ``n_schools``, ``n_em``,
        ``headline``, ``status``.

    Examples
    --------
    >>> save_record("", title="x")  # nothing written
    """
    if not path:
        return
    write_atomic(path, json.dumps(fields, indent=2, sort_keys=True, default=str) + "\n")


def write_atomic(path: str | Path, text: str) -> Path:
    """Write a text file whole or not at all: a temporary file beside it, then a rename.

    A reader (the index, another build, a killed and restarted worker) sees the old file or
    the new one, never half of one.

    Examples
    --------
    >>> import tempfile
    >>> p = write_atomic(Path(tempfile.mkdtemp()) / "a" / "x.txt", "hello")
    >>> p.read_text(), [f.name for f in p.parent.iterdir()]
    ('hello', ['x.txt'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


@contextlib.contextmanager
def _stderr_to(path: Path):
    """Send this process's file descriptor 2 (inherited by kernels) to a file for a while."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("w", encoding="utf-8") as fh:
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _fix_injected_cell_id(path: Path, out: Path | None = None):
    """Normalise an executed notebook (:func:`evaluation.engine.normalise.normalise_notebook`).

    Same inputs must give the same report bytes whichever kernel ran them: papermill's random
    id of the injected cell, its timings and the kernel's execution counts are fixed. Writes
    it to ``out`` (default: in place) and returns it.
    """
    import nbformat

    from evaluation.engine.normalise import normalise_notebook

    nb = normalise_notebook(nbformat.read(str(path), as_version=4))
    write_atomic(out or path, nbformat.writes(nb))
    return nb


def _stderr_to_log(nb, log: Path) -> int:
    """Move what a notebook's cells wrote to standard error out of the report, into its log.

    A report shows only what its sections display, through the disclosure control: a warning
    printed by a library (with its counts, or a path) is for the evaluator, never the reader
    (fifth review of issue 14). Returns the number of outputs moved.

    Examples
    --------
    >>> import nbformat, tempfile
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
    ...     nbformat.v4.new_output("stream", name="stderr", text="UserWarning: 4 of 6")])])
    >>> log = Path(tempfile.mkdtemp()) / "x.log"
    >>> _stderr_to_log(nb, log), nb.cells[0].outputs, log.read_text().strip()
    (1, [], 'UserWarning: 4 of 6')
    """
    moved = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = [o for o in cell.outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        moved += [o["text"] for o in cell.outputs if o not in kept]
        cell.outputs = kept
    if moved:
        with log.open("a", encoding="utf-8") as fh:
            fh.write("".join(moved).rstrip("\n") + "\n")
    return len(moved)


def _error_page(spec: ReportSpec, reason: str, log: Path) -> str:
    """Return the page shown instead of a failed report: the whole reason, escaped."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/><title>{html.escape(spec.title)}: failed</title>
<style>body{{font-family:sans-serif;max-width:50rem;margin:2rem auto;line-height:1.5}}
.em-error{{background:#fdecea;border-left:6px solid #b00020;padding:.6rem 1rem}}
.em-error pre{{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.9rem}}</style>
</head><body><h1>{html.escape(spec.title)}</h1>
<div class="em-error"><p><strong>This report could not be produced.</strong></p>
<p>What failed:</p>
<pre class="em-error-reason">{html.escape(reason)}</pre>
<p>The full log is in <code>{html.escape(str(log))}</code> on the machine that built the
reports, with the partly executed notebook beside it in <code>reports/_executed/</code>.
The other reports were built on their own; the <a href="../index.html">index</a> says which
were built and which failed.</p></div>
</body></html>
"""


def _failure_reason(exc: BaseException) -> str:
    r"""Return the whole error message (every line), without the Python traceback.

    Examples
    --------
    >>> _failure_reason(ValueError("pupils.csv: table 'pupils' is invalid:\n  column 'em'"))
    "ValueError: pupils.csv: table 'pupils' is invalid:\n  column 'em'"
    """
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = str(getattr(exc, "evalue", exc)).strip()
    return f"{ename}: {evalue}" if evalue else ename


def _check_parameters(params: dict) -> None:
    """Refuse a parameter that papermill would not write as the same Python literal.

    Values reach the notebook as code in its injected cell; each must read back as itself (a
    name with quotes, backslashes, backticks, ``$(...)`` or newlines is a string, never code).
    """
    import ast

    from papermill.translators import PythonTranslator

    for name, value in params.items():
        if not name.isidentifier():
            raise ValueError(f"report parameter name {name!r} is not a Python identifier")
        code = PythonTranslator.translate(value)
        try:
            back = ast.literal_eval(code)
        except (ValueError, SyntaxError):
            back = object()
        if back != value or type(back) is not type(value):
            raise ValueError(f"report parameter {name!r}: {value!r} cannot be passed to the "
                             f"notebook safely (papermill writes it as {code!r})")


def _as_written(path: Path) -> str:
    """Return ``path`` as papermill's format string for it (braces doubled).

    Examples
    --------
    >>> _as_written(Path("/tmp/{a}/x.ipynb")).format(a="no")
    '/tmp/{a}/x.ipynb'
    """
    return str(path).replace("{", "{{").replace("}", "}}")


def render_report(spec: ReportSpec, reports_dir: str | Path = config.REPORTS_DIR,
                  notebooks_dir: str | Path = config.NOTEBOOKS_DIR,
                  engine: str | None = None) -> RenderRecord:
    """Execute a report notebook with papermill and export it to HTML without code.

    A notebook that fails gets an error page instead (what failed, where the log is); its
    HTML file is given a modification time of 1970 so that ``make`` renders it again next
    time. Never raises for a failing notebook: the caller decides the exit code.

    Parameters
    ----------
    spec : ReportSpec
        What to render.
    reports_dir, notebooks_dir : path
        Output root and where the template notebooks are.
    engine : {None, "warm"}
        None: a new kernel for this report (papermill's own engine, IPC transport); ``"warm"``:
        this process's long-lived kernel (:mod:`evaluation.engine.warm`). Both give the same
        HTML bytes.

    Returns
    -------
    RenderRecord
        Status ``ok`` / ``not estimable`` (from the notebook's record) / ``failed`` and the
        seconds spent executing and exporting.

    Examples
    --------
    >>> spec = ReportSpec("overall", "Overall", "evaluation_overall.ipynb")
    >>> render_report(spec)  # doctest: +SKIP
    """
    import papermill as pm

    from evaluation import checker_folder

    reports_dir = Path(reports_dir)
    out_html = spec.html_path(reports_dir)
    executed = spec.executed_path(reports_dir)
    record = spec.record_path(reports_dir)
    log = spec.log_path(reports_dir)
    for p in (out_html, executed, record, log):
        p.parent.mkdir(parents=True, exist_ok=True)
    # the record is replaced (atomically) only when this run ends: a run killed half-way
    # leaves the last complete one, whose input key then asks for a rebuild
    # the notebook writes its fields to a file of this run only: a kernel orphaned by a killed
    # worker (Dask) that finishes late can never overwrite the record of the run that replaced it
    # (beside the run's notebook, not in the system's temporary folder: a record left by a
    # killed run is removed with the run's notebook, by the report's next run or the build's
    # end, where 29 a day had gathered in /tmp)
    run_record = executed.with_name(
        f".{executed.name}.{os.getpid()}-{uuid.uuid4().hex}.running.json")
    params = {**spec.parameters, "record_path": str(run_record)}
    seconds = {}
    t0 = time.perf_counter()
    if engine == "warm":
        import evaluation.engine.warm  # noqa: F401  (registers the engine with papermill)
    from evaluation.engine.kernels import IPCKernelManager

    running = executed.with_name(f".{executed.name}.{os.getpid()}.running.ipynb")
    # a worker killed mid-render (a lost Dask worker) leaves its half-written notebook; the
    # re-run of the same report removes it (a report is rendered by one task at a time)
    for stale in executed.parent.glob(f".{executed.name}.*.running.*"):
        stale.unlink(missing_ok=True)
    try:
        _check_parameters(params)
        # the kernel's own chatter goes to the log, not the terminal; the notebook writes
        # the output checker's log (ACRO's format) to checker/<slug>/, outside the reports
        with _stderr_to(log), checker_folder.requested(spec.slug, reports_dir):
            # papermill reads its paths as format strings (a folder named "{x}" failed every
            # report, review 20): braces are given doubled, so they read as themselves
            pm.execute_notebook(
                _as_written(Path(notebooks_dir) / spec.notebook), _as_written(running),
                parameters=params,
                kernel_name=KERNEL, cwd=str(notebooks_dir), progress_bar=False,
                log_output=False, engine_name=engine, kernel_manager_class=IPCKernelManager,
            )
        seconds["execute"] = round(time.perf_counter() - t0, 2)
        nb = _fix_injected_cell_id(running, executed)
        running.unlink()
        _stderr_to_log(nb, log)
        t1 = time.perf_counter()
        nb.metadata["title"] = spec.title   # the browser tab and screen readers announce it
        write_atomic(out_html, exporter().from_notebook_node(nb)[0])
        seconds["export"] = round(time.perf_counter() - t1, 2)
    except Exception as exc:  # a failing report must not stop the others
        seconds.setdefault("execute", round(time.perf_counter() - t0, 2))
        reason = _failure_reason(exc)
        with log.open("a", encoding="utf-8") as fh:
            fh.write(f"\n{spec.slug}: {reason}\n\n{exc}\n")
        if running.exists():
            os.replace(running, executed)
        write_atomic(out_html, _error_page(spec, reason, log))
        os.utime(out_html, (0, 0))
        rec = RenderRecord(spec.slug, spec.title, spec.kind, "failed", seconds,
                           str(out_html), {}, reason)
        save_record(record, **asdict(rec))
        run_record.unlink(missing_ok=True)
        return rec
    fields = json.loads(run_record.read_text()) if run_record.exists() else {}
    run_record.unlink(missing_ok=True)
    status = fields.get("status", "ok")
    rec = RenderRecord(spec.slug, spec.title, spec.kind, status, seconds, str(out_html), fields)
    save_record(record, **asdict(rec))
    return rec


def load_records(specs: list[ReportSpec], reports_dir: str | Path = config.REPORTS_DIR
                 ) -> list[RenderRecord]:
    """Read the render records of the given reports (missing ones are ``not built``).

    A record's ``html`` is the report's page in ``reports_dir`` (:meth:`ReportSpec.html_path`),
    whatever path the record holds: a folder moved or copied keeps records naming its old
    place, and the index links the pages of the folder it is in.

    Examples
    --------
    >>> load_records([], "reports")
    []
    """
    out = []
    for spec in specs:
        path = spec.record_path(Path(reports_dir))
        if path.exists():
            data = json.loads(path.read_text())
            if "slug" in data and "status" in data and "seconds" in data:
                data["html"] = str(spec.html_path(Path(reports_dir)))
                out.append(RenderRecord(**data))
                continue
        out.append(RenderRecord(spec.slug, spec.title, spec.kind, "not built", {},
                                str(spec.html_path(Path(reports_dir))), {}, ""))
    return out
