"""NPD-style pupil extracts: a YAML mapping from NPD field names to the `pupils` table."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.exceptions import DataError
from evaluation.io.dataset import read_csv_text
from evaluation.schema import TABLES, describe_rows, validate
from evaluation.yaml_file import read_yaml

_COLUMNS = {c.name: c for c in TABLES["pupils"]}
_MAPPING_KEYS = {"name", "phase", "description", "constants", "fields", "ignore"}
_FIELD_KEYS = {"from", "values", "transform"}


def _academic_year_end(s: pd.Series) -> pd.Series:
    """'2009/2010', '2009/10', '2009-10', '200910' or '2010' -> 2010; anything else -> NaN.

    Examples
    --------
    >>> _academic_year_end(pd.Series(["2009/2010", "2009/10", "200910", "2010", "2010.6"])
    ...                    ).tolist()
    [2010.0, 2010.0, 2010.0, 2010.0, nan]
    """
    text = s.astype("string").str.strip()
    pair = text.str.extract(r"^(\d{4})\s*[/-]?\s*(\d{2}|\d{4})$")
    start = pd.to_numeric(pair[0]).astype("float64")
    end = pd.to_numeric(pair[1]).astype("float64")
    end = end.where(pair[1].str.len() == 4, np.floor(start / 100) * 100 + end)
    end = end.where(end == start + 1)  # an academic year ends the year after it starts
    single = text.str.fullmatch(r"\d{4}").fillna(False).astype(bool)
    return end.where(~single, pd.to_numeric(text.where(single)).astype("float64"))


#: Registered conversions a mapping can name in `transform`.
TRANSFORMS = {"academic_year_end": _academic_year_end}


def load_mapping(mapping: str | Path | dict) -> dict:
    """Load and check a mapping: a packaged name (``"ks2"``, ``"ks4"``), a YAML path or a dict.

    Parameters
    ----------
    mapping : str, pathlib.Path or dict
        ``"ks2"`` / ``"ks4"`` for the examples in ``evaluation/io/mappings/``, or a file.

    Returns
    -------
    dict
        The mapping, with every target checked against the ``pupils`` schema.

    Raises
    ------
    DataError
        Unknown keys, targets that are not schema columns, or unknown transforms (listing the
        allowed ones).

    Examples
    --------
    >>> sorted(load_mapping("ks4")["fields"])[:3]
    ['cohort', 'eal', 'ethnicity']
    """
    label = str(mapping)
    if isinstance(mapping, dict):
        raw, label = mapping, "<mapping dict>"
    elif Path(str(mapping)).suffix in (".yml", ".yaml"):
        raw = read_yaml(Path(mapping).read_text(encoding="utf-8"), label)
    else:
        files = resources.files("evaluation.io").joinpath("mappings")
        names = sorted(p.name.removesuffix(".yml") for p in files.iterdir()
                       if p.name.endswith(".yml"))
        if mapping not in names:
            raise DataError(f"`mapping` should be a YAML file or one of {names}; got {mapping!r}")
        raw = read_yaml(files.joinpath(f"{mapping}.yml").read_text(encoding="utf-8"),
                        f"{mapping}.yml")
    if not isinstance(raw, dict):
        raise DataError(f"{label}: expected a mapping with keys among {sorted(_MAPPING_KEYS)} "
                        f"(`fields`: target column -> its NPD columns); found "
                        f"{'nothing' if raw is None else 'a ' + type(raw).__name__}")
    bad = sorted(set(raw) - _MAPPING_KEYS)
    targets = set(raw.get("fields", {})) | set(raw.get("constants", {}))
    unknown = sorted(targets - set(_COLUMNS))
    problems = [f"unknown keys {bad} (allowed: {sorted(_MAPPING_KEYS)})"] if bad else []
    if unknown:
        problems.append(f"targets {unknown} are not columns of the pupils table "
                        f"(allowed: {list(_COLUMNS)})")
    for target, spec in raw.get("fields", {}).items():
        if not spec.get("from") or set(spec) - _FIELD_KEYS:
            problems.append(f"field {target!r} needs a `from` list and only keys "
                            f"{sorted(_FIELD_KEYS)}; got {sorted(spec)}")
        if spec.get("transform") and spec["transform"] not in TRANSFORMS:
            problems.append(f"field {target!r}: transform should be one of {sorted(TRANSFORMS)}; "
                            f"got {spec['transform']!r}")
    if problems:
        raise DataError(f"{label}: invalid NPD mapping: " + "; ".join(problems))
    return raw


def _convert(raw: pd.Series, target: str, spec: dict, field: str, source: str) -> pd.Series:
    text = raw.astype("string").str.strip()
    blank = text.isna() | (text == "")
    if "values" in spec:
        table = {str(k): v for k, v in spec["values"].items()}
        bad = ~blank & ~text.isin(list(table))
        if bad.any():
            raise DataError(f"{source}: column {field!r} (-> {target}) has values "
                            f"{sorted(set(text[bad]))[:10]} in "
                            f"{describe_rows(np.flatnonzero(bad), len(text))} not in the "
                            f"mapping; allowed: {sorted(table)} or blank")
        return text.map(table, na_action="ignore").where(~blank, None)
    if "transform" in spec:
        out = TRANSFORMS[spec["transform"]](text.where(~blank))
        bad = ~blank & out.isna()
        if bad.any():
            raise DataError(f"{source}: column {field!r} (-> {target}) has values "
                            f"{sorted(set(text[bad]))[:10]} in "
                            f"{describe_rows(np.flatnonzero(bad), len(text))} that "
                            f"{spec['transform']} cannot read; expected e.g. 2009/2010, "
                            "2009/10, 200910 or 2010")
        return out
    if _COLUMNS[target].dtype in ("float64", "int64"):
        nums = pd.to_numeric(text.where(~blank), errors="coerce")
        bad = ~blank & nums.isna()
        if bad.any():
            raise DataError(f"{source}: column {field!r} (-> {target}) has non-numeric values "
                            f"{sorted(set(text[bad]))[:10]} in "
                            f"{describe_rows(np.flatnonzero(bad), len(text))}; expected numbers "
                            "(a point for decimals) or blank")
        return nums
    return text.where(~blank)


def read_npd_extract(path: str | Path, mapping: str | Path | dict, extra: str = "error"
                     ) -> pd.DataFrame:
    """Read an NPD-style pupil extract (CSV) and map it to the validated ``pupils`` table.

    Parameters
    ----------
    path : str or pathlib.Path
        The extract (CSV with NPD field names in the header).
    mapping : str, pathlib.Path or dict
        ``"ks2"``, ``"ks4"`` (packaged examples) or a YAML mapping file (see
        ``evaluation/io/mappings/ks4.yml`` for the documented format).
    extra : {"error", "ignore"}
        What to do with extract fields the mapping neither maps nor lists under ``ignore``.

    Returns
    -------
    pandas.DataFrame
        The ``pupils`` table, validated by :func:`evaluation.schema.validate`; schema columns
        the mapping does not provide are added as missing (the schema must allow it).

    Raises
    ------
    DataError
        Missing fields (listing, per target, the NPD fields expected), unknown fields, unmapped
        values (naming column, rows and allowed values), or a schema failure.

    Examples
    --------
    >>> read_npd_extract("nope.csv", "ks4")
    Traceback (most recent call last):
    ...
    evaluation.exceptions.DataError: nope.csv: file not found
    """
    if extra not in ("error", "ignore"):
        raise ValueError(f"`extra` should be one of ['error', 'ignore']; got {extra!r}")
    spec = load_mapping(mapping)
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    fields = spec.get("fields", {})
    names = {f for s in fields.values() for f in s["from"]} | set(spec.get("ignore", []))
    data = read_csv_text(path, names)
    chosen = {t: next((f for f in s["from"] if f in data.columns), None) for t, s in fields.items()}
    missing = {t: fields[t]["from"] for t, f in chosen.items() if f is None}
    if missing:
        raise DataError(f"{path}: NPD fields missing for {sorted(missing)}; expected one of: "
                        + "; ".join(f"{t} <- {v}" for t, v in missing.items())
                        + f". Found fields: {list(data.columns)}")
    used = set(chosen.values()) | set(spec.get("ignore", []))
    unknown = [c for c in data.columns if c not in used]
    if unknown and extra == "error":
        raise DataError(f"{path}: fields {unknown} are not in mapping {spec.get('name', '')!r}; "
                        f"expected only {sorted(used)} (list others under `ignore`, or pass "
                        "extra='ignore')")
    out = pd.DataFrame(index=data.index)
    for target in _COLUMNS:
        if target in chosen:
            out[target] = _convert(data[chosen[target]], target, fields[target],
                                   chosen[target], str(path))
        elif target in spec.get("constants", {}):
            out[target] = spec["constants"][target]
        else:
            out[target] = np.nan
    return validate(out, "pupils", source=str(path))
