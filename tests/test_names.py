"""How things are named to people: algorithms and the map's directions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stages.dataset import CATEGORY_NAMES
from stages import config
from stages.names import (
    ALGORITHM_NAMES, ALGORITHM_PHRASES, ALGORITHMS, CRITERION_NAMES, MOST_BUY_NONE, algorithm_name, algorithm_phrase, axis_meaning,
    counted, criteria_phrase, percent, percents, sentence_start, times, whole,
)
from stages.select_k import CRITERIA


def test_every_algorithm_has_a_prose_name_and_an_unknown_code_is_kept() -> None:
    assert set(ALGORITHM_NAMES) == set(ALGORITHMS)
    assert algorithm_name("kmeans") == "k-Means" and algorithm_name("gmm") == "Gaussian mixture"
    assert algorithm_name("dbscan") == "dbscan"


def test_a_sentence_names_every_algorithm_with_the_article_it_needs() -> None:
    """Notebook 3 read "For Gaussian mixture, the silhouette picks …" (`cluster.algorithm=gmm`)."""
    assert set(ALGORITHM_PHRASES) == set(ALGORITHMS)
    assert [algorithm_phrase(a) for a in ALGORITHMS] == ["k-Means", "agglomerative (Ward) clustering", "a Gaussian mixture"]
    assert algorithm_phrase("dbscan") == "dbscan"


@pytest.mark.parametrize(("criterion", "phrase"), [
    ("elbow", "the elbow criterion"),
    ("silhouette", "the silhouette criterion"),
    ("calinski_harabasz", "the Calinski–Harabasz criterion"),
    ("davies_bouldin", "the Davies–Bouldin criterion"),
    ("bic", "the BIC"),  # the Bayesian information criterion: "the BIC criterion" said it twice
    ("stability", "the bootstrap stability criterion"),
])
def test_a_sentence_names_every_criterion_without_saying_criterion_twice(criterion: str, phrase: str) -> None:
    """`dvc exp run -S cluster.k=auto -S select_k.criterion=bic -S cluster.algorithm=gmm`: "… the number of segments
    the BIC criterion picks"."""
    assert criteria_phrase([criterion]) == phrase


def test_the_criteria_table_covers_every_criterion_select_k_knows() -> None:
    assert set(CRITERION_NAMES) == set(CRITERIA)


@pytest.mark.parametrize(("criteria", "phrase"), [
    (["silhouette", "davies_bouldin"], "the silhouette and Davies–Bouldin criteria"),
    (["elbow", "silhouette", "bic"], "the elbow and silhouette criteria and the BIC"),
    (["bic", "stability"], "the bootstrap stability criterion and the BIC"),
])
def test_several_criteria_share_one_noun(criteria: list[str], phrase: str) -> None:
    assert criteria_phrase(criteria) == phrase


def test_no_criteria_is_an_error_and_a_sentence_starts_with_a_capital() -> None:
    with pytest.raises(ValueError, match="no criteria"):
        criteria_phrase([])
    assert sentence_start("the BIC (`select_k.criterion`)") == "The BIC (`select_k.criterion`)"


def test_an_axis_is_named_by_its_heaviest_categories_in_the_data_order() -> None:
    # Squared weights: Grocery .33, Detergents .30, Milk .30 of a total ≈ .99: three are needed to pass 75%.
    weights = {"Fresh": -0.1, "Milk": 0.54, "Grocery": 0.57, "Frozen": -0.05, "Detergents_Paper": 0.55, "Delicassen": 0.1}
    assert axis_meaning(weights) == "more milk products, groceries, detergents and paper"


def test_one_dominant_category_is_enough() -> None:
    assert axis_meaning({"Fresh": 0.95, "Milk": 0.2, "Grocery": 0.2}) == "more fresh food"


def test_categories_weighted_against_the_direction_are_named_after_less() -> None:
    assert axis_meaning({"Fresh": 0.7, "Milk": 0.05, "Grocery": -0.7}) == "more fresh food, less groceries"
    # A direction that only loses spending reads as such: the words follow the weights' signs, not a guess.
    assert axis_meaning({"Fresh": -0.9, "Milk": 0.1}) == "less fresh food"


def test_the_words_flip_with_the_direction() -> None:
    weights = {"Fresh": 0.6, "Frozen": 0.6, "Grocery": -0.5}
    flipped = {k: -v for k, v in weights.items()}
    assert axis_meaning(weights) == "more fresh food, frozen food, less groceries"
    assert axis_meaning(flipped) == "more groceries, less fresh food, frozen food"


