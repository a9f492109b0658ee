"""Review finding: `make reports SCHEDULER=garbage` ended in a distributed traceback
("missing port number"), and an unreachable scheduler in another after 30 s. Both are bad
input: one message naming SCHEDULER, what was given and what is expected, no traceback."""

from __future__ import annotations

import pytest

from evaluation import cli
from evaluation.engine.dask import connect
from evaluation.exceptions import SchedulerError


@pytest.mark.parametrize("address, says", [
    ("garbage", "is not a Dask scheduler address"),
    ("tcp://host", "missing port number"),
    ("tcp://host:port", "is not a Dask scheduler address"),
    ("", "is not a Dask scheduler address"),
])
def test_malformed_address_is_refused_naming_scheduler(address, says):
    with pytest.raises(SchedulerError, match=says) as err:
        connect(address)
    assert f"SCHEDULER={address!r}" in str(err.value)
    assert "tcp://host:8786" in str(err.value)


def test_unreachable_scheduler_is_refused_naming_it():
    with pytest.raises(SchedulerError, match="no Dask scheduler answered"):
        connect("tcp://127.0.0.1:1", timeout="2s")


def test_cli_prints_the_message_and_exits_1(monkeypatch, capsys):
    monkeypatch.setattr(cli, "_build", lambda args: connect(args.scheduler))
    assert cli.main(["build", "--scheduler", "garbage"]) == 1
    err = capsys.readouterr().err
    assert "SCHEDULER='garbage' is not a Dask scheduler address" in err
    assert "Traceback" not in err
