"""How the reports and the staff page name things to people: the algorithms, the criteria, the map's directions and the
clustering space.

Light on purpose (no scikit-learn, no pandas): the API imports it at start-up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

from stages.choices import ALGORITHMS  # noqa: F401  (defined there; the reports import it from here too)
from stages.dataset import CATEGORY_NAMES

#: How the reports and the staff page name each algorithm in prose.
ALGORITHM_NAMES = {"kmeans": "k-Means", "agglomerative": "agglomerative (Ward)", "gmm": "Gaussian mixture"}

#: How the reports name each criterion of select_k.criterion in prose (:func:`criteria_phrase` puts them in sentences).
CRITERION_NAMES = {
    "elbow": "elbow",
    "silhouette": "silhouette",
    "calinski_harabasz": "Calinski–Harabasz",
    "davies_bouldin": "Davies–Bouldin",
    "bic": "BIC",
    "stability": "bootstrap stability",
}
#: Criteria whose name already says "criterion" (BIC: the Bayesian information criterion), so a sentence does not add
#: the word ("the BIC criterion" says it twice).
CRITERION_IN_NAME = frozenset({"bic"})

#: A map direction is described by its heaviest categories, taken until they hold this share of its squared weights.
AXIS_WEIGHT_SHARE = 0.75


def algorithm_name(algorithm: str) -> str:
    """The prose name of an algorithm code (``kmeans`` → ``k-Means``); an unknown code is returned as it is."""
    return ALGORITHM_NAMES.get(algorithm, algorithm)


#: How a sentence names an algorithm as the noun it is, article included: "The served model is a Gaussian mixture with
#: 3 segments", "For agglomerative (Ward) clustering, the silhouette picks …" (the bare names read "is Gaussian mixture").
ALGORITHM_PHRASES = {"kmeans": "k-Means", "agglomerative": "agglomerative (Ward) clustering", "gmm": "a Gaussian mixture"}


def algorithm_phrase(algorithm: str) -> str:
    """An algorithm code as a sentence names it (``gmm`` → ``a Gaussian mixture``); an unknown code is kept."""
    return ALGORITHM_PHRASES.get(algorithm, algorithm)


def criterion_name(criterion: str) -> str:
    """The prose name of a criterion code (``davies_bouldin`` → ``Davies–Bouldin``); an unknown code is kept."""
    return CRITERION_NAMES.get(criterion, criterion)


def criteria_phrase(criteria: Sequence[str]) -> str:
    """Criterion codes as a sentence names them, article included: 'the silhouette criterion', 'the BIC' (not 'the BIC
    criterion'), 'the silhouette and Davies–Bouldin criteria and the BIC'. The verb after it agrees with
    ``len(criteria)``."""
    if not criteria:
        raise ValueError("criteria_phrase: no criteria")
    plain = [criterion_name(c) for c in criteria if c not in CRITERION_IN_NAME]
    noun = "criterion" if len(plain) == 1 else "criteria"
    parts = [f"the {words_list(plain)} {noun}"] if plain else []
    return words_list(parts + [f"the {criterion_name(c)}" for c in criteria if c in CRITERION_IN_NAME])


def sentence_start(text: str) -> str:
    """``text`` with its first letter capitalised and the rest kept ('the BIC' → 'The BIC'; ``str.capitalize`` would
    lower the rest)."""
    return text[:1].upper() + text[1:]


def _words(names: list[str]) -> str:
    return ", ".join(names)


def axis_meaning(weights: Mapping[str, float]) -> str:
    """What moving along one map direction means, in words, from its weight on each category (a principal component).

    The heaviest categories are named, in the order ``weights`` lists them, until their squared weights reach
    :data:`AXIS_WEIGHT_SHARE` of the total: ``{"Milk": 0.54, "Grocery": 0.57, "Fresh": -0.1, …}`` →
    ``"more milk products, groceries"``. The words read the direction the way its weights point (a principal
    component's sign is arbitrary, so a map drawn from the same weights reads the same way); categories weighted
    against it are named after ``less``: ``"more fresh food, less groceries"``. Weights are over the transformed,
    scaled spending, so the words say which way a customer's mix moves, not by how much.
    """
    if not weights:
        raise ValueError("axis_meaning: no category weights")
    total = sum(w * w for w in weights.values())
    if not total > 0:
        raise ValueError("axis_meaning: every category weight is zero")
    ranked = sorted(weights.items(), key=lambda kv: (-abs(kv[1]), kv[0]))
    chosen: list[tuple[str, float]] = []  # by weight
    held = 0.0
    for name, w in ranked:
        chosen.append((name, w))
        held += w * w
        if held >= AXIS_WEIGHT_SHARE * total:
            break
    chosen_names = {n for n, _ in chosen}
    in_order = [(n, w) for n, w in weights.items() if n in chosen_names]  # the data's column order reads best
    more = [CATEGORY_NAMES.get(n, n) for n, w in in_order if w > 0]
    less = [CATEGORY_NAMES.get(n, n) for n, w in in_order if w < 0]
    return ", ".join(part for part in (more and "more " + _words(more), less and "less " + _words(less)) if part)


def pca_use(n_components: int, n_features: int) -> str:
    """What the clustering space is (``features.pca.n_components``), for the features notebook and the report."""
    if n_components == 0:
        every = "both" if n_features == 2 else f"all {n_features}"  # as prepared above: with or without transform, scaler
        return f"{every} categories as prepared above, not principal components (`features.pca.n_components: 0`)"
    first = "the first principal component" if n_components == 1 else f"the first {n_components} principal components"
    return f"{first} (`features.pca.n_components: {n_components}`)"


#: What is said of a category whose median over the whole base is under 1 (``stages.personas.most_buy_none``), where a
#: segment's ratio to the base would be its median amount: the persona descriptions, the report's tables and charts
#: and the staff page (``api/web/src/format.js``) say this and the segment's median instead of the ratio.
MOST_BUY_NONE = "most customers buy none"


def rounded(value: float) -> int:
    """``value`` to a whole number, a half away from zero (816.5 → 817), as :func:`whole` writes it."""
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def whole(value: float) -> str:
    """A count or an amount in whole units with thousands separators, a half rounded away from zero as spreadsheets
    and the staff page (``Intl.NumberFormat``, ``money`` in ``api/web/src/format.js``) round it: 16674.2 → '16,674',
    816.5 → '817' (Python's own formatting rounds a half to even: '816'). ``tests/amounts.json`` holds the cases
    both sides share."""
    return f"{rounded(value):,}"


def ratio_shown(ratio: float) -> float:
    """A ratio to two decimals, as people read it: its shortest decimal text (``repr``, what JSON stores) with a half
    rounded up, as the staff page's ``Intl.NumberFormat`` rounds it (1.005 → 1.01, 0.6749 → 0.67; Python's own
    formatting rounds the float's binary value, 1.00499999… → '1.00'). The figure :func:`times` prints and the one a
    persona's level and lean are decided on (``stages.personas.level_of``)."""
    return float(Decimal(repr(float(ratio))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def times(ratio: float) -> str:
    """A ratio for people, two decimals and "×" (0.6704 → '0.67×', 1234.5 → '1,234.50×'); one above 0 that would
    print as 0 reads '<0.01×'. The one formatter of ratios to the typical customer in the descriptions, tables and
    charts; the staff page's ``times`` (``api/web/src/format.js``) is the same rule, both tested on
    ``tests/ratios.json``."""
    shown = ratio_shown(ratio)
    return "<0.01×" if shown == 0 < ratio else f"{shown:,.2f}×"


def counted(n: int, one: str, many: str) -> str:
    """A count with its noun: 'no groups', '1 group', '1,234 groups'."""
    return f"no {many}" if n == 0 else f"1 {one}" if n == 1 else f"{n:,} {many}"


def words_list(items: Sequence[str]) -> str:
    """Items as a list in words: 'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _percent_text(share: float, points: int) -> str:
    """A share rounded to ``points`` percent; strictly between 0 and 1 it never reads "0%" or "100%"."""
    if points <= 0 < share:
        return "<1%"
    if points >= 100 and share < 1:
        return ">99%"
    return f"{points:,}%"


def percent(share: float) -> str:
    """A share as whole percent, halves rounded up: 0.4213 → '42%', 0.0004 → '<1%', 0.9996 → '>99%'."""
    return _percent_text(share, math.floor(share * 100 + 0.5))


def percents(shares: Sequence[float]) -> list[str]:
    """The parts of one whole (shares that add up to 1) as percents that add up to 100: each share rounded down or up,
    the points left over going to the largest remainders (ties: the larger share, then the earlier one). Rounding each
    on its own can show 63% + 27% + 11% = 101%. Shares that do not add up to 1 (within the half point that storing
    them to four decimals can cost) are rounded one by one.

    The staff page's ``percents`` (api/web/src/format.js) is the same rule; tests/percents.json holds the
    cases both are tested on, so a persona's description, the report and the page show the same figures.
    """
    if not shares or abs(sum(shares) - 1) > 0.005:
        return [percent(s) for s in shares]
    points = [math.floor(s * 100) for s in shares]
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] * 100 - points[i]), -shares[i], i))
    for i in order[: 100 - sum(points)]:
        points[i] += 1
    return [_percent_text(s, p) for s, p in zip(shares, points, strict=True)]
