"""Readers of the DfE's published files: real files (figures counted by hand) and fixtures.

Every figure pinned on a real file was counted independently of the package, with Python's
``csv.reader`` on the raw bytes (codes, row types, rows with both rates) or read off the row
itself (national and LA rows); see the comments.
"""

from pathlib import Path

import pandas as pd
import pytest
from published_data import real_dir, real_file

from evaluation.exceptions import DataError
from evaluation.io.dfe import (
    ees_release,
    known_sources,
    meta_labels,
    published_sources,
    read_ees,
    read_performance_tables,
    read_published,
    read_rows,
    read_school_panel,
    read_statistical_release,
)

FIX = Path(__file__).parent / "fixtures" / "dfe"


@pytest.fixture(scope="module")
def sources():
    return published_sources(real_dir())


@pytest.fixture(scope="module")
def ks2(sources):
    return read_published(sources["dfe-ks2-2019-la850"])


@pytest.fixture(scope="module")
def ks4(sources):
    return read_published(sources["dfe-ks4-2017-la936"])


@pytest.fixture(scope="module")
def sfr(sources):
    return read_published(sources["dfe-sfr05-2014"])


# ----------------------------------------------------------------------------- registry
def test_registry_knows_every_shared_source_and_finds_them_outside_the_repo(sources):
    # The shared folder may hold fewer sources than the registry knows (a user's downloads
    # never hold them all): every folder that is there is registered and found.
    present = {p.name for p in real_dir().iterdir() if p.is_dir()}
    assert present <= set(known_sources())
    assert set(sources) == present
    s = sources["dfe-sfr05-2014"]
    assert s.layout == "sfr_counts" and "Open Government Licence v2.0" in s.licence
    assert [p.name for p in s.paths] == ["SFR05_2014_UD_LA_2.csv", "SFR05_2014_UD_national_1.csv"]
    assert "wt-issue15" not in str(s.path) and "data/published" not in str(s.path)
    assert sources["research-ks4-2013-2015-national"].report == "school_support"


def test_no_published_file_is_committed():
    files = [p for p in (Path(__file__).parents[1] / "data" / "published").rglob("*")
             if p.is_file()]
    assert sorted(p.name for p in files) == [".gitattributes", "README.md"]


def test_empty_or_absent_published_dir_has_no_sources(tmp_path):
    assert published_sources(tmp_path / "absent") == {}
    assert published_sources(tmp_path) == {}


def test_registered_folder_without_its_files_says_where_to_download(tmp_path):
    (tmp_path / "dfe-ks4-2017-la936").mkdir()
    with pytest.raises(DataError, match=r"2016-2017_936_ks4final.csv.*compare-school-perf"):
        published_sources(tmp_path)


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


def test_front_matter_that_is_not_yaml_names_the_readme_and_its_line(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "README.md").write_text("---\nslug: a\ntitle: [T\n---\n")
    with pytest.raises(DataError, match=r"a/README.md: front matter: not valid YAML at line 4"):
        published_sources(tmp_path)
    (tmp_path / "a" / "README.md").write_text("---\nslug: a\nslug: b\n---\n")
    with pytest.raises(DataError, match=r"front matter: not valid YAML at line 3, column 1: "
                                        r"key 'slug' is given twice \(first at line 2\)"):
        published_sources(tmp_path)


def test_front_matter_lines_count_blank_lines_and_a_list_is_refused(tmp_path):
    # review 20: blank lines after the first "---" were not counted ("line 4 ... first at
    # line 2" for lines 6 and 4); front matter that is a list raised TypeError
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "README.md").write_text("---\n\n\nslug: s\ntitle: T\nslug: t\n---\n")
    with pytest.raises(DataError, match=r"not valid YAML at line 6, column 1: key 'slug' is "
                                        r"given twice \(first at line 4\)"):
        published_sources(tmp_path)
    (tmp_path / "a" / "README.md").write_text("---\n- slug\n---\n")
    with pytest.raises(DataError, match=r"README.md: front matter: expected keys .* found a "
                                        r"list"):
        published_sources(tmp_path)


# ----------------------------------------------------------------------------- KS2 tables
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


