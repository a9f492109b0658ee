"""Schema validation messages and Dataset reading / writing."""

import pandas as pd
import pytest

from evaluation.exceptions import DataError
from evaluation.io import Dataset, read_dataset, write_dataset
from evaluation.schema import TABLES, validate


def _schools(n=2):
    return pd.DataFrame({
        "school_id": [f"S{i}" for i in range(n)], "school_name": [f"School {i}" for i in range(n)],
        "la": ["LA 1"] * n, "phase": ["secondary"] * n,
        "cluster": ["Ashdown cluster"] + [None] * (n - 1),
        "role": ["trial"] + ["comparison"] * (n - 1),
        "em_phase": ["secondary_1"] + [None] * (n - 1),
        "em_activity": ["raising aspirations"] + [None] * (n - 1),
        "em_linked": [True] + [False] * (n - 1),
        "fsm_pct": [35.0] + [10.0] * (n - 1),
    })


def _pupils(n=4):
    base = {c.name: None for c in TABLES["pupils"]}
    rows = []
    for i in range(n):
        rows.append({**base, "pupil_id": f"P{i:05d}", "cohort": 2010, "school_id": "S0",
                     "phase": "secondary", "em": i == 0, "fsm": i % 2 == 0, "female": True,
                     "sen": "none", "eal": False, "ethnicity": "white", "lac": False,
                     "idaci": 0.3, "ks2_aps": 27.0, "gcse_capped_points": 300.0,
                     "gcse_5ac_em": 1.0})
    return pd.DataFrame(rows)


def _surveys():
    return pd.DataFrame({"respondent_id": ["R1"], "school_id": ["S0"], "instrument": ["pupil"],
                         "wave": ["baseline"], "item": ["p01"], "score": [7.0]})


def _tracking():
    return pd.DataFrame({"pupil_id": ["P00000"], "school_id": ["S0"], "class_id": ["S0-Y5A"],
                         "term": ["autumn"], "subject": ["reading"], "aps": [20.5], "fsm": [True]})


def test_valid_tables_pass_and_are_coerced():
    out = validate(_pupils(), "pupils", "pupils.csv")
    assert out["cohort"].dtype == "int64" and out["em"].dtype == bool


def test_missing_and_misspelt_columns_are_named_with_a_hint():
    df = _pupils().rename(columns={"fsm": "FSM"})
    with pytest.raises(DataError) as err:
        validate(df, "pupils", "extract/pupils.csv")
    msg = str(err.value)
    assert msg.startswith("extract/pupils.csv: missing columns ['fsm']")
    assert "found 'FSM'" in msg


def test_impossible_values_name_column_rows_and_expectation():
    df = _pupils()
    df.loc[2, "sen"] = "statemented"
    df.loc[[1, 3], "ks2_aps"] = 99.0
    with pytest.raises(DataError) as err:
        validate(df, "pupils", "pupils.csv")
    msg = str(err.value)
    assert ("column 'sen': 1 of 4 rows (row 3): found 'statemented'; expected one of 'none', "
            "'support', 'statement', not blank") in msg
    assert ("column 'ks2_aps': 2 of 4 rows (rows 2, 4): found 99; expected a number from 9 to "
            "39 or blank (missing)") in msg


def test_wrong_type_is_reported():
    df = _pupils()
    df["cohort"] = df["cohort"].astype(object)
    df.loc[0, "cohort"] = "twenty-ten"
    with pytest.raises(DataError, match=r"column 'cohort': 1 of 4 rows \(row 1\): found "
                                        r"'twenty-ten'; expected a whole number"):
        validate(df, "pupils", "pupils.csv")


def test_duplicate_pupils_are_refused():
    df = pd.concat([_pupils(), _pupils().iloc[[1]]], ignore_index=True)
    expected = (r"columns \['pupil_id', 'cohort'\]: 2 of 5 rows \(rows 2, 5\) are duplicates of "
                r"another row on pupil_id \+ cohort")
    with pytest.raises(DataError, match=expected):
        validate(df, "pupils", "pupils.csv")


def test_round_trip_and_unknown_school(tmp_path):
    ds = Dataset(_pupils(), _schools(), _surveys(), _tracking(), meta={"synthetic": True})
    write_dataset(ds, tmp_path)
    back = read_dataset(tmp_path)
    pd.testing.assert_frame_equal(back.pupils, validate(_pupils(), "pupils"), check_dtype=False)
    assert back.is_synthetic and set(back.meta["file_hashes"]) >= {"pupils.parquet", "meta.json"}
    bad = _pupils()
    bad.loc[1, "school_id"] = "S9"
    write_dataset(Dataset(bad, _schools(), _surveys(), _tracking()), tmp_path)
    expected = (r"pupils.parquet: column 'school_id': 1 of 4 rows \(row 2\) name schools "
                r"missing from schools.parquet \(found 'S9'\)")
    with pytest.raises(DataError, match=expected):
        read_dataset(tmp_path)


