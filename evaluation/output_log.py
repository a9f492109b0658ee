"""The output checker's log of a report, in ACRO's format (``results.json`` plus one CSV per table).

The log is for the output checker and is never released: it is written outside the reports'
folder (:func:`evaluation.checker_folder.checker_dir`: the project's ``checker/``).

ACRO (the SACRO project's output-checking package) writes, at ``acro.finalise(path, "json")``,
a ``results.json`` holding ``version``, ``tool`` and ``results``: one record per output with
``uid``, ``status``, ``type``, ``properties``, ``files`` (each with its ``sdc`` summary and
failing cells), ``outcome`` (per column, per row: ``"ok"`` or the failing checks),
``command``, ``summary``, ``timestamp``, ``comments``, ``exception`` and ``fair``. Each report
build writes the same, so that a checker can review it with the tools they already use:
every table the report shows (cells named as ACRO names its checks, plus
``SecondarySuppression`` for cells hidden to protect others; ``NKCheck`` and
``PPercentCheck`` for means whose pupils' values were passed), every outcome model
(``MinimumDoFCheck`` on its residual degrees of freedom), and every text block and figure
that prints a number (the flow diagram, the summary page, notes, captions and alt texts), as
ACRO's ``custom`` outputs: each count of pupils it prints is checked against the threshold
(``MinimumThresholdCheck``) and each statement that every pupil of a group shares a value
fails ``ClassDisclosureCheck``; a figure's file holds the data it draws. The per-table CSV
files hold the table as shown, suppressed cells as the marker: the log never holds a
suppressed value.

The renderer asks for the log by naming its folder in the environment variable
``EM_OUTPUT_LOG`` while the report's notebook runs
(:func:`evaluation.checker_folder.requested`);
:func:`write_requested` is called where the report's sections are displayed.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from evaluation.checker_folder import ENV
from evaluation.disclosure import SafeTable
from evaluation.provenance import evaluated_at
from evaluation.sdc_rules import Rules, dof_check

#: ACRO's format this log follows (``results.json`` of ``acro.finalise``).
ACRO_FORMAT = "1.0.2"
TOOL = {"@type": "SoftwareApplication", "name": "evaluation (ACRO rules)",
        "url": "https://github.com/AI-SDC/ACRO", "version": ACRO_FORMAT}
_CONTEXT = "https://w3id.org/statbarnsdc#"



def write_requested(res, sections) -> Path | None:
    """Write the log where ``EM_OUTPUT_LOG`` says, if it says; return the file written."""
    where = os.environ.get(ENV)
    return write(where, res, sections) if where else None


def _table_record(uid: str, table: SafeTable, section, now: str) -> tuple[dict, pd.DataFrame]:
    checks = table.checks if table.checks is not None else \
        table.hidden.replace({True: "SecondarySuppression; ", False: "ok"})
    checks = checks.copy()
    checks.columns = list(table.frame.columns)
    checks.index = [str(i) for i in range(len(checks))]
    names = ("PresenceOfZeroCheck", "NKCheck", "PPercentCheck", "MinimumThresholdCheck",
             "SecondarySuppression")
    cells = {k: [] for k in names}
    hidden = table.hidden.to_numpy()
    shown_zeros = 0
    for i, row in enumerate(checks.itertuples(index=False)):
        for j, text in enumerate(row):
            for k in names:
                if f"{k};" in text:
                    cells[k].append([i, j])
            if "PresenceOfZeroCheck" in text and not hidden[i, j]:
                shown_zeros += 1
    counts = {k: len(v) for k, v in cells.items()}
    status = "fail" if any(counts.values()) else "pass"
    n_hidden = int(hidden.sum())
    summary = "".join(
        f"{k}: {'fail' if counts[k] else 'pass'} - {counts[k]} cells may need suppressing.\n"
        for k in names) + f"Suppressed: {n_hidden} cells; zeros shown: {shown_zeros}.\n"
    exception = ""
    if shown_zeros:
        exception = (f"{shown_zeros} cell(s) showing or resting on a zero count: analysis.yml sets "
                     "disclosure.zeros_are_disclosive to false (zeros in these tables are "
                     "fixed by the design, e.g. no unmatched pupils under exact matching, or "
                     "published by the Department, e.g. a school with no disadvantaged pupils, "
                     "which its published share already shows).")
    record = {
        "uid": uid, "status": status, "type": "table",
        "properties": {"method": "suppress", "mitigation": "suppress",
                       "section": section.title, "suppressed_cells": n_hidden},
        "files": [{"name": f"{uid}.csv", "sdc": {"summary": counts, "cells": cells}}],
        "outcome": checks.to_dict(),
        "command": f"evaluation.disclosure.suppress: section {section.title!r} "
                   f"(#{section.anchor})",
        "summary": summary, "timestamp": now,
        "comments": [c for c in (table.caption, table.footnote) if c],
        "exception": exception,
        "fair": {"context": _CONTEXT, "statbarn": "Frequencies",
                 "risks": ["ClassDisclosure", "Differencing", "LowCount"],
                 "checks_needed": list(names), "common_mitigations": ["Suppression"],
                 "check_status": {k: "fail" if counts[k] else "pass" for k in names}},
    }
    return record, table.frame


#: A count of pupils (or respondents, units, classes) in running text: the threshold applies.
TEXT_COUNT = re.compile(r"(?<!fewer than )(?<![\d.,])(\d{1,3}(?:,\d{3})*|\d+) (?:of [\d,]+ )?"
                        r"(?:(?:EM|FSM|"
                        r"non-FSM|comparison|treated|control|unmatched|matched|more|other) )*"
                        r"(?:pupils?|units?|respondents?)\b")
#: A statement that every member of a group shares a value (attribute disclosure).
ATTRIBUTE = re.compile(r"\b(?:every|all|none of the|no) [^.]*?(?:pupils?|units?)[^.]*? "
                       r"(?:ha(?:s|ve) the (?:same )?value|(?:is|are) (?:FSM|eligible))", re.I)
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
#: The checks of a text or figure: counts of pupils in it, and attribute statements.
TEXT_CHECKS = ("MinimumThresholdCheck", "ClassDisclosureCheck")


def visible_text(part) -> str:
    """Return the text a reader sees of a part (tags removed; a chart: caption and alt text).

    Examples
    --------
    >>> visible_text("<b>x</b> & 3 pupils")
    '<b>x</b> & 3 pupils'
    >>> from evaluation.report.display import Notice
    >>> visible_text(Notice("12 pupils & 4 schools"))
    '12 pupils & 4 schools'
    """
    if isinstance(part, str):
        return part                               # shown escaped, as it is
    if hasattr(part, "caption") and hasattr(part, "alt"):
        return f"{part.caption} {part.alt}"
    markup = part._repr_html_() if hasattr(part, "_repr_html_") else str(part)
    markup = re.sub(r"(?s)<svg.*?</svg>", " ", markup)
    markup = re.sub(r'aria-label="([^"]*)"', r"> \1 <", markup)   # read aloud: published
    text = html.unescape(re.sub(r"<[^>]+>", " ", markup))
    return re.sub(r"\s+", " ", text).strip()


def _text_record(uid: str, kind: str, part, text: str, section, rules: Rules, now: str
                 ) -> tuple[dict, pd.DataFrame]:
    """Return the record of a text block or figure, and its file.

    The threshold on every count of pupils it prints, and the attribute check (ACRO's
    ``custom`` output, checked rather than left to review).
    """
    counts = [(m.group(0), int(m.group(1).replace(",", ""))) for m in TEXT_COUNT.finditer(text)]
    outcome = {"count": {}}
    cells = {k: [] for k in TEXT_CHECKS}
    for i, (_, n) in enumerate(counts):
        small = 0 < n < rules.safe_threshold
        outcome["count"][str(i)] = "MinimumThresholdCheck; " if small else "ok"
        if small:
            cells["MinimumThresholdCheck"].append([i, 0])
    attributes = [m.group(0) for m in ATTRIBUTE.finditer(text)]
    cells["ClassDisclosureCheck"] = [[i, 0] for i in range(len(attributes))]
    n_fail = {k: len(v) for k, v in cells.items()}
    omitted = int(getattr(part, "omitted", 0) or 0)
    status = "fail" if any(n_fail.values()) else "pass"
    summary = (f"MinimumThresholdCheck: {'fail' if n_fail['MinimumThresholdCheck'] else 'pass'}"
               f" - {len(counts)} count(s) of pupils in the text, "
               f"{n_fail['MinimumThresholdCheck']} below {rules.safe_threshold}.\n"
               f"ClassDisclosureCheck: {'fail' if attributes else 'pass'} - "
               f"{len(attributes)} statement(s) that every pupil of a group shares a value.\n")
    if kind == "figure":
        summary += (f"Marks left out because they rest on fewer than {rules.safe_threshold} "
                    f"pupils: {omitted}; the marks drawn are those of the table beside it.\n")
    numbers = NUMBER.findall(text)
    summary += (f"Numbers published: {len(numbers)} ({len(counts)} counts of pupils; the others "
                "are statistics of the tables and models logged here, years or labels).\n")
    frame = part.marks() if kind == "figure" and hasattr(part, "marks") else \
        pd.DataFrame({"text": [text]})
    record = {
        "uid": uid, "status": status, "type": "custom",
        "properties": {"method": kind, "mitigation": "withheld counts in words",
                       "section": section.title, "suppressed_cells": omitted,
                       "text": text, "counts": [p for p, _ in counts],
                       "numbers": numbers},
        "files": [{"name": f"{uid}.csv", "sdc": {"summary": n_fail, "cells": cells}}],
        "outcome": outcome,
        "command": f"evaluation.report: {kind} in section {section.title!r} "
                   f"(#{section.anchor})",
        "summary": summary, "timestamp": now, "comments": attributes, "exception": "",
        "fair": {"context": _CONTEXT, "statbarn": "Text" if kind == "text" else "Figure",
                 "risks": ["ClassDisclosure", "Differencing", "LowCount"],
                 "checks_needed": list(TEXT_CHECKS), "common_mitigations": ["Suppression"],
                 "check_status": {k: "fail" if n_fail[k] else "pass" for k in TEXT_CHECKS}},
    }
    return record, frame


#: How the log names each kind of model, and the command that fitted it.
_METHODS = {"glm": "evaluation.models: weighted GLM",
            "mixedlm": "evaluation.multilevel: linear mixed model (random school intercept)",
            "gee": "evaluation.multilevel: GEE, exchangeable within school"}


def _models(res):
    """Every model a report rests on: (uid, phase, name, method, df_resid, dof withheld).

    The main impact models of each phase (their degrees of freedom shown where the report
    shows the model's pupils: the impact table decides, by the report's own call); and,
    their degrees of freedom withheld, the models behind the other estimates a report shows:
    each other matching specification and the multilevel model (sensitivity), the headline
    model within each activity, each cluster's models (the overall report's heterogeneity
    section) and the design-value report's models of both designs. Their pupils are counted
    in tables that hide some of them, or in other reports, so the number would give a count
    back.
    """
    for phase, pr in sorted(getattr(res, "phases", {}).items()):
        impact = getattr(pr, "impact", None)
        if impact is None:
            continue
        # here: the index's log has no model, and importing the sections costs it 1 s
        from evaluation.report.impact import impact_tables

        table = impact.table()
        shown = impact_tables(res, table, phase)[0]
        hidden = shown.hidden[["EM pupils", "Comparison pupils"]].any(axis=1).to_numpy()
        counts_hidden = dict(zip(table["outcome"], hidden, strict=True))
        for kind, fits in (("outcome", impact.outcomes), ("fsm_gap", impact.gaps)):
            for name, fit in fits.items():
                yield (f"model-{phase}-{kind}-{name}", phase, name, "glm",
                       fit.glm.df_resid, bool(counts_hidden.get(name, True)))
        main = res.plan.main_spec()["name"]
        sens = getattr(pr, "sensitivity", None)
        for r in ([] if sens is None else sens.to_dict("records")):
            if r["specification"] != main and pd.notna(r.get("df_resid")):
                yield (f"model-{phase}-sensitivity-{r['specification']}-{r['outcome']}",
                       phase, f"{r['outcome']} ({r['label']})", r["method"], r["df_resid"],
                       True)
        acts = getattr(pr, "by_activity", None)
        for i, r in enumerate([] if acts is None else acts.to_dict("records"), 1):
            if pd.notna(r["df_resid"]):
                yield (f"model-{phase}-activity{i}-{r['outcome']}", phase,
                       f"{r['outcome']} ({r['group']})", "glm", r["df_resid"], True)
    for i, (cluster, cres) in enumerate(sorted(getattr(res, "clusters", {}).items()), 1):
        for phase, pr in sorted(cres.phases.items()):
            impact = getattr(pr, "impact", None)
            for name, fit in (impact.outcomes.items() if impact is not None else ()):
                yield (f"model-cluster{i}-{phase}-outcome-{name}", phase,
                       f"{name} ({cluster})", "glm", fit.glm.df_resid, True)
    table = getattr(res, "table", None)
    if isinstance(table, pd.DataFrame) and "df_resid" in table:     # the design-value report
        for r in table.to_dict("records"):
            if pd.notna(r["df_resid"]):
                yield (f"model-{r['scenario']}-{r['phase']}-outcome-{r['outcome']}",
                       r["phase"], f"{r['outcome']} ({r['design']})", "glm", r["df_resid"],
                       True)


def _model_record(uid: str, phase: str, name: str, method: str, df_resid: float,
                  withheld: bool, rules: Rules, now: str) -> dict:
    """Return ACRO's record of a model, its degrees of freedom withheld where need be.

    The residual degrees of freedom are ``None`` where ``withheld``: pupils minus model
    terms would give a hidden count back.

    Examples
    --------
    >>> rec = _model_record("m", "primary", "ks2", "glm", 3.0, True, Rules(), "now")
    >>> rec["status"], rec["properties"]["dof"], rec["summary"][:30]
    ('fail', None, 'MinimumDoFCheck: fail dof < 10')
    """
    status, summary = dof_check(df_resid, rules)
    dof = int(df_resid)
    if withheld:
        summary = (f"MinimumDoFCheck: {status} dof {'>=' if status == 'pass' else '<'} "
                   f"{rules.safe_dof_threshold} (the number is withheld with the model's "
                   "pupil counts)")
        dof = None
    return {
        "uid": uid, "status": status, "type": "regression",
        "properties": {"method": method, "dof": dof, "phase": phase,
                       "outcome": name},
        "files": [], "outcome": {},
        "command": f"{_METHODS[method]} of {name} ({phase})",
        "summary": summary, "timestamp": now, "comments": [], "exception": "",
        "fair": {"context": _CONTEXT, "statbarn": "CorrelationCoefficients",
                 "risks": ["LowDOF"], "checks_needed": ["MinimumDoFCheck"],
                 "common_mitigations": ["Suppression"],
                 "check_status": {"MinimumDoFCheck": status}},
    }


def build(res, sections) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Return the log of one report (as ``results.json`` holds it) and its tables as shown.

    Parameters
    ----------
    res : EvaluationResult or another result with ``plan``
        The report's results (its models are listed; its plan gives the rules).
    sections : list of Section
        What the report shows.

    Returns
    -------
    (dict, dict)
        The log, and each table's shown frame by uid.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.disclosure import suppress
    >>> from evaluation.report.display import Section
    >>> t = suppress(pd.DataFrame({"n": [3, 40]}), {"n": "n"})
    >>> log, files = build(None, [Section("Profile", "profile", [t])])
    >>> log["results"]["profile-1"]["outcome"]["n"]
    {'0': 'MinimumThresholdCheck; ', '1': 'ok'}
    >>> log, _ = build(None, [Section("Flow", "flow", ["Analysed: 7 EM pupils."])])
    >>> log["results"]["flow-text-1"]["status"], log["results"]["flow-text-1"]["outcome"]
    ('fail', {'count': {'0': 'MinimumThresholdCheck; '}})
    """
    now = evaluated_at().isoformat()
    results, files = {}, {}
    plan = getattr(res, "plan", None)
    rules = Rules.from_plan(plan) if plan is not None else Rules()
    for section in sections:
        k = {"table": 0, "text": 0, "figure": 0}
        for part in getattr(section, "parts", []):
            if isinstance(part, SafeTable):
                k["table"] += 1
                uid = f"{section.anchor}-{k['table']}"
                results[uid], files[uid] = _table_record(uid, part, section, now)
                continue
            text = visible_text(part)
            if not re.search(r"\d", text):         # no number: nothing to check
                continue
            kind = "figure" if hasattr(part, "caption") and hasattr(part, "alt") else "text"
            k[kind] += 1
            uid = f"{section.anchor}-{kind}-{k[kind]}"
            results[uid], files[uid] = _text_record(uid, kind, part, text, section, rules, now)
    for uid, phase, name, method, df_resid, withheld in _models(res):
        results[uid] = _model_record(uid, phase, name, method, df_resid, withheld, rules, now)
    for rec in results.values():
        rec["properties"]["rules"] = dict(vars(rules))
    log = {"version": ACRO_FORMAT, "tool": dict(TOOL), "results": results}
    return log, files