def test_ks2_code_counts_per_column(ks2):
    cc = ks2.code_counts.set_index(["column", "code"])["n"]
    # counted by hand with csv.reader on the raw file
    assert cc[("PTRWM_EXP_FSM6CLA1A", "SUPP")] == 125
    assert cc[("PTRWM_EXP_FSM6CLA1A", "")] == 14
    assert cc[("PTRWM_EXP_FSM6CLA1A", "<short row>")] == 5
    assert cc[("PTRWM_EXP_NotFSM6CLA1A", "SUPP")] == 139
    assert cc[("TOTPUPS", "NEW")] == 3
    totals = ks2.code_counts.groupby("code")["n"].sum().to_dict()
    assert totals["SUPP"] == 16982 and totals["NA"] == 2180 and totals["LOWCOV"] == 3
    assert set(ks2.code_counts.query("code == 'SUPP'")["category"]) == {"suppressed"}
    for col in ("PTRWM_EXP_FSM6CLA1A", "TFSM6CLA1A", "READPROG"):
        assert (ks2.values[col].notna() ^ ks2.codes[col].notna()).all()


def test_ks2_2017_labels_from_the_family_convention_when_metadata_is_silent(sources):
    t = read_published(sources["dfe-ks2-2017-la850"])
    # the 2016/17 ks2_meta.csv says only "Record type": labels from the KS2 convention
    assert t.row_labels_from == "convention (ks2final)"
    assert t.values["row_type"].value_counts().to_dict() == {
        "school": 313, "special school": 15, "LA": 1, "national": 2}
    cols = ["PTRWM_EXP_FSM6CLA1A", "PTRWM_EXP_NotFSM6CLA1A"]
    assert t.rows("LA")[cols].values.tolist() == [[47.0, 71.0]]
    assert t.rows("national")[cols].values.tolist() == [[47.0, 67.0], [47.0, 67.0]]
    s = t.rows("school")
    assert int((s[cols[0]].notna() & s[cols[1]].notna()).sum()) == 187
    cc = t.code_counts.set_index(["column", "code"])["n"]
    assert (cc[(cols[0], "SUPP")], cc[(cols[0], "")], cc[(cols[0], "<short row>")]) == (112, 20,
                                                                                        5)


def test_ks2_identifiers_stay_text_and_percentages_become_numbers(ks2):
    assert ks2.values["TELNUM"].dropna().str.startswith("0").all()
    assert ks2.values["URN"].dtype == "string"
    assert "PTFSM6CLA1A" in ks2.percent_columns
    assert ks2.rows("LA")["PTFSM6CLA1A"].tolist() == [22.0]


# ----------------------------------------------------------------------------- KS4 tables
def test_ks4_national_rows_labelled_from_the_ks4_dictionary(ks4):
    assert ks4.row_labels_from == "metadata"
    assert ks4.values["row_type"].value_counts().to_dict() == {
        "school": 94, "special school": 33, "LA": 1, "national": 2}
    labels = ks4.values.set_index("RECTYPE")["row_label"]
    assert labels[7.0] == "National (maintained schools)" and labels[4.0] == "local authority"
    assert not ks4.values["row_label"].str.startswith("RECTYPE").any()


def test_ks4_group_columns_and_la_national_rows(ks4):
    cols = ["TFSM6CLA1A", "TNOTFSM6CLA1A", "PTFSM6CLA1ABASICS_94", "PTNOTFSM6CLA1ABASICS_94"]
    # RECTYPE 4 and 7 rows of the file, read off by hand
    assert ks4.rows("LA")[cols].values.tolist() == [[1665, 8401, 48.6, 77.9]]
    nat = ks4.values[ks4.values["RECTYPE"] == 7][cols].values.tolist()
    assert nat == [[143544, 384200, 44.3, 71.2]]
    cc = ks4.code_counts.set_index(["column", "code"])["n"]
    assert (cc[("PTFSM6CLA1ABASICS_94", "NP")], cc[("PTFSM6CLA1ABASICS_94", "SUPP")],
            cc[("PTFSM6CLA1ABASICS_94", "")], cc[("PTFSM6CLA1ABASICS_94", "<short row>")]) \
        == (51, 14, 3, 2)
    assert set(ks4.code_counts.query("code == 'NP'")["category"]) == {"suppressed"}


