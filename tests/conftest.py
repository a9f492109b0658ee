"""Shared fixtures: the default synthetic data set (generated once per test process)."""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def default_data():
    from evaluation import config
    from evaluation.synthetic import generate

    return generate(seed=config.DEFAULT_SEED, scenario="default")


@pytest.fixture(scope="session")
def plan():
    from evaluation.plan import load_plan

    return load_plan()
