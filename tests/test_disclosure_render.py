"""A data set built to provoke disclosure, rendered: no small cell may reach the reader."""

from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

from evaluation.catalog import report_specs
from evaluation.io import Dataset, write_dataset
from evaluation.render import render_report

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("disclosure")]

COUNT_HEADERS = {"EM pupils", "Comparison pupils", "FSM pupils", "Non-FSM pupils", "Pupils",
                 "Pupils in class", "n baseline", "n follow-up", "n paired", "Control",
                 "Treated", "EM", "Comparison", "EM pupils analysed"}


def _cluster(ds: Dataset) -> str:
    """The primary cluster whose linked school has the fewest EM pupils (fewer than 10 by
    design): its impact estimates must be withheld."""
    s, p = ds.schools, ds.pupils
    linked = s[s["em_linked"] & (s["phase"] == "primary")]
    n_em = linked["school_id"].map(p[p["em"]].groupby("school_id").size())
    return str(linked.loc[n_em.idxmin(), "cluster"])


def _provoke(ds: Dataset) -> tuple[Dataset, dict]:
    s = ds.schools
    cluster = _cluster(ds)
    trial = s[(s["cluster"] == cluster) & (s["role"] == "trial") & ~s["em_linked"]]
    tiny, lonely = trial["school_id"].iloc[0], trial["school_id"].iloc[1]
    p = ds.pupils
    # a tiny school: three pupils in all
    keep = p[p["school_id"] == tiny].head(3).index
    p = p[(p["school_id"] != tiny) | p.index.isin(keep)].copy()
    # a single FSM pupil in the latest year of another school
    mask = (p["school_id"] == lonely) & (p["cohort"] == 2010)
    first = p.index[mask][0]
    p.loc[mask, "fsm"] = False
    p.loc[first, "fsm"] = True
    # a class of three in the tracking data
    t = ds.tracking
    cls = t.loc[t["school_id"].isin(s.loc[s["cluster"] == cluster, "school_id"]),
                "class_id"].iloc[0]
    three = t.loc[t["class_id"] == cls, "pupil_id"].drop_duplicates().head(3)
    t = t[(t["class_id"] != cls) | t["pupil_id"].isin(three)]
    out = Dataset(p, s, ds.surveys, t, ds.truth, ds.meta)
    return out, {"tiny": s.set_index("school_id").at[tiny, "school_name"],
                 "lonely": s.set_index("school_id").at[lonely, "school_name"], "class": cls}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, default_data):
    root = tmp_path_factory.mktemp("provoke")
    ds, facts = _provoke(default_data)
    data = write_dataset(ds, root / "data")
    spec = next(s for s in report_specs(data, root / "no-published-files")
                if s.title == _cluster(default_data))
    rec = render_report(spec, root / "reports")
    assert rec.status in ("ok", "not estimable"), rec.error
    return Path(rec.html).read_text(encoding="utf-8"), facts, default_data


def _tables(page: str) -> list[pd.DataFrame]:
    return pd.read_html(StringIO(page), attrs={"class": "em-table"}, keep_default_na=False)


def test_no_shown_count_below_threshold(rendered, plan):
    page, _, _ = rendered
    tables = _tables(page)
    assert len(tables) >= 6
    checked = 0
    for table in tables:
        for col in table.columns:
            if str(col) not in COUNT_HEADERS:
                continue
            for value in table[col].astype(str):
                if value in ("c", ""):
                    continue
                n = int(value.replace(",", ""))
                assert n == 0 or n >= plan.threshold, f"{col}={n}"
                checked += 1
    assert checked > 20


def test_small_groups_are_suppressed_and_marked(rendered):
    page, facts, _ = rendered
    tables = _tables(page)
    school_rows = [t[t.iloc[:, 0] == facts["lonely"]] for t in tables
                   if "FSM" in t.columns and "School" in t.columns]
    assert school_rows and all((r["FSM"] == "c").all() for r in school_rows if len(r))
    tiny_rows = [t[t.iloc[:, 0] == facts["tiny"]] for t in tables
                 if "School" in t.columns and "Class" not in t.columns]   # not tracking
    for rows in tiny_rows:
        for col in ("FSM", "Non-FSM", "Gap"):
            if col in rows:
                assert set(rows[col]) <= {"c", ""}
    class_rows = [t[t["Class"] == facts["class"]] for t in tables if "Class" in t.columns]
    assert any(len(r) for r in class_rows)
    for rows in class_rows:
        assert (rows["Whole class APS"] == "c").all()  # a class of three: never shown
        assert set(rows["FSM pupils' APS"]) <= {"c", ""}  # blank: no FSM pupil scored
    assert "c = suppressed" in page


def test_em_pupils_below_threshold_hide_the_estimates(rendered, plan):
    page, _, ds = rendered
    s = ds.schools
    linked = s[(s["cluster"] == _cluster(ds)) & s["em_linked"]]["school_id"]
    n_em = int(ds.pupils[ds.pupils["school_id"].isin(linked) & ds.pupils["em"]].shape[0])
    assert 0 < n_em < plan.threshold  # the default data's smallest linked primary school
    impact = [t for t in _tables(page) if "Effect (95% CI)" in t.columns]
    assert impact and all((t["Effect (95% CI)"] == "c").all() for t in impact)
    # no bound on a withheld count: "fewer than 10" would tell a small count from one hidden
    # only to protect another
    assert "Balance between the groups is not shown: it rests on a withheld number" in page
    assert "rest on fewer than 10 pupils" not in page
    # model messages about these outcomes could describe the few pupils: withheld, and said so
    assert "Model messages about" in page and "are withheld" in page
    for leak in ("every EM pupil analysed", "information matrix", "Warning:"):
        assert leak not in page
