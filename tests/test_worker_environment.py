"""A build's kernels get Arrow's system memory pool, in every local way of rendering.

``engine.worker_environment`` sets ``ARROW_DEFAULT_MEMORY_POOL`` for the workers and their
kernels (issue 17: Arrow's default pool cost a build about 1 s of system time). One worker
renders in the build's own process, with a warm kernel or a new one per report; either way
the kernel must get the variable, and the build's process must not keep it afterwards. A
user's own choice is kept. A warm kernel keeps the environment it started with (Arrow reads
the variable once), so each case starts its own: this test process may already have one.
"""

import os

import pytest
from probe_notebook import probe_reports

from evaluation.engine import build as engine
from evaluation.engine import warm

pytestmark = pytest.mark.slow

PROBE = """\
from evaluation.render import save_record
save_record(record_path, status="ok",
            arrow=__import__("pyarrow").default_memory_pool().backend_name)
"""


@pytest.fixture
def own_kernel():
    """No warm kernel of this process before the test, nor after it."""
    warm.shutdown()
    yield
    warm.shutdown()


@pytest.mark.usefixtures("own_kernel")
@pytest.mark.parametrize("engine_name", ["warm", None])
@pytest.mark.parametrize("chosen", ["", "mimalloc"])
def test_one_worker_s_kernels_get_the_pool_and_the_build_keeps_none(tmp_path, monkeypatch,
                                                                     engine_name, chosen):
    nbs = tmp_path / "nbs"
    specs = probe_reports(nbs, PROBE, 2)
    if chosen:
        monkeypatch.setenv(engine.ARROW_POOL_VARIABLE, chosen)
    else:
        monkeypatch.delenv(engine.ARROW_POOL_VARIABLE, raising=False)
    summary = engine.build(specs, tmp_path / "reports", nbs, workers=1, progress=False,
                           engine=engine_name)
    assert [r["status"] for r in summary.records] == ["ok", "ok"]
    assert {r["fields"]["arrow"] for r in summary.records} == {chosen or engine.ARROW_POOL}
    assert os.environ.get(engine.ARROW_POOL_VARIABLE) == (chosen or None)
