"""Shared fixtures: the default synthetic data set and its overall evaluation (once per test
process)."""

import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

import pytest
from synthetic_data import ENV as TEST_DATA_ENV

from evaluation.engine.build import THREAD_VARIABLES

os.environ.setdefault("MPLBACKEND", "Agg")
# One BLAS thread per process, as ``make test`` exports, so that ``pytest`` run by hand is as
# fast: the two workers fill the two cores already, and each of them and of the kernels they
# start otherwise runs a BLAS thread per core (beside a busy core, the default data's overall
# evaluation took 16.9 s of CPU with two threads, 9.0 s with one; ``pytest`` by hand took 12-13
# minutes, ``make test`` 7.5). Left alone where the user has set any.
if not any(os.environ.get(v) for v in THREAD_VARIABLES):
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")

#: How the run's folder of generated data sets is named (then the controller's PID).
TEST_DATA_PREFIX = "evaluation-test-data-"
#: How a test process's folder of parsed published files is named (then its PID).
CACHE_PREFIX = "evaluation-cache-"

# parsed published files: a cache of this test process's own, so no result rests on a read
# made by another run (evaluation.io.dfe.cache); removed when the process's session ends
# (up to 50 MB each: every run used to leave one per process)
CACHE_DIR = tempfile.mkdtemp(prefix=f"{CACHE_PREFIX}{os.getpid()}-")
os.environ["EVALUATION_CACHE_DIR"] = CACHE_DIR


def pytest_configure(config):
    """Make the run's folder of generated data sets (:mod:`synthetic_data`): the xdist
    controller (or a run without workers) makes a new one, whatever the environment says,
    before its workers start, and they inherit it."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        _remove_folders_of_ended_runs(TEST_DATA_PREFIX)
        _remove_folders_of_ended_runs(CACHE_PREFIX)
        os.environ[TEST_DATA_ENV] = tempfile.mkdtemp(prefix=f"{TEST_DATA_PREFIX}{os.getpid()}-")
        config._evaluation_test_data = os.environ[TEST_DATA_ENV]


def _remove_folders_of_ended_runs(prefix: str):
    """Remove this user's folders named ``prefix`` + PID of runs that were killed (a run's
    full data sets take 450 MB): folders over a day old whose process is gone (a day: a run in
    another PID namespace sharing this temporary folder may look gone while it runs). Never
    fails."""
    for folder in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        pid = folder.name.removeprefix(prefix).split("-")[0]
        try:
            st = folder.lstat()
            if (not pid.isascii() or not pid.isdecimal() or not stat.S_ISDIR(st.st_mode)
                    or st.st_uid != os.getuid() or time.time() - st.st_mtime < 86400):
                continue
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (OSError, OverflowError, ValueError):   # gone, not ours, or running
            continue


def pytest_unconfigure(config):
    """Remove the run's folder of generated data sets (by the process that made it), and this
    process's cache of parsed published files (every process, workers included)."""
    shutil.rmtree(CACHE_DIR, ignore_errors=True)
    folder = getattr(config, "_evaluation_test_data", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(TEST_DATA_ENV, None)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Keep each test file on one worker (``make test`` runs ``--dist loadgroup``).

    A file's module-scoped fixtures (a built report set, an evaluation) are then built once,
    not once on each worker. A test that names its own ``xdist_group`` (several files sharing
    one build) keeps it. Runs before pytest-xdist reads the marks.
    """
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            path = item.nodeid.split("::")[0]
            item.add_marker(pytest.mark.xdist_group(DOCTEST_GROUPS.get(path, path)))


#: Doctest files that evaluate the same data as a test file's fixture: one worker computes
#: it once for all of them (results are kept by content, :mod:`evaluation.memo`).
DOCTEST_GROUPS = {"evaluation/results.py": "seed1", "evaluation/report/registry.py": "seed1"}


@pytest.fixture(scope="session")
def default_data():
    from report_set import dataset

    from evaluation import config

    return dataset(config.DEFAULT_SEED)


@pytest.fixture(scope="session")
def default_data_dir(default_data, tmp_path_factory):
    """The default data set written as ``make data`` writes it: a fresh clone has no
    ``data/synthetic/default`` (CI runs the tests without ``make data``)."""
    from evaluation.io.dataset import write_dataset

    return write_dataset(default_data, tmp_path_factory.mktemp("default-data"), generated=True)


@pytest.fixture(scope="session")
def plan():
    from evaluation.plan import load_plan

    return load_plan()


@pytest.fixture(scope="session")
def default_evaluation():
    """The overall evaluation of the default data, as the overall report runs it (shared
    with the report set of the default seed: :func:`report_set.overall`)."""
    from report_set import overall

    from evaluation import config

    return overall(config.DEFAULT_SEED)