# ----------------------------------------------------------------------------- destinations
def test_destinations_five_years_text_rectypes(sources):
    src = sources["dfe-ks4-destinations-2017-2022-national"]
    t = read_published(src, 0)
    assert t.values["row_type"].value_counts().to_dict() == {
        "school": 3140, "special school": 787, "LA": 149, "national": 1}
    nat = t.rows("national")[["COHORT_DIS", "COHORT_NONDIS", "OVERALL_DESTPER_DIS",
                              "OVERALL_DESTPER_NONDIS"]].values.tolist()
    assert nat == [[146424, 415969, 89.0, 96.0]]
    totals = t.code_counts.groupby("code")["n"].sum()
    assert (totals["SN"], totals["SP"]) == (27, 997)
    assert t.code_counts.query("column == 'OVERALL_DESTPER_DIS'").set_index("code")["n"] \
        .to_dict() == {"SUPP": 923}
    rows = {read_published(src, i).values["row_type"].value_counts()["school"] for i in
            range(1, 5)}
    assert rows == {3087, 2955, 2943, 2930}


# ----------------------------------------------------------------------------- 2022/23, xlsx
def test_ks4_2023_filtered_file_without_rectype_and_its_xlsx_dictionary(sources):
    src = sources["dfe-ks4-2023-national"]
    t = read_published(src, 0)
    assert t.row_labels_from == "structure" and len(t.rows("school")) == 3056
    assert t.values["LEA"].nunique() == 151
    cc = t.code_counts.set_index(["column", "code"])["n"]
    assert (cc[("ATT8SCR_FSM6CLA1A", "NA")], cc[("ATT8SCR_NFSM6CLA1A", "NA")]) == (128, 126)
    assert t.labels["ATT8SCR_FSM6CLA1A"] == "Average Attainment 8 score per disadvantaged pupil"
    census = read_published(src, 1)
    assert len(census.values) == 24436
    assert census.code_counts.set_index(["column", "code"])["n"][("NUMFSMEVER", "NA")] == 2408
    assert census.labels["NUMFSMEVER"].startswith("Number of pupils")


def test_xlsx_dictionary_read_as_a_spreadsheet_not_as_text():
    path = real_file("dfe-ks4-2023-national", "ks4_meta.xlsx")
    header, rows = read_rows(path)
    assert header[:3] == ["Column", "Metafile heading", "Metafile description"]
    assert len(rows) == 515  # rows of the first sheet, counted in a spreadsheet
    assert meta_labels(path)["RECTYPE"].startswith("Record type (1=mainstream school")


@pytest.mark.parametrize("suffix, engine", [(".xlsx", "openpyxl"), (".ods", "odf")])
def test_spreadsheet_downloads_read_like_the_csv(tmp_path, suffix, engine):
    raw = pd.read_csv(FIX / "2021-2022_999_ks2final.csv", dtype=str, keep_default_na=False,
                      encoding="utf-8-sig")
    path = tmp_path / f"2021-2022_999_ks2final{suffix}"
    raw.to_excel(path, index=False, engine=engine)
    a = read_performance_tables(path)
    b = read_performance_tables(FIX / "2021-2022_999_ks2final.csv")
    assert a.values["row_type"].tolist() == b.values["row_type"].tolist()
    assert a.values["PTRWM_EXP_FSM6CLA1A"].equals(b.values["PTRWM_EXP_FSM6CLA1A"])
    # an xlsx saved with a .csv name is still read as a spreadsheet
    disguised = tmp_path / "download.csv"
    disguised.write_bytes(path.read_bytes())
    assert len(read_performance_tables(disguised).values) == len(b.values)


def test_old_xls_and_missing_files_get_clear_errors(tmp_path):
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(DataError, match=r"old.xls: an old binary Excel"):
        read_performance_tables(xls)
    with pytest.raises(DataError, match="nope.csv: file not found"):
        read_performance_tables(FIX / "nope.csv")


def test_column_holding_only_codes_is_counted_not_text(tmp_path):
    text = (FIX / "2021-2022_999_ks2final.csv").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    codes = ["SUPP", "NP", "NE", "SUPP", "NA", "SUPP", "NP", ""]
    lines = [lines[0] + ",PTCODES"] + [f"{line},{c}" if len(line.split(",")) == 16 else line
                                       for line, c in zip(lines[1:], codes, strict=True)]
    path = tmp_path / "codes_ks2final.csv"
    path.write_text("\n".join(lines) + "\n")
    t = read_performance_tables(path)
    assert "PTCODES" in t.codes.columns and t.values["PTCODES"].isna().all()
    got = t.code_counts.query("column == 'PTCODES'").set_index("code")["n"].to_dict()
    assert got == {"": 1, "NA": 1, "NE": 1, "NP": 2, "SUPP": 2, "<short row>": 1}


