"""NPD extract loader: mapping applied, recodes, and clear errors."""

from pathlib import Path

import pandas as pd
import pytest

from evaluation.exceptions import DataError
from evaluation.io.npd import load_mapping, read_npd_extract

FIX = Path(__file__).parent / "fixtures" / "npd" / "ks4_extract.csv"


def _write(tmp_path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "extract.csv"
    frame.to_csv(path, index=False)
    return path


def test_ks4_extract_mapped_and_validated():
    d = read_npd_extract(FIX, "ks4")
    assert d["pupil_id"].tolist() == ["A001", "A002", "A003"]
    assert d["cohort"].tolist() == [2010, 2010, 2010]
    assert d["fsm"].tolist() == [True, False, False]
    assert d["female"].tolist() == [True, False, True]
    assert d["sen"].tolist() == ["none", "support", "statement"]
    assert d["eal"].tolist() == [False, True, False]
    assert d["ethnicity"].tolist() == ["white", "asian", "black"]
    assert d["gcse_capped_points"].tolist() == [310.0, 402.5, 198.0]
    assert d["ks4_ep_eng"].isna().tolist() == [False, False, True]
    assert d["idaci"].isna().sum() == 1 and d["ks1_aps"].isna().all()
    assert (d["phase"] == "secondary").all() and not d["em"].any()


def test_both_example_mappings_load():
    assert load_mapping("ks2")["phase"] == "primary"
    assert "ks1_aps" in load_mapping("ks2")["fields"]


def test_missing_field_lists_what_was_expected(tmp_path):
    frame = pd.read_csv(FIX, dtype=str).drop(columns=["KS4_GENDER"])
    with pytest.raises(DataError, match=r"NPD fields missing for \['female'\]; expected one of: "
                                        r"female <- \['KS4_GENDER'\]"):
        read_npd_extract(_write(tmp_path, frame), "ks4")


def test_unknown_field_is_an_error_unless_ignored(tmp_path):
    frame = pd.read_csv(FIX, dtype=str).assign(KS4_MYSTERY="1")
    path = _write(tmp_path, frame)
    with pytest.raises(DataError, match=r"fields \['KS4_MYSTERY'\] are not in mapping 'ks4'"):
        read_npd_extract(path, "ks4")
    assert len(read_npd_extract(path, "ks4", extra="ignore")) == 3


def test_unmapped_value_names_column_rows_and_allowed(tmp_path):
    frame = pd.read_csv(FIX, dtype=str)
    frame.loc[1, "KS4_GENDER"] = "X"
    with pytest.raises(DataError, match=r"column 'KS4_GENDER' \(-> female\) has values \['X'\] "
                                        r"in 1 of 3 rows \(row 2\) not in the mapping; "
                                        r"allowed: \['F', 'M'\]"):
        read_npd_extract(_write(tmp_path, frame), "ks4")


def test_non_numeric_value_is_an_error(tmp_path):
    frame = pd.read_csv(FIX, dtype=str)
    frame.loc[0, "KS4_KS2APS"] = "abc"
    with pytest.raises(DataError, match=r"KS4_KS2APS.*non-numeric values \['abc'\] in 1 of 3 "
                                        r"rows \(row 1\)"):
        read_npd_extract(_write(tmp_path, frame), "ks4")


def test_schema_failure_is_reported(tmp_path):
    frame = pd.read_csv(FIX, dtype=str)
    frame.loc[2, "KS4_KS2APS"] = "99"
    with pytest.raises(DataError, match="ks2_aps"):
        read_npd_extract(_write(tmp_path, frame), "ks4")


def test_bad_mapping_targets(tmp_path):
    with pytest.raises(DataError, match=r"targets \['shoe_size'\] are not columns"):
        load_mapping({"fields": {"shoe_size": {"from": ["X"]}}})
    with pytest.raises(DataError, match=r"one of \['ks2', 'ks4'\]; got 'ks5'"):
        load_mapping("ks5")


def test_a_mapping_file_that_is_not_yaml_or_gives_a_key_twice_is_named(tmp_path):
    # a user's mapping file went to yaml.safe_load: a key given twice kept the last silently,
    # and text that was not YAML raised PyYAML's own error (one YAML reader now, as the plan's)
    twice = tmp_path / "mine.yml"
    twice.write_text("phase: primary\nfields:\n  cohort: {from: [A]}\n  cohort: {from: [B]}\n")
    with pytest.raises(DataError, match=r"mine.yml: not valid YAML at line 4, column 3: key "
                                        r"'cohort' is given twice \(first at line 3\)"):
        load_mapping(twice)
    broken = tmp_path / "broken.yml"
    broken.write_text("fields: [a,\n")
    with pytest.raises(DataError, match=r"broken.yml: not valid YAML at line 2"):
        load_mapping(broken)


def test_a_mapping_file_may_merge_keys_and_must_be_a_mapping(tmp_path):
    # review 20: the one YAML reader refused "<<: *base" (PyYAML's safe_load, used before,
    # merges it); an empty mapping file raised TypeError and a list AttributeError, unnamed
    merged = tmp_path / "merged.yml"
    merged.write_text("phase: primary\nfields:\n  cohort: &c {from: [A]}\n"
                      "  ks2_aps:\n    <<: *c\n    from: [B]\n")
    assert load_mapping(merged)["fields"]["ks2_aps"]["from"] == ["B"]
    for name, text, found in (("empty.yml", "", "nothing"), ("list.yml", "- a\n", "a list")):
        (tmp_path / name).write_text(text)
        with pytest.raises(DataError, match=rf"{name}: expected a mapping .* found {found}"):
            load_mapping(tmp_path / name)
    (tmp_path / "key.yml").write_text("phase: primary\n[1, 2]: x\n")
    with pytest.raises(DataError, match=r"key.yml: not valid YAML at line 2, column 1: found "
                                        r"unhashable key"):
        load_mapping(tmp_path / "key.yml")


def test_unreadable_academic_year_is_named(tmp_path):
    frame = pd.read_csv(FIX, dtype=str)
    frame.loc[2, "KS4_ACADYR"] = "2010.6"
    with pytest.raises(DataError, match=r"column 'KS4_ACADYR' \(-> cohort\) has values "
                                        r"\['2010.6'\] in 1 of 3 rows \(row 3\) that "
                                        r"academic_year_end cannot read"):
        read_npd_extract(_write(tmp_path, frame), "ks4")


def test_ragged_extract_is_refused_not_shifted(tmp_path):
    lines = FIX.read_text().splitlines()
    lines[2] = lines[2] + ",EXTRA"
    path = tmp_path / "extract.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"1 of 3 rows \(row 2\) have \d+ fields where the "
                                        r"header has \d+"):
        read_npd_extract(path, "ks4")