#: What a spreadsheet reads as a formula at the start of a cell (OWASP's CSV injection list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with text that a spreadsheet would run as a formula made inert.

    The checker opens these files in a spreadsheet: a cluster named ``=HYPERLINK(...)`` would
    be a live formula there. Such text gets a leading apostrophe (shown as text, OWASP's
    advice); numbers, negative ones included, and all other text are written as they are.

    Examples
    --------
    >>> spreadsheet_safe(pd.DataFrame({"a": ["=HYPERLINK(1)", "-3.5", "-", "ok", 2]}))["a"].tolist()
    ["'=HYPERLINK(1)", '-3.5', "'-", 'ok', 2]
    """
    def safe(v):
        if not isinstance(v, str) or not v.startswith(_FORMULA_START):
            return v
        try:
            float(v.replace(",", ""))
            return v                       # a number, e.g. a negative gap
        except ValueError:
            return "'" + v
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe)
    out.columns = [safe(str(c)) for c in out.columns]
    return out


def write(folder: str | Path, res, sections) -> Path:
    """Write ``results.json`` and one CSV per table into ``folder``; return the JSON's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.csv"):
        old.unlink()
    log, files = build(res, sections)
    for uid, frame in files.items():
        spreadsheet_safe(frame).to_csv(folder / f"{uid}.csv", index=False)
    path = folder / "results.json"
    path.write_text(json.dumps(log, indent=1, default=str) + "\n", encoding="utf-8")
    return path


def checks_failed(log: dict) -> Counter:
    """Cells of the log's tables by rule (``MinimumThresholdCheck``, ...), for summaries.

    Examples
    --------
    >>> checks_failed({"results": {}})
    Counter()
    """
    out = Counter()
    for rec in log["results"].values():
        for f in rec["files"]:
            out.update(f["sdc"].get("summary", {}))
    return out
