"""Every sentence describing how pupils were compared follows the plan's main specification
(hostile review of issue 13): with a 2:1 nearest-neighbour match with replacement and a caliper
as the main analysis, the findings, the flow, the matching section and the impact table still
described the Manchester design ("every EM pupil is compared with the non-EM pupils of the same
school and year group ... weighted so that each school and year counts as much as its EM
pupils"), the summary counted the unmatched pupils as analysed, and the matching section said
"Balance statistics rest on fewer than 5 pupils in one group" beside 183 EM pupils whose count
was withheld."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from plans import NN2, caliper_plan

from evaluation.report import sections
from evaluation.report.comparison import describe_spec
from evaluation.results import evaluate

pytestmark = pytest.mark.xdist_group("caliper_plan")

#: The Manchester design's words, true only when the main match is exact on school and year.
MANCHESTER = ("each school and year counts as much", "each school and year group counts as much",
              "Every EM pupil is compared with", "exact-matching weights")


def _visible(page: str) -> str:
    page = re.sub(r"<svg\b.*?</svg>", " ", page, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture(scope="module")
def plan5(tmp_path_factory):
    """The project's plan with the reviewer's 2:1 caliper match first, threshold 5."""
    return caliper_plan(tmp_path_factory.mktemp("plan"))


@pytest.fixture(scope="module")
def overall(default_data, plan5):
    return evaluate(default_data, plan5, seed=7)


@pytest.fixture(scope="module")
def cluster(default_data, plan5):
    return evaluate(default_data, plan5, cluster="Secondary phase 1", seed=7)


def test_the_words_describe_the_spec_they_are_given(plan):
    manchester = describe_spec(plan.main_spec(), plan)
    assert manchester.weights == ("weighted so that each school and year group counts as much "
                                  "as its EM pupils")
    assert manchester.matching.startswith("Every EM pupil is compared with all the non-EM")
    nn = describe_spec(NN2, plan)
    for words in ("up to 2 non-EM pupils", "propensity score", "0.1 standard deviations",
                  "left out of the analysis", "with replacement"):
        assert words in nn.matching
    assert "several EM pupils counting for each" in nn.weights
    assert nn.within == "in the same school and year group"
    one = describe_spec({"name": "one", "method": "nearest", "distance": "mahalanobis",
                         "covariates": ["prior", "fsm"]}, plan)
    assert (one.weights, one.within) == ("", "")
    assert "Mahalanobis distance" in one.matching


def test_every_section_describes_the_main_spec_not_the_manchester_design(cluster, overall):
    shown = 0
    for res in (cluster, overall):
        page = _visible("".join(s._repr_html_() for s in sections(res, res.scope)))
        for words in MANCHESTER:
            assert words not in page, words
        nn = describe_spec(res.plan.main_spec(), res.plan)
        # the findings and the matching section say how pupils were matched, and the weights
        assert page.count(nn.matching) >= 2
        assert nn.weights in page
        # the analysed pupils are the matched ones (phase 1: 161 EM in the sample, 148
        # matched), never the sample's; one of the two reports may withhold them (183 = 161
        # + 22 overall, with phase 2's hidden: which one the optimiser picks is its own)
        pe = res.phases["secondary"]
        em, comp = (int(pe.match.counts.loc["Matched", c]) for c in ("Treated", "Control"))
        assert em < pe.sample.n_em and comp < pe.sample.n_comparison
        assert f"Pupils analysed: {pe.sample.n_em:,} EM" not in page
        if f"Pupils analysed: {em:,} EM pupils and {comp:,} comparison pupils" in page:
            assert f"{em:,} EM pupils in" in page
            assert f"compared with {comp:,} comparison pupils" in page
            shown += 1
        else:
            assert "Pupils analysed: a withheld number of EM pupils" in page
    assert shown == 1


def test_a_withheld_count_is_not_called_fewer_than_the_threshold(overall):
    from evaluation.report.matching import matched_comparison

    pe = overall.phases["secondary"]
    t = overall.plan.threshold
    assert min(pe.sample.n_em, pe.sample.n_comparison) >= t      # 183 EM pupils, withheld
    page = _visible("".join(s._repr_html_() for s in sections(overall, "overall")))
    assert "Balance statistics rest on fewer than" not in page
    text = _visible(matched_comparison(overall)._repr_html_())
    assert "Balance between the groups is not shown: it rests on a withheld number" in text
    for words in MANCHESTER:
        assert words not in page, words


def test_the_overall_report_says_why_its_clusters_matched_pupils_do_not_add_up(overall,
                                                                              cluster):
    """Under the caliper the overall report's 20 unmatched secondary EM pupils are not its
    clusters' unmatched pupils added up (each report matches its own pupils: the caliper's
    width follows them); the overall report says so, a cluster's report has nothing to add
    up."""
    from evaluation.report.matching import matched_comparison

    unmatched = overall.phases["secondary"].match.counts.loc["Unmatched", "Treated"]
    by_cluster = sum(c.phases["secondary"].match.counts.loc["Unmatched", "Treated"]
                     for c in overall.clusters.values() if "secondary" in c.phases
                     and c.phases["secondary"].estimable)
    assert unmatched != by_cluster
    words = "need not add up to the ones here"
    assert words in _visible(matched_comparison(overall)._repr_html_())
    assert words not in _visible(matched_comparison(cluster)._repr_html_())
