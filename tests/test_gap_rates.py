"""A shown rate times its shown group size must not give a count below the threshold.

Found by review on the built reports: "95.5% of 22 non-FSM pupils" (1 pupil not reaching
level 4), "69.2% of 13 FSM pupils" (9 reaching, 4 not). Checked on the gaps section of every
cluster report of the default data, as rendered.
"""

import math

import pytest
from report_set import cluster as cluster_evaluation

from evaluation import config
from evaluation.plan import load_plan
from evaluation.report.gaps import gaps


def _number(text):
    try:
        return float(str(text).replace(",", ""))
    except ValueError:
        return None


@pytest.mark.slow
def test_no_shown_rate_reveals_a_small_count(default_data):
    plan = load_plan()
    t = plan.threshold
    checked = 0
    for cluster in default_data.clusters()[:4]:
        res = cluster_evaluation(config.DEFAULT_SEED, cluster)
        for part in gaps(res).parts:
            frame = getattr(part, "frame", None)
            if frame is None or "FSM pupils" not in frame.columns:
                continue
            for rate, n in (("FSM", "FSM pupils"), ("Non-FSM", "Non-FSM pupils"),
                            ("All", "Pupils")):
                if rate not in frame.columns or n not in frame.columns:
                    continue
                for r, size in zip(frame[rate], frame[n], strict=True):
                    r, size = _number(r), _number(size)
                    if r is None or size is None or math.isnan(r):
                        continue
                    yes = round(r / 100 * size)
                    checked += 1
                    assert not (0 < yes < t or 0 < size - yes < t), (cluster, rate, r, size)
    assert checked > 0
