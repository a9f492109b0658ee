"""Results the workers of a build share (``evaluation.shared``): computed by one process,
read by the others, never by two at once; outside a build nothing is written."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from pathlib import Path

import pandas as pd
import pytest

from evaluation.shared import SHARED_ENV, computed_once


@pytest.fixture(autouse=True)
def _fresh_memories():
    """Each test starts and ends with no main analysis or phase kept in the process (a failed
    assertion would otherwise leave them to the worker's later tests)."""
    from evaluation import main_analysis, results

    results._PHASES.clear()
    main_analysis._DONE.clear()
    yield
    results._PHASES.clear()
    main_analysis._DONE.clear()


def _slow(log):
    with open(log, "a") as fh:
        fh.write(f"{os.getpid()}\n")
    time.sleep(1.0)
    return {"pid": os.getpid()}


def _worker(folder, log, out):
    import functools

    os.environ[SHARED_ENV] = folder
    out.put(computed_once("linked", "same content", functools.partial(_slow, log)))


def test_two_processes_compute_once_and_read_the_same(tmp_path):
    log = tmp_path / "calls.txt"
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    folder = str(tmp_path / "shared" / "0123456789abcdef")     # a build's: one per version
    procs = [ctx.Process(target=_worker, args=(folder, str(log), out)) for _ in range(2)]
    for p in procs:
        p.start()
    got = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert len(log.read_text().split()) == 1          # one computation ...
    assert got[0] == got[1]                           # ... the other process read it
    assert len(list(Path(folder).glob("linked-*.pickle"))) == 1


def test_bad_input_fails_every_process_at_once_with_the_same_message(tmp_path, monkeypatch):
    """A data error is the input's fault: the other processes of the build raise it without
    reading and checking the data again; any other error is not kept (it may pass)."""
    from evaluation.exceptions import DataError

    monkeypatch.setenv(SHARED_ENV, str(tmp_path / "0123456789abcdef"))
    calls = []

    def bad():
        calls.append(1)
        raise DataError("pupils.csv: column 'ks2_aps', rows 5, 17: 'abc' is not a number")

    for _ in range(2):
        with pytest.raises(DataError, match=r"rows 5, 17: 'abc' is not a number"):
            computed_once("dataset", "k", bad)
    assert len(calls) == 1

    def flaky():
        calls.append(2)
        raise OSError("disk full")

    for _ in range(2):
        with pytest.raises(OSError):
            computed_once("dataset", "other", flaky)
    assert calls.count(2) == 2
    assert computed_once("dataset", "other", lambda: 5) == 5


def test_outside_a_build_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv(SHARED_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    calls = []
    assert computed_once("x", "k", lambda: calls.append(1) or 5) == 5
    assert computed_once("x", "k", lambda: calls.append(1) or 5) == 5
    assert len(calls) == 2 and not list(tmp_path.rglob("*"))


def test_a_build_keeps_one_folder_per_version_of_the_code(tmp_path):
    from evaluation.engine.build import _shared_folder

    old = tmp_path / "_shared" / "0123456789abcdef"
    old.mkdir(parents=True)
    notebooks = os.path.join(os.path.dirname(__file__), "..", "notebooks")
    folder = _shared_folder(tmp_path / "_shared", notebooks)
    assert folder.parent == tmp_path / "_shared" and not old.exists()
    assert _shared_folder(tmp_path / "_shared", notebooks) == folder      # stable


def test_a_folder_that_cannot_be_written_shares_nothing(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(SHARED_ENV, str(blocker / "0123456789abcdef"))
    assert computed_once("x", "k", lambda: 7) == 7


@pytest.mark.xdist_group("seed1")     # with the doctests that generate the same data
def test_a_cluster_report_reads_the_matching_the_overall_report_computed(tmp_path,
                                                                         monkeypatch):
    """A cluster's main analysis is computed once per build: its report reads the one the
    overall evaluation computed for its clusters' table (the same key, whatever else each
    asks for), with the same numbers as when nothing is shared (issue 17)."""
    from evaluation import main_analysis, results
    from evaluation.plan import load_plan
    from evaluation.synthetic import generate

    ds, plan, name = generate(seed=1, include_population=False), load_plan(), "Secondary phase 1"
    calls = []
    real = main_analysis.estimate_impacts      # where the main fits are made (issue 17)
    monkeypatch.setattr(main_analysis, "estimate_impacts",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.delenv(SHARED_ENV, raising=False)
    results._PHASES.clear()
    main_analysis._DONE.clear()
    alone = results.evaluate(ds, plan, cluster=name, seed=1, describe=False)
    monkeypatch.setenv(SHARED_ENV, str(tmp_path / "0123456789abcdef"))   # a build's folder
    results._PHASES.clear()
    main_analysis._DONE.clear()
    results.evaluate(ds, plan, cluster=name, seed=1, describe=False)   # as the overall asks
    assert len(list((tmp_path / "0123456789abcdef").glob("phase-*.pickle"))) == len(alone.phases)
    results._PHASES.clear()
    main_analysis._DONE.clear()
    calls.clear()
    shared = results.evaluate(ds, plan, cluster=name, seed=1, describe=False)
    assert not calls                                  # the main fits were read, not made
    for phase, pr in alone.phases.items():
        other = shared.phases[phase]
        pd.testing.assert_frame_equal(pr.impact.table(), other.impact.table())
        pd.testing.assert_frame_equal(pr.balance.table, other.balance.table)
        assert pr.warnings == other.warnings
        assert (pr.balance_withheld == other.balance_withheld).all()
    results._PHASES.clear()
    main_analysis._DONE.clear()


def test_the_shared_folder_changes_with_the_libraries_that_fit_the_impacts(tmp_path,
                                                                            monkeypatch):
    """Ninth review of issue 14: a cluster's matching and impacts (statsmodels' GLMs) are
    shared too, but the folder was per version of numpy, pandas and scipy only, so a build
    with EVALUATION_SHARED_DIR set read the impacts another statsmodels had fitted."""
    import importlib.metadata

    from evaluation.config import PROJECT_ROOT
    from evaluation.engine.build import _shared_folder

    notebooks = PROJECT_ROOT / "notebooks"
    before = _shared_folder(tmp_path, notebooks)
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "0.0.1" if name == "statsmodels" else real(name))
    assert _shared_folder(tmp_path, notebooks) != before


def test_a_build_reads_the_data_once_and_keeps_the_copy_private(tmp_path, monkeypatch):
    """The checked pupil tables are shared too: the second worker loads the first one's,
    equal to a fresh read; the folder and file are its owner's alone (0700, 0600)."""
    import stat

    from evaluation.io import dataset as io_dataset
    from evaluation.synthetic import generate

    data = io_dataset.write_dataset(generate(seed=3, include_population=False),
                                    tmp_path / "data")
    fresh = io_dataset.read_dataset(data)
    folder = tmp_path / "shared" / "0123456789abcdef"
    monkeypatch.setenv(SHARED_ENV, str(folder))
    io_dataset._READ.clear()
    calls = []
    real = io_dataset._read_dataset
    monkeypatch.setattr(io_dataset, "_read_dataset", lambda *a: calls.append(1) or real(*a))
    first = io_dataset.read_dataset(data)
    io_dataset._READ.clear()                       # another worker: nothing in memory
    second = io_dataset.read_dataset(data)
    assert calls == [1]
    assert first.digest() == second.digest() == fresh.digest()
    pd.testing.assert_frame_equal(second.pupils, fresh.pupils)
    shared = list(folder.glob("dataset-*.pickle"))
    assert len(shared) == 1
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(shared[0].stat().st_mode) == 0o600
    io_dataset._READ.clear()


def test_a_user_set_shared_folder_keeps_what_else_it_holds(tmp_path):
    """Review of issue 17: EVALUATION_SHARED_DIR set to a folder that holds other things
    (a home folder, /tmp): the build removed every folder in it but its own version's."""
    from evaluation.config import PROJECT_ROOT
    from evaluation.engine.build import _shared_folder

    theirs = tmp_path / "thesis"
    theirs.mkdir()
    (theirs / "chapter1.tex").write_text("months of work")
    old = tmp_path / "0123456789abcdef"            # an earlier version's folder: removed
    (old).mkdir()
    (old / "phase-1.pickle").write_bytes(b"x")
    folder = _shared_folder(tmp_path, PROJECT_ROOT / "notebooks")
    assert (theirs / "chapter1.tex").read_text() == "months of work"
    assert not old.exists() and folder.parent == tmp_path


def test_a_shared_folder_others_can_write_is_not_read(tmp_path, monkeypatch):
    """Review of issue 17: a shared folder another user can write (EVALUATION_SHARED_DIR in
    /tmp) would let them put a pickle there under the predictable name, loaded (run) by
    the build; and one others can read shows them the pupils' tables. Nothing is shared."""
    import hashlib
    import pickle

    folder = tmp_path / "0123456789abcdef"
    folder.mkdir()
    folder.chmod(0o777)
    planted = folder / f"x-{hashlib.sha256(b'k').hexdigest()[:32]}.pickle"
    planted.write_bytes(pickle.dumps("planted"))
    monkeypatch.setenv(SHARED_ENV, str(folder))
    assert computed_once("x", "k", lambda: "computed") == "computed"


def test_a_build_says_when_its_shared_folder_cannot_be_used(tmp_path, monkeypatch, capsys):
    """Second review: a folder open to others shares nothing, silently; a build that had
    stopped sharing only got slower. It now says so, once, naming the folder and why."""
    from evaluation.engine.build import build
    from evaluation.render import ReportSpec

    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    monkeypatch.setenv(SHARED_ENV, str(open_dir))
    spec = ReportSpec(kind="cluster", slug="nothing", title="Nothing",
                      notebook="missing.ipynb", parameters={"data_dir": str(tmp_path)})
    import evaluation.engine.build as engine

    monkeypatch.setattr(engine, "_run_local", lambda args, workers, finished, **kw: None)
    # the version's folder itself open to others (made so by another user, or a filesystem
    # without Unix permissions)
    monkeypatch.setattr(engine, "_shared_folder", lambda root, notebooks: root)
    build([spec], tmp_path / "reports", progress=False)
    err = capsys.readouterr().err
    assert "results are not shared between workers" in err and str(open_dir) in err
    assert "open to other users" in err
    monkeypatch.setenv(SHARED_ENV, str(tmp_path / "private"))
    build([spec], tmp_path / "reports", progress=False)
    assert "not shared" not in capsys.readouterr().err


def test_a_survey_summary_one_worker_made_is_read_by_the_other(tmp_path, monkeypatch):
    """The overall report summarises every cluster's surveys for the linked counts; a cluster
    report the other worker renders reads that summary instead of computing it again."""
    from evaluation import surveys

    s = pd.DataFrame({"respondent_id": ["a", "b", "c"] * 2, "school_id": "x",
                      "instrument": "pupil", "wave": ["baseline"] * 3 + ["follow_up"] * 3,
                      "item": "p01", "score": [4.0, 5.0, 6.0, 6.0, 6.0, 9.0]})
    # a folder set by hand (a notebook session), not a build's: results of other code could
    # be there, so nothing is read or written
    monkeypatch.setenv(SHARED_ENV, str(tmp_path / "mine"))
    surveys.survey_change(s, "pupil")
    assert not list(tmp_path.rglob("*.pickle"))
    surveys.survey_change.cache_clear()
    build = tmp_path / "shared" / "0123456789abcdef"     # a build's folder: one per version
    monkeypatch.setenv(SHARED_ENV, str(build))
    first = surveys.survey_change(s, "pupil")
    assert len(list(build.glob("evaluation.surveys.survey_change-*.pickle"))) == 1
    surveys.survey_change.cache_clear()          # another process: nothing in memory
    calls = []
    real = surveys._item_row
    monkeypatch.setattr(surveys, "_item_row", lambda *a: calls.append(1) or real(*a))
    again = surveys.survey_change(s.copy(), "pupil")
    assert calls == [] and again is not first
    pd.testing.assert_frame_equal(again.table, first.table)
    surveys.survey_change(s.assign(score=s["score"] + 1), "pupil")   # other content: computed
    assert calls == [1]


def test_a_folder_set_by_hand_outside_a_build_shares_nothing(tmp_path, monkeypatch):
    """Second review of this stop: EVALUATION_SHARED_DIR set by hand (a notebook session)
    named no version of the code, so results older code had written there were read: the
    linked counts, the phases, the data. Only a build's own folder is used; a build puts a
    user's folder back as it found it."""
    from evaluation.engine.build import build
    from evaluation.render import ReportSpec

    mine = tmp_path / "mine"
    monkeypatch.setenv(SHARED_ENV, str(mine))
    calls = []
    assert computed_once("linked", "k", lambda: calls.append(1) or 5) == 5
    assert computed_once("linked", "k", lambda: calls.append(1) or 5) == 5
    assert len(calls) == 2 and not list(tmp_path.rglob("*.pickle"))
    import evaluation.engine.build as engine

    seen = []
    monkeypatch.setattr(engine, "_run_local",
                        lambda args, workers, finished, **kw: seen.append(os.environ[SHARED_ENV]))
    spec = ReportSpec(kind="cluster", slug="nothing", title="Nothing",
                      notebook="missing.ipynb", parameters={"data_dir": str(tmp_path)})
    build([spec], tmp_path / "reports", progress=False)
    assert seen[0].startswith(str(mine)) and seen[0] != str(mine)   # its version's folder
    assert os.environ[SHARED_ENV] == str(mine)                      # put back


def test_in_one_process_a_cluster_report_reuses_the_overall_evaluation_s_main_analysis(
        monkeypatch):
    """Outside a build (a test, a notebook session), the overall evaluation's clusters and
    each cluster's own report asked for the same main analysis, and it was computed twice:
    10 main analyses for 6 distinct in the default data's report set (issue 17). Each is
    now computed once per process."""
    from evaluation import main_analysis, results
    from evaluation.plan import load_plan
    from evaluation.synthetic import generate

    ds, plan, name = generate(seed=1, include_population=False), load_plan(), "Secondary phase 1"
    monkeypatch.delenv(SHARED_ENV, raising=False)
    calls = []
    real = main_analysis.estimate_impacts
    monkeypatch.setattr(main_analysis, "estimate_impacts",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    results._PHASES.clear()
    main_analysis._DONE.clear()
    impact_only = results.evaluate(ds, plan, cluster=name, seed=1, describe=False)
    made = len(calls)
    assert made == len(impact_only.phases) > 0
    full = results.evaluate(ds, plan, cluster=name, seed=1)      # as the cluster's report asks
    assert len(calls) == made
    for phase, pr in impact_only.phases.items():
        pd.testing.assert_frame_equal(pr.impact.table(), full.phases[phase].impact.table())
    results._PHASES.clear()
    main_analysis._DONE.clear()
