"""Shared fixtures: the default synthetic data set and its overall evaluation (once per test
process)."""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def default_data():
    from report_set import dataset

    from evaluation import config

    return dataset(config.DEFAULT_SEED)


@pytest.fixture(scope="session")
def plan():
    from evaluation.plan import load_plan

    return load_plan()


@pytest.fixture(scope="session")
def default_evaluation(default_data, plan):
    """The overall evaluation of the default data, as the overall report runs it."""
    from evaluation import config
    from evaluation.results import evaluate

    return evaluate(default_data, plan, cluster=None, seed=config.DEFAULT_SEED)
