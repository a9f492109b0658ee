"""Readers of the DfE's published files: real files and hand-made fixtures."""

from pathlib import Path

import pytest

from evaluation.exceptions import DataError
from evaluation.io.dfe import (
    published_sources,
    read_performance_tables,
    read_published,
    read_statistical_release,
)

FIX = Path(__file__).parent / "fixtures" / "dfe"


@pytest.fixture(scope="module")
def sources():
    return published_sources()


@pytest.fixture(scope="module")
def ks2(sources):
    return read_published(sources["dfe-ks2-2019-la850"])


@pytest.fixture(scope="module")
def sfr(sources):
    return read_published(sources["dfe-sfr05-2014"])


def test_registry_lists_both_sources_from_readme_front_matter(sources):
    assert sorted(sources) == ["dfe-ks2-2019-la850", "dfe-sfr05-2014"]
    s = sources["dfe-sfr05-2014"]
    assert s.layout == "sfr_counts" and "Open Government Licence v2.0" in s.licence
    assert [p.name for p in s.paths] == ["SFR05_2014_UD_LA_2.csv", "SFR05_2014_UD_national_1.csv"]
    assert "shared" not in str(s.path)  # the project's own copy, never ../shared
    assert "v3.0" in sources["dfe-ks2-2019-la850"].licence


def test_new_source_folder_is_discovered_without_code(tmp_path):
    folder = tmp_path / "dfe-ks2-2022-la999"
    folder.mkdir()
    (folder / "x.csv").write_bytes((FIX / "2021-2022_999_ks2final.csv").read_bytes())
    (folder / "README.md").write_text(
        "---\nslug: dfe-ks2-2022-la999\ntitle: T\nlayout: performance_tables\nfiles: [x.csv]\n"
        "licence: OGL\nprovenance: hand-made\n---\n# T\n")
    found = published_sources(tmp_path)
    assert list(found) == ["dfe-ks2-2022-la999"]
    assert len(read_published(found["dfe-ks2-2022-la999"]).rows("school")) == 5


def test_registry_error_names_readme_and_keys(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "README.md").write_text("---\nslug: a\n---\n")
    with pytest.raises(DataError, match=r"front matter lacks keys \['title', 'layout'"):
        published_sources(tmp_path)


def test_ks2_row_types_are_labelled(ks2):
    counts = ks2.values["row_type"].value_counts().to_dict()
    assert counts == {"school": 315, "special school": 16, "LA": 1, "national": 2}
    assert sorted(ks2.rows("national")["row_label"]) == [
        "National (all schools)", "National (state-funded schools only)"]


def test_ks2_la_and_national_figures(ks2):
    cols = ["PTRWM_EXP_FSM6CLA1A", "PTRWM_EXP_NotFSM6CLA1A"]
    assert ks2.rows("LA")[cols].values.tolist() == [[49.0, 73.0]]
    assert ks2.rows("national")[cols].values.tolist() == [[51.0, 71.0], [51.0, 71.0]]
    assert ks2.rows("LA")["SCHNAME"].tolist() == ["Hampshire"]


def test_ks2_182_schools_with_both_values(ks2):
    s = ks2.rows("school")
    assert int((s["PTRWM_EXP_FSM6CLA1A"].notna() & s["PTRWM_EXP_NotFSM6CLA1A"].notna()).sum()) \
        == 182


def test_ks2_code_counts_per_column(ks2):
    cc = ks2.code_counts.set_index(["column", "code"])["n"]
    # counted by hand with csv.reader on the raw file
    assert cc[("PTRWM_EXP_FSM6CLA1A", "SUPP")] == 125
    assert cc[("PTRWM_EXP_FSM6CLA1A", "")] == 14
    assert cc[("PTRWM_EXP_FSM6CLA1A", "<short row>")] == 5
    assert cc[("PTRWM_EXP_NotFSM6CLA1A", "SUPP")] == 139
    assert cc[("TOTPUPS", "NEW")] == 3
    assert cc[("TFSM6CLA1A", "SUPP")] == 3
    totals = ks2.code_counts.groupby("code")["n"].sum().to_dict()
    assert totals["SUPP"] == 16982 and totals["NA"] == 2180 and totals["LOWCOV"] == 3
    # every cell of a numeric column is either a number or a code, never both, never neither
    for col in ("PTRWM_EXP_FSM6CLA1A", "TFSM6CLA1A", "READPROG"):
        assert (ks2.values[col].notna() ^ ks2.codes[col].notna()).all()


def test_ks2_identifiers_stay_text_and_percentages_become_numbers(ks2):
    assert ks2.values["TELNUM"].dropna().str.startswith("0").all()
    assert ks2.values["URN"].dtype == "string"
    assert "PTFSM6CLA1A" in ks2.percent_columns
    assert ks2.rows("LA")["PTFSM6CLA1A"].tolist() == [22.0]