def test_missing_table_file(tmp_path):
    with pytest.raises(DataError, match="no pupils.parquet or pupils.csv"):
        read_dataset(tmp_path)


def test_every_read_validates_and_nothing_is_cached(tmp_path):
    """Results never depend on what ran before: a second read checks the files again."""
    ds = Dataset(_pupils(), _schools(), _surveys(), _tracking())
    write_dataset(ds, tmp_path)
    first = read_dataset(tmp_path)
    second = read_dataset(tmp_path)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    for table in ("pupils", "schools", "surveys", "tracking"):
        pd.testing.assert_frame_equal(getattr(first, table), getattr(second, table))
    bad = _pupils()
    bad.loc[0, "sen"] = "unknown"
    bad.to_parquet(tmp_path / "pupils.parquet", index=False)
    for _ in range(2):
        with pytest.raises(DataError, match=r"column 'sen': 1 of 4 rows \(row 1\)"):
            read_dataset(tmp_path)


def test_validated_table_passes_the_pandera_schema():
    from evaluation.schema import schema_for

    out = validate(_pupils(), "pupils", "pupils.csv")
    schema_for("pupils").validate(out)  # pandera's own checks agree, with no coercion


def test_the_digest_sees_every_change_and_is_fast():
    """The digest keys every cache of results (a warm kernel, the build's shared folder): a
    change of one value, of the index or of a column's type gives a new one; the same data
    read twice give the same one; and it costs little on the default data (780,000 pupils)."""
    import time

    from synthetic_data import generated

    from evaluation.synthetic import generate

    ds = generate(seed=1, include_population=False)
    same = generate(seed=1, include_population=False)
    assert ds.digest() == same.digest() == ds.copy().digest()
    changes = {
        "a pupil id": lambda p: p.loc[p.index[3], "pupil_id"] + "x",
        "a score": lambda p: p.loc[p.index[3], "ks2_aps"] + 0.5,
        "a flag": lambda p: not p.loc[p.index[3], "fsm"],
    }
    for what, new in changes.items():
        other = ds.copy()
        other.pupils.loc[other.pupils.index[3], {"a pupil id": "pupil_id", "a score": "ks2_aps",
                                                 "a flag": "fsm"}[what]] = new(other.pupils)
        assert other.digest() != ds.digest(), what
    moved = ds.copy()
    moved.pupils.index = moved.pupils.index + 1
    assert moved.digest() != ds.digest()
    # the same rows reached another way (a filter, a slice) hash alike or differ: never wrong
    ids = ds.schools["school_id"].iloc[:3]
    assert ds.for_schools(ids).digest() == same.for_schools(ids).digest()
    big = generated(seed=1)
    start = time.perf_counter()
    big.digest()
    assert time.perf_counter() - start < 1.0


def test_the_digest_of_text_is_the_same_however_arrow_holds_it():
    """Two processes holding the same pupils must agree on the digest, or the build's
    workers compute again what the other shared (the secondary clusters' matchings were):
    one chunk or many, a slice of a larger buffer, bytes past the end, a missing value's
    bytes, 32- or 64-bit offsets all hash alike; a changed string does not."""
    import hashlib

    import numpy as np
    import pyarrow as pa

    from evaluation.io.dataset import _hash_column

    def digest(arrow):
        h = hashlib.sha256()
        _hash_column(h, pd.Series(pd.array(arrow, dtype="str"), name="pupil_id"))
        return h.hexdigest()

    values = ["ab", "c", None, "déf", ""] * 3
    plain = pa.chunked_array([pa.array(values)])
    stored = ["x" if v is None else v for v in values]       # a missing value's bytes: any
    offsets = np.cumsum([0] + [len(v.encode()) for v in stored]).astype(np.int32)
    data = b"".join(v.encode() for v in stored) + b"spare capacity"
    held = pa.StringArray.from_buffers(len(values), pa.py_buffer(offsets.tobytes()),
                                       pa.py_buffer(data),
                                       pa.array([v is not None for v in values]).buffers()[1])
    alike = {
        "chunks": pa.chunked_array([pa.array(values[:4]), pa.array(values[4:])]),
        "a slice": pa.chunked_array([pa.array(["zz", *values, "zz"]).slice(1, len(values))]),
        "spare bytes, a missing value's bytes": pa.chunked_array([held]),
        "64-bit offsets": pa.chunked_array([pa.array(values, type=pa.large_string())]),
    }
    for what, arrow in alike.items():
        assert digest(arrow) == digest(plain), what
    assert digest(pa.chunked_array([pa.array(["ab", "c", None, "déf", "x"] * 3)])) != \
        digest(plain)
    assert digest(pa.chunked_array([pa.array(["ab", "c", "", "déf", ""] * 3)])) != \
        digest(plain)                                     # missing is not the empty string