@pytest.mark.parametrize("weights", [{}, {"Fresh": 0.0, "Milk": 0.0}])
def test_no_weights_is_an_error_not_an_empty_description(weights: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="axis_meaning"):
        axis_meaning(weights)


@pytest.mark.parametrize("category", list(CATEGORY_NAMES))
def test_every_category_is_named_in_plain_words(category: str) -> None:
    weights = {c: (0.9 if c == category else 0.1) for c in CATEGORY_NAMES}
    assert axis_meaning(weights) == "more " + CATEGORY_NAMES[category]


def test_percents_gives_the_texts_of_the_table_it_shares_with_the_staff_page() -> None:
    """tests/percents.json is also the staff page's test table (api/web/test/format.test.js): a persona's
    description words its share and channel mix as the page's cards show them."""
    table = json.loads((Path(__file__).parent / "percents.json").read_text(encoding="utf-8"))
    assert len(table["cases"]) > 200
    for case in table["cases"]:
        assert percents(case["shares"]) == case["texts"], case["shares"]


@pytest.mark.parametrize(("share", "text"), [(0.4213, "42%"), (0.425, "43%"), (0.0004, "<1%"), (0.005, "1%"),
                                             (0.994, "99%"), (0.996, ">99%"), (0, "0%"), (1, "100%")])
def test_percent_rounds_halves_up_and_keeps_a_part_short_of_none_or_all(share: float, text: str) -> None:
    assert percent(share) == text


def test_whole_gives_the_texts_of_the_table_it_shares_with_the_staff_page() -> None:
    """tests/amounts.json is also the staff page's table (api/web/test/format.test.js, ``money``): an amount in a
    persona's description or the report reads as the page shows it."""
    table = json.loads((Path(__file__).parent / "amounts.json").read_text(encoding="utf-8"))
    assert len(table["cases"]) > 200
    for value, text in table["cases"]:
        assert whole(value) == text, value


def test_times_gives_the_texts_of_the_table_it_shares_with_the_staff_page() -> None:
    """tests/ratios.json is also the staff page's table (api/web/test/format.test.js, ``times``): a ratio in a persona's
    description, ml/personas.md or the report's chart reads as the page's card and answer show it (a description
    printed "0.6704×" beside a card's "0.67×")."""
    table = json.loads((Path(__file__).parent / "ratios.json").read_text(encoding="utf-8"))
    assert len(table["cases"]) > 200
    for value, text in table["cases"]:
        assert times(value) == text, value


@pytest.mark.parametrize(("ratio", "text"), [(0.6704, "0.67×"), (1.4999, "1.50×"), (1.005, "1.01×"), (0.675, "0.68×"),
                                             (0.004999, "<0.01×"), (0, "0.00×"), (1234.5, "1,234.50×")])
def test_times_prints_two_decimals_rounding_a_half_of_the_stored_text_up(ratio: float, text: str) -> None:
    """1.005 is stored as 1.00499999…: Python's format prints '1.00', the page's Intl.NumberFormat '1.01' (it rounds
    the shortest decimal text, the one JSON stores); both sides print '1.01×'."""
    assert times(ratio) == text


@pytest.mark.parametrize(("value", "text"), [(816.5, "817"), (274.5, "275"), (2.5, "3"), (0.49999999999999994, "0"),
                                             (999_999.5, "1,000,000"), (16674.2, "16,674"), (440, "440")])
def test_whole_rounds_a_half_away_from_zero_not_to_even(value: float, text: str) -> None:
    """Python's format rounds a half to even (816.5 → '816'), while spreadsheets and the page's Intl.NumberFormat
    round it up; a segment's median spend is often a half (the median of an even number of whole amounts)."""
    assert whole(value) == text


def test_counted_words_none_one_and_many() -> None:
    """The data page read '1 groups of duplicate rows' and the Methods page 'this file has 0.'"""
    assert [counted(n, "group", "groups") for n in (0, 1, 2, 1234)] == ["no groups", "1 group", "2 groups", "1,234 groups"]


def test_the_page_says_most_customers_buy_none_in_the_pipelines_words() -> None:
    """The staff page's table and answer say of such a category what the descriptions and the report say."""
    page = (config.ROOT / "api" / "web" / "src" / "format.js").read_text(encoding="utf-8")
    assert f'export const MOST_BUY_NONE = "{MOST_BUY_NONE}";' in page