def test_fixture_other_la_and_year_every_code():
    t = read_performance_tables(FIX / "2021-2022_999_ks2final.csv")
    cc = t.code_counts.set_index(["column", "code"])["n"]
    assert cc[("PTMAT_EXP", "NE")] == 1 and cc[("PTMAT_EXP", "NP")] == 1
    assert cc[("READPROG", "LOWCOV")] == 1 and cc[("READPROG", "NA")] == 2
    assert cc[("TOTPUPS", "NEW")] == 1 and cc[("TELIG", "<short row>")] == 1
    assert t.values.loc[1, "READPROG"] == -1.2
    assert t.values["row_type"].tolist() == ["school"] * 5 + ["special school", "LA", "national"]


# ----------------------------------------------------------------------------- releases
def test_sfr_england_figures(sfr):
    e = sfr.table.query("area_name == 'England' and measure == 'KS4_LEVEL2_EM' and sex == 'all'")
    fsm, other = e.set_index("group").loc["FSM"], e.set_index("group").loc["other"]
    assert (fsm["count"], fsm["denominator"]) == (32280, 84747)
    assert (other["count"], other["denominator"]) == (313800, 484374)


def test_sfr_areas_and_codes(sfr):
    t = sfr.table.drop_duplicates("area_name")
    assert t["area_level"].value_counts().to_dict() == {"la": 152, "region": 11, "national": 1}
    assert set(sfr.code_counts["code"]) == {"x", "."}
    assert set(sfr.code_counts.query("code == 'x'")["category"]) == {"suppressed"}
    assert sfr.excluded["columns of group noSEN"] == 21


def test_sfr_national_file_by_characteristic(sources):
    n = read_published(sources["dfe-sfr05-2014"], 1)
    em = n.table.query("measure == 'KS4_LEVEL2_EM' and sex == 'all'").set_index(
        ["characteristic", "group"])
    assert em.loc[("disadvantaged", "disadvantaged"), "denominator"] == 154087
    assert em.loc[("fsm", "FSM"), "denominator"] == 85182


# ----------------------------------------------------------------------------- EES
def test_ees_real_file_every_level_codes_by_meaning_gender_as_sex():
    t = read_ees(real_file("dfe-ees-ks2-la-2016-2022",
                           "ks2_regional_and_local_authority_2016_to_2022_provisional.csv"))
    assert t.levels == {"National": 22, "Regional": 232, "Local authority": 3190}
    assert set(t.data["area_level"]) == {"national", "region", "la"}
    assert t.data["sex"].value_counts().to_dict() == {"all": 1147, "girls": 1147, "boys": 1147,
                                                     "other": 3}
    assert set(t.data["time_period"]) == {f"{y}/{(y + 1) % 100:02d}" for y in range(2015, 2022)}
    totals = t.code_counts.groupby("code")["n"].sum().to_dict()
    assert totals == {"x": 100368, "z": 44280, "c": 2751}  # csv.reader over indicator columns
    by_cat = t.code_counts.groupby("category")["n"].sum().to_dict()
    assert by_cat == {"not available": 100368, "not applicable": 44280, "suppressed": 2751}
    e = t.data.query("area_level == 'national' and time_period == '2018/19' and sex == 'all'")
    assert e[["t_rwm_eligible_pupils", "t_rwm_met_expected_standard",
              "pt_rwm_met_expected_standard"]].values.tolist() == [[639818, 418171, 65]]
    la = t.data.query("area_level == 'la' and time_period == '2018/19' and sex == 'all'")
    assert len(la) == 151 and la["area_name"].str.len().gt(0).all()
    assert "gender" in t.filters and "school_type" in t.filters


def test_ees_real_file_without_a_disadvantage_breakdown_says_so():
    t = read_ees(real_file("dfe-ees-ks2-la-2016-2022",
                           "ks2_regional_and_local_authority_2016_to_2022_provisional.csv"))
    with pytest.raises(DataError, match=r"ks2_regional.*no FSM / disadvantage breakdown.*"
                                        r"'gender': \['Total', 'Girls', 'Boys', 'Other'\]"):
        ees_release(t)