def test_the_digest_of_columns_held_other_ways():
    """Review of issue 17: a Dataset built by hand may hold its columns in other types.
    Text in Python objects (``string[python]``) made the digest fail (an Arrow array has no
    chunks) and, keyed by the addresses of a conversion freed at once, could go stale; two
    categorical columns whose categories differ (order, unused ones: another groupby), or
    an object column holding 1 where the other holds "1", got the same digest."""
    from evaluation.synthetic import generate

    ds = generate(seed=1, include_population=False)
    held = ds.copy()
    held.pupils["sen"] = held.pupils["sen"].astype(pd.StringDtype("python"))
    before = held.digest()
    for row in range(5):                         # the same lengths, so the same sizes
        value = held.pupils["sen"].iloc[row]
        held.pupils.loc[held.pupils.index[row], "sen"] = "x" * len(value)
        after = held.digest()
        assert after != before, row
        before = after

    one, other = ds.copy(), ds.copy()
    one.pupils["ethnicity"] = one.pupils["ethnicity"].astype("category")
    other.pupils["ethnicity"] = other.pupils["ethnicity"].astype(
        pd.CategoricalDtype(list(one.pupils["ethnicity"].cat.categories)[::-1]))
    assert one.digest() != other.digest()

    one, other = ds.copy(), ds.copy()
    for d, value in ((one, 1), (other, "1")):
        d.pupils["sen"] = d.pupils["sen"].astype(object)
        d.pupils.loc[d.pupils.index[0], "sen"] = value
    assert one.digest() != other.digest()


def test_the_digest_tells_apart_objects_in_categories_and_the_index():
    """Review of 991b5d2: an object column's values are hashed with their types (1 and "1"
    differ), but a categorical column's object categories, and an object index, were still
    hashed as text: categories [1, "a"] and ["1", "a"], or an index holding 1 where the
    other holds "1", gave one digest; an index of int64 and one of uint64 too."""
    from evaluation.synthetic import generate

    ds = generate(seed=1, include_population=False)
    one, other = ds.copy(), ds.copy()
    n = len(ds.schools)
    one.schools["la"] = pd.Categorical([1] + ["a"] * (n - 1))
    other.schools["la"] = pd.Categorical(["1"] + ["a"] * (n - 1),
                                         categories=pd.Index(["1", "a"], dtype=object))
    assert one.digest() != other.digest()

    one, other = ds.copy(), ds.copy()
    one.schools.index = pd.Index([1, *range(1, n)], dtype=object)
    other.schools.index = pd.Index(["1", *range(1, n)], dtype=object)
    assert one.digest() != other.digest()

    one, other = ds.copy(), ds.copy()
    one.schools.index = pd.Index(range(n), dtype="int64")
    other.schools.index = pd.Index(range(n), dtype="uint64")
    assert one.digest() != other.digest()


def test_a_parquet_file_s_row_groups_are_read_as_one_chunk_with_the_same_values(tmp_path):
    """Issue 17: selecting rows from a text column in several chunks copied the whole column
    (pyarrow joins the chunks first). read_table gives each one chunk: the same values,
    dtypes, index and digest as the file read as it is."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from evaluation.io.dataset import _table_digest, read_table
    from evaluation.synthetic import generate

    pupils = generate(seed=2, include_population=False).pupils.head(300)
    path = tmp_path / "pupils.parquet"
    pq.write_table(pa.Table.from_pandas(pupils, preserve_index=False), path,
                   row_group_size=50)
    as_is = validate(pd.read_parquet(path), "pupils", str(path))
    assert as_is["school_id"].array.__arrow_array__().num_chunks == 6   # the file's groups
    read = read_table(path, "pupils")
    text = [c for c in read.columns if hasattr(read[c].array, "__arrow_array__")]
    assert text and all(read[c].array.__arrow_array__().num_chunks == 1 for c in text)
    pd.testing.assert_frame_equal(read, as_is)
    assert _table_digest("pupils", read) == _table_digest("pupils", as_is)