def test_long_form_keeps_reasons(ks2):
    long = ks2.long(["PTRWM_EXP_FSM6CLA1A"])
    assert len(long) == 334
    supp = long[long["code"] == "SUPP"]
    assert len(supp) == 125 and supp["value"].isna().all()
    assert set(supp["reason"]) == {"suppressed (small cohort)"}
    with pytest.raises(ValueError, match="not numeric columns"):
        ks2.long(["SCHNAME"])


def test_fixture_other_la_and_year_every_code():
    t = read_performance_tables(FIX / "2021-2022_999_ks2final.csv")
    cc = t.code_counts.set_index(["column", "code"])["n"]
    assert cc[("PTMAT_EXP", "NE")] == 1 and cc[("PTMAT_EXP", "NP")] == 1
    assert cc[("READPROG", "LOWCOV")] == 1 and cc[("READPROG", "NA")] == 2
    assert cc[("TOTPUPS", "NEW")] == 1 and cc[("TELIG", "<short row>")] == 1
    assert t.values.loc[1, "READPROG"] == -1.2
    assert t.values["row_type"].tolist() == ["school"] * 5 + ["special school", "LA", "national"]


def test_sfr_england_figures(sfr):
    e = sfr.table.query("area_name == 'England' and measure == 'KS4_LEVEL2_EM' and sex == 'all'")
    fsm, other = e.set_index("group").loc["FSM"], e.set_index("group").loc["other"]
    assert (fsm["count"], fsm["denominator"]) == (32280, 84747)
    assert round(fsm["rate"], 1) == 38.1 and round(other["rate"], 1) == 64.8
    assert (other["count"], other["denominator"]) == (313800, 484374)


def test_sfr_areas_and_codes(sfr):
    t = sfr.table.drop_duplicates("area_name")
    assert t["area_level"].value_counts().to_dict() == {"la": 152, "region": 11, "national": 1}
    assert set(sfr.code_counts["code"]) == {"x", "."}
    x = sfr.code_counts.query("code == 'x'")
    assert set(x["reason"]) == {"suppressed (small count or secondary suppression)"}
    assert sfr.excluded["columns of group noSEN"] == 21


def test_sfr_national_file_by_characteristic(sources):
    n = read_published(sources["dfe-sfr05-2014"], 1)
    em = n.table.query("measure == 'KS4_LEVEL2_EM' and sex == 'all'").set_index(
        ["characteristic", "group"])
    assert em.loc[("disadvantaged", "disadvantaged"), "denominator"] == 154087
    assert em.loc[("fsm", "FSM"), "denominator"] == 85182
    assert n.excluded == {"rows of other characteristics": 49}


def test_sfr_fixture_other_year():
    r = read_statistical_release(FIX / "sfr_la_2015.csv")
    assert set(r.table["time_period"]) == {"2014/15"}
    c = r.table.query("area_name == 'Ceeton' and group == 'FSM'").iloc[0]
    assert c["count_code"] == "x" and c["rate"] != c["rate"]  # NaN, reason kept


def test_ees_long_format():
    r = read_statistical_release(FIX / "ees_ks4_2023.csv")
    assert r.layout == "ees_long"
    assert r.excluded == {"rows of other breakdown values": 1}
    codes = r.code_counts.set_index(["column", "code"])["reason"]
    assert codes[("t_l2basics_94", "c")] == "confidential (suppressed)"
    assert codes[("t_l2basics_94", "z")] == "not applicable"
    aton = r.table.query("area_name == 'Aton'").set_index("group")["rate"]
    assert aton.to_dict() == {"disadvantaged": 40.0, "other": 70.0}
    assert set(r.table["time_period"]) == {"2022/23"}


def test_unrecognised_file_says_what_was_expected_and_found():
    with pytest.raises(DataError) as err:
        read_performance_tables(FIX / "unknown.csv")
    msg = str(err.value)
    assert "unknown.csv" in msg and "performance_tables" in msg
    assert "['RECTYPE', 'LEA', 'URN', 'SCHNAME']" in msg and "['foo', 'bar']" in msg
    assert "first row ['1', '2']" in msg
    with pytest.raises(DataError, match="not a 'sfr_counts' file.*found columns"):
        read_statistical_release(FIX / "unknown.csv")
    with pytest.raises(DataError, match="not a 'performance_tables' file"):
        read_performance_tables(FIX / "sfr_la_2015.csv")


def test_missing_file():
    with pytest.raises(DataError, match="nope.csv: file not found"):
        read_performance_tables(FIX / "nope.csv")