def test_ees_meta_csv_declares_filters_and_indicators():
    t = read_ees(FIX / "ees_ks2_disadvantage.csv")
    assert t.meta is not None
    assert t.indicators == ("t_rwm_eligible_pupils", "t_rwm_met_expected_standard",
                            "pt_rwm_met_expected_standard", "avg_read_scaled_score")
    assert list(t.filters) == ["characteristic_topic", "characteristic", "characteristic_gender",
                               "school_type"]
    cc = t.code_counts.set_index(["column", "code"])["category"]
    assert cc[("avg_read_scaled_score", "~")] == "rounds to zero"
    assert cc[("avg_read_scaled_score", "low")] == "rounds to zero"
    assert cc[("avg_read_scaled_score", "u")] == "low reliability"
    assert cc[("avg_read_scaled_score", ":")] == "not available"
    assert cc[("avg_read_scaled_score", "z")] == "not applicable"
    assert cc[("t_rwm_met_expected_standard", "c")] == "suppressed"


def test_ees_groups_labels_denominator_and_sex():
    r = ees_release(read_ees(FIX / "ees_ks2_disadvantage.csv"))
    t = r.table
    aton = t.query("area_name == 'Aton' and sex == 'all'").set_index("group")
    assert aton[["count", "denominator", "rate"]].values.tolist() == [[10, 20, 50], [40, 50, 80]]
    fsm_other = t.query("characteristic == 'fsm'")
    assert fsm_other[["area_name", "group", "count", "denominator"]].values.tolist() == [
        ["North East", "other", 110, 150]]  # 'fsm Total other'
    assert set(t["sex"]) == {"all", "boys", "girls"}
    assert r.excluded == {"rows of other characteristic values": 1}
    ceeton = t.query("area_name == 'Ceeton' and group == 'disadvantaged'").iloc[0]
    assert ceeton["count_code"] == "x" and ceeton["denominator"] == 15


def test_ees_older_layout_breakdown_topic_without_meta():
    r = read_statistical_release(FIX / "ees_ks4_2023.csv")
    assert r.layout == "ees_long"
    assert r.excluded == {"rows of other breakdown values": 1}
    aton = r.table.query("area_name == 'Aton'").set_index("group")["rate"]
    assert aton.to_dict() == {"disadvantaged": 40.0, "other": 70.0}
    assert set(r.table["time_period"]) == {"2022/23"}


def test_ees_meta_naming_absent_columns_is_an_error(tmp_path):
    data = tmp_path / "f.csv"
    data.write_bytes((FIX / "ees_ks4_2023.csv").read_bytes())
    (tmp_path / "f.meta.csv").write_text("col_name,col_type,label\nt_nope,Indicator,Nope\n")
    with pytest.raises(DataError, match=r"f.meta.csv: declares columns \['t_nope'\]"):
        read_ees(data)


# ----------------------------------------------------------------------------- panel
def test_school_panel_real_file():
    p = read_school_panel(real_file("research-ks4-2013-2015-national", "isolatedSchools.csv"))
    assert p.years == (2013, 2014, 2015) and p.table["urn"].nunique() == 2577
    t = p.table
    assert int(t.query("year == 2013")["n_fsm"].sum()) == 134026  # sum of tever6fsm13
    assert int(t.query("year == 2015")["n_pupils"].sum()) == 476541  # sum of tpup15
    assert str(t["n_fsm"].dtype) == "Int64"
    first = t.query("urn == '100049' and year == 2013").iloc[0]
    # ac.gcse.all13 0.58, ac.gcse.fsm13 0.57, tpup13 203, tever6fsm13 166
    assert first["rate_other"] == pytest.approx((58 * 203 - 57 * 166) / 37)
    assert t.query("year == 2014")["gap"].isna().all()
    assert any("ever6fsm15 disagrees" in n for n in p.notes)


def test_school_panel_fixture_and_errors():
    p = read_school_panel(FIX / "school_panel.csv")
    c = p.table.query("urn == '100003' and year == 2014").iloc[0]
    assert "ac.gcse.fsm14: not available" in c["status"]
    with pytest.raises(DataError, match=r"not a 'school_panel' file.*ac.gcse.fsm"):
        read_school_panel(FIX / "unknown.csv")


# ----------------------------------------------------------------------------- errors
def test_unrecognised_file_says_what_was_expected_and_found():
    with pytest.raises(DataError) as err:
        read_performance_tables(FIX / "unknown.csv")
    msg = str(err.value)
    assert "unknown.csv" in msg and "performance_tables" in msg and "missing ['URN']" in msg
    assert "['foo', 'bar']" in msg and "first row ['1', '2']" in msg
    with pytest.raises(DataError, match="not a 'sfr_counts' file.*found columns"):
        read_statistical_release(FIX / "unknown.csv")
    with pytest.raises(DataError, match="not an explore-education-statistics file"):
        read_ees(FIX / "unknown.csv")


# ----------------------------------------------------------------------------- a newcomer's folder
# What someone pointing PUBLISHED at a folder of downloads meets: a file renamed by the browser,
# an xlsx in place of the CSV, an empty file, a header without rows. Each message names the
# file and what was looked for.
def _ks2_folder(tmp_path):
    folder = tmp_path / "dfe-ks2-2019-la850"
    folder.mkdir()
    (folder / "ks2_meta.csv").write_text("Field Name,Description\nRECTYPE,Record type\n")
    return folder


def test_renamed_download_names_the_file_the_formats_and_the_folder(tmp_path):
    folder = _ks2_folder(tmp_path)
    (folder / "2018-2019_850_ks2final (1).csv").write_bytes(
        (FIX / "2021-2022_999_ks2final.csv").read_bytes())
    with pytest.raises(DataError) as err:
        published_sources(tmp_path)
    text = str(err.value)
    assert "dfe-ks2-2019-la850" in text and "['2018-2019_850_ks2final.csv']" in text
    assert "['.csv', '.xlsx', '.ods']" in text
    assert "'2018-2019_850_ks2final (1).csv'" in text  # what the folder holds
    assert "compare-school-performance" in text


@pytest.mark.parametrize("suffix, engine", [(".xlsx", "openpyxl"), (".ods", "odf")])
def test_spreadsheet_download_in_place_of_the_csv_is_read(tmp_path, suffix, engine):
    folder = _ks2_folder(tmp_path)
    raw = pd.read_csv(FIX / "2021-2022_999_ks2final.csv", dtype=str, keep_default_na=False,
                      encoding="utf-8-sig")
    raw.to_excel(folder / f"2018-2019_850_ks2final{suffix}", index=False, engine=engine)
    src = published_sources(tmp_path)["dfe-ks2-2019-la850"]
    assert src.path.name == f"2018-2019_850_ks2final{suffix}"
    assert len(read_published(src).rows("school")) == 5


def test_empty_and_header_only_files_say_so(tmp_path):
    folder = _ks2_folder(tmp_path)
    main = folder / "2018-2019_850_ks2final.csv"
    main.write_bytes(b"")
    src = published_sources(tmp_path)["dfe-ks2-2019-la850"]
    with pytest.raises(DataError, match=r"2018-2019_850_ks2final.csv: empty file; expected a "
                                        r"CSV with a header row"):
        read_published(src)
    main.write_text("RECTYPE,LEA,URN,SCHNAME,PTRWM_EXP_FSM6CLA1A\r\n")
    with pytest.raises(DataError, match=r"2018-2019_850_ks2final.csv: a header \(5 columns.*"
                                        r"but no data rows"):
        read_published(src)
    ees = tmp_path / "e.csv"
    ees.write_text("time_period,geographic_level,t_pupils\n")
    with pytest.raises(DataError, match=r"e.csv: a header \(3 columns\) but no data rows"):
        read_ees(ees)


def test_empty_or_broken_spreadsheet_names_the_file(tmp_path):
    empty = tmp_path / "2018-2019_850_ks2final.xlsx"
    pd.DataFrame().to_excel(empty, index=False)
    with pytest.raises(DataError, match=r"2018-2019_850_ks2final.xlsx: the sheet 0 is empty"):
        read_performance_tables(empty)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\0" * 50)
    with pytest.raises(DataError, match=r"broken.xlsx: could not read it as a spreadsheet"):
        read_performance_tables(broken)


def test_a_ks4_file_where_the_ks2_file_belongs_says_which_columns_were_tried(tmp_path):
    from evaluation.exceptions import NotEstimableError
    from evaluation.gaps.published import published_report

    folder = _ks2_folder(tmp_path)
    (folder / "2018-2019_850_ks2final.csv").write_bytes(real_file(
        "dfe-ks4-2017-la936", "2016-2017_936_ks4final.csv").read_bytes())
    with pytest.raises(NotEstimableError, match=r"2018-2019_850_ks2final.csv: no disadvantaged "
                                                r"/ other columns for measure 'PTRWM_EXP': "
                                                r"tried \[\('PTRWM_EXP_FSM6CLA1A'"):
        published_report("dfe-ks2-2019-la850", tmp_path)


# ----------------------------------------------------------------------------- 2009/10 tables
# Hand figures: awk -F'\t' over the file (RecType counts, the RecType 5 and 7 rows, the
# non-percentage values of P5ACinclEM).
def test_ks4_2010_tab_separated_rows_codes_and_why_no_gap():
    from evaluation.io.dfe._common import code_counts, parse

    path = real_file("dfe-ks4-2010-national", "england_ks4.csv")
    header, rows = read_rows(path)
    assert len(header) == 63 and header[:4] == ["RecType", "AlphaInd", "LACode", "EstabCode"]
    assert len(rows) == 5332
    assert pd.Series([r[0] for r in rows]).value_counts().to_dict() == {
        "1": 4047, "2": 1131, "4": 152, "5": 1, "7": 1}
    col = header.index("P5ACinclEM")
    values, codes = parse(pd.Series([r[col] if len(r) > col else None for r in rows]))
    national = {r[0]: v for r, v in zip(rows, values, strict=True) if r[0] in ("5", "7")}
    assert national == {"5": 53.5, "7": 55.2}
    counts = code_counts(pd.DataFrame({"P5ACinclEM": codes}), "performance_tables")
    got = counts.set_index("code")[["n", "category"]].to_dict("index")
    assert got["LT11"] == {"n": 804, "category": "suppressed"}
    assert got["NE"] == {"n": 61, "category": "no entries"} and got[""]["n"] == 100
    with pytest.raises(DataError, match=r"england_ks4.csv: not a 'performance_tables' file.*"
                                        r"missing \['URN'\].*'RecType', 'AlphaInd', 'LACode'"):
        read_performance_tables(path)


def test_ees_real_file_la_and_regional_rows():
    # awk over the file: time_period 201819, gender Total
    t = read_ees(real_file("dfe-ees-ks2-la-2016-2022",
                           "ks2_regional_and_local_authority_2016_to_2022_provisional.csv"))
    d = t.data.query("time_period == '2018/19' and sex == 'all'").set_index("area_name")
    cols = ["t_rwm_eligible_pupils", "t_rwm_met_expected_standard",
            "pt_rwm_met_expected_standard"]
    assert d.loc["Hampshire", cols].tolist() == [14854, 10057, 68]
    assert d.loc["Hampshire", ["area_code", "area_level"]].tolist() == ["E10000014", "la"]
    assert d.loc["South East", cols].tolist() == [101070, 67060, 66]
    assert d.loc["South East", "area_level"] == "region"
    small = t.data.query("time_period == '2018/19' and sex == 'all' and area_name in "
                         "['City of London', 'Isles of Scilly']").index
    assert len(small) == 2 and t.codes.loc[small, cols].eq("c").all().all()  # suppressed


def test_downloads_dropped_loose_or_in_an_unknown_folder_are_reported(tmp_path):
    from evaluation.exceptions import EvaluationWarning

    (tmp_path / "2018-2019_850_ks2final.csv").write_bytes(b"URN\n1\n")
    (tmp_path / "notes.csv").write_bytes(b"a\n")
    with pytest.raises(DataError, match=r"not read: \['2018-2019_850_ks2final.csv -> "
                                        r"dfe-ks2-2019-la850/', 'notes.csv -> \?'\]"):
        published_sources(tmp_path)
    for f in list(tmp_path.iterdir()):
        f.unlink()
    (tmp_path / "my downloads").mkdir()
    with pytest.warns(EvaluationWarning, match=r"folders \['my downloads'\] are not read"):
        assert published_sources(tmp_path) == {}
