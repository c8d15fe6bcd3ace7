"""Stage personas: turn each segment into a named, described customer type with actions for sales staff."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from stages.dataset import CATEGORY_NAMES, LABEL_CODES
from stages.prepare import label_counts
from stages.names import MOST_BUY_NONE, counted, percents, ratio_shown, rounded, times, whole, words_list
from stages.params import check_section

#: What a sales rep can do when a segment buys a lot of a category, said for any customer: the text for a segment
#: whose customers are of both channels (no channel reaches ``personas.dominant_channel``, :func:`dominant_channel`).
HIGH_ACTIONS = {
    "Fresh": "Offer a standing weekly order for fresh produce with early-morning delivery slots, before kitchens start or shops open.",
    "Milk": "Propose a dairy supply contract with fixed prices for the year.",
    "Grocery": "Offer volume discounts on groceries and pallet deliveries to restock shelves and storerooms.",
    "Frozen": "Bundle frozen food with fresh produce in one delivery to cut their ordering effort.",
    "Detergents_Paper": "Sell cleaning and paper supplies on a replenishment subscription.",
    "Delicassen": "Introduce premium delicatessen lines with tasting samples on the next visit.",
}

#: The actions that fit one channel's customers, for a segment that channel dominates (:func:`high_action`): a
#: kitchen's delivery slot is not a shop's. Every other category's action fits both.
CHANNEL_ACTIONS = {
    ("Fresh", "Horeca"): "Offer a standing weekly order for fresh produce with early-morning delivery slots suited to kitchens.",
    ("Fresh", "Retail"): "Offer a standing weekly order for fresh produce delivered before opening hours, so their shelves are full when the doors open.",
    ("Grocery", "Horeca"): "Offer volume discounts on groceries with a fixed delivery day to keep their storerooms stocked.",
    ("Grocery", "Retail"): "Offer volume discounts on groceries and pallet deliveries to restock shelves.",
}


def high_action(category: str, channel: str | None) -> str:
    """The action for a segment that buys a lot of ``category``, worded for ``channel`` when that channel dominates
    the segment (:func:`dominant_channel`), for both channels when ``None``."""
    return CHANNEL_ACTIONS.get((category, channel or ""), HIGH_ACTIONS[category])


def dominant_channel(channel_mix: Mapping[str, float], dominant: float) -> str | None:
    """The channel that has at least ``dominant`` (``personas.dominant_channel``) of a segment's customers, which its
    name ends with and its actions are worded for; ``None`` when no channel has that share."""
    if not channel_mix:
        return None
    channel, share = max(channel_mix.items(), key=lambda kv: (kv[1], kv[0]))
    return channel if share >= dominant else None


#: A category as the first words of a name ("… buyers", "… focus"): a noun before a noun, as English writes it
#: ("grocery buyers", not "groceries buyers").
NAME_WORDS = {
    "Fresh": "fresh food",
    "Milk": "milk product",
    "Grocery": "grocery",
    "Frozen": "frozen food",
    "Detergents_Paper": "detergent and paper",
    "Delicassen": "delicatessen",
}


def name_list(words: list[str]) -> str:
    """Categories in a name, "fresh food & frozen food"; one that is two things is listed as two, so a name reads
    "detergent, paper & grocery buyers", not "detergent and paper & grocery buyers"."""
    parts = [part for w in words for part in w.split(" and ")]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " & " + parts[-1]


#: The floor of :func:`relative_profile`'s medians, as in the log transform: a median under it counts as it.
FLOOR = 1.0


#: The decimals a ratio to the base is kept to, as ``ml/personas.json`` stores it: the names, levels and texts are
#: derived from the stored figure, so the staff page, which formats the stored one, prints what the description does.
RATIO_DECIMALS = 4


def relative_profile(members: pd.DataFrame, base: pd.DataFrame, features: list[str]) -> dict[str, float]:
    """Median spend of the segment per category divided by the median of the whole base, to :data:`RATIO_DECIMALS`.
    A median under 1 counts as 1, the floor the log transform uses: a category most customers do not buy at all (base
    median 0) compares by what a segment spends in it, never divides by zero, and every ratio is positive
    (``contrast`` divides by them)."""
    return {c: round(float(max(members[c].median(), FLOOR) / max(base[c].median(), FLOOR)), RATIO_DECIMALS) for c in features}


def most_buy_none(base: pd.DataFrame, features: list[str]) -> list[str]:
    """The categories whose median over the whole base is under :data:`FLOOR`: most customers buy none of them (spend
    under 1 a year), so a segment's ratio there is its own median against 1, an amount and not a comparison with the
    typical customer. Descriptions, tables, charts and the staff page show the segment's median amount instead."""
    return [c for c in features if base[c].median() < FLOOR]


def buyers_median(base: pd.DataFrame, none: list[str]) -> dict[str, float]:
    """Per category most customers buy none of (``none``, :func:`most_buy_none`), the median spend of the customers who
    buy it (at least :data:`FLOOR` a year): what a typical buyer spends there, against which :func:`level_of` holds a
    segment's median (:data:`FLOOR` when no customer buys it, where no segment's median reaches the floor)."""
    bought = {c: base.loc[base[c] >= FLOOR, c] for c in none}
    return {c: float(spend.median()) if len(spend) else FLOOR for c, spend in bought.items()}


def against_base(category: str, ratio: float, median: float, none: Collection[str], of_whom: str = "") -> str:
    """How a segment's spending in a category compares with the base, as a description puts it in brackets: the ratio
    (:func:`stages.names.times`, then ``of_whom``: " the typical customer" for the first one a sentence shows), or, in a category
    most customers buy none of (``none``), the segment's median amount: "a median of 854 a year, where most customers
    buy none"."""
    if category in none:
        return f"a median of {whole(median)} a year, where {MOST_BUY_NONE}"
    return times(ratio) + of_whom


def level_of(ratio: float, high: float, low: float, buyers: float | None = None) -> str:
    """``high``, ``low`` or ``typical`` for a ratio to the base median, decided on the figure people read
    (:func:`stages.names.ratio_shown`, two decimals): 0.6704 prints "0.67×" and is low at ``low`` 0.67, so no printed
    ratio contradicts its level ("little", "much more") or the thresholds in ``params.yaml``.

    In a category most customers buy none of, ``ratio`` is the segment's median amount (counted as at least
    :data:`FLOOR`) and ``buyers`` what the customers who buy it spend (:func:`buyers_median`): high only when that
    median is substantial, at least ``high`` a year and more than ``low`` times the buyers' median (the segment's
    typical customer buys it as a buyer does, not a trickle of 2 a year against buyers' 900), else typical; never low,
    as the typical customer buys none."""
    shown = ratio_shown(ratio)
    if buyers is not None:
        return "high" if shown >= high and ratio_shown(ratio / buyers) > low else "typical"
    return "high" if shown >= high else "low" if shown <= low else "typical"


def levels_of(profile: dict[str, float], high: float, low: float, none: Mapping[str, float] | None = None) -> dict[str, str]:
    """Each category's level (:func:`level_of`), the one place a persona's levels are decided: those most customers buy
    none of (``none``, each with its :func:`buyers_median`) held against what their buyers spend."""
    buyers = none or {}
    return {c: level_of(r, high, low, buyers.get(c)) for c, r in profile.items()}


def mix(values: pd.Series, label: str) -> dict[str, float]:
    """Share of each label value (by name, every code the data set defines: :func:`stages.prepare.label_counts`)
    within a segment."""
    counts = label_counts(values, label)
    total = sum(counts.values())
    return {name: round(n / total, 4) if total else 0.0 for name, n in counts.items()}


def medoid_index(S: NDArray[np.float64]) -> int:
    """Index of the member with the smallest total distance to the other members."""
    diff = S[:, None, :] - S[None, :, :]
    return int(np.argmin(np.sqrt((diff**2).sum(axis=2)).sum(axis=1)))


def by_ratio(categories: Iterable[str], score: dict[str, float], profile: dict[str, float], none: Collection[str] = ()) -> list[str]:
    """``categories`` most first, the one order for every ranking a name or an action makes: those compared with the
    typical customer by ``score`` (their ratio to the base, or their lead over the other segments, :func:`contrast`),
    largest first, then those most customers buy none of (``none``, :func:`most_buy_none`) by the segment's median
    there (``profile``, its amount, the base's median counting as :data:`FLOOR`), never by a ratio against that floor:
    a median of 854 is not "854× the typical customer", and cannot outrank a real 1.79×."""
    return sorted(categories, key=lambda c: (c in none, -(profile[c] if c in none else score[c]), c))


def leaning(profile: dict[str, float], none: Collection[str] = ()) -> list[str]:
    """The (at most two) categories the segment buys more of than the base median, largest ratio first; more as
    printed (:func:`stages.names.ratio_shown`): 1.004 reads "1.00×", no more than the typical customer. Never one most
    customers buy none of (``none``): a median of 1.3 there is not "where they spend most against the typical
    customer", who buys none."""
    return [c for c in by_ratio(profile, profile, profile) if c not in none and ratio_shown(profile[c]) > 1.0][:2]


def lean_bar(high: float) -> float:
    """The least ratio to the base a name calls a "focus" and a description a lean: halfway from the typical customer
    (1) to ``high`` on the log scale, √high as printed (1.22× at 1.5), so it is nearer to "much more" than to typical."""
    return ratio_shown(math.sqrt(high))


def named_leans(profile: dict[str, float], high: float, none: Collection[str] = ()) -> list[str]:
    """The categories of :func:`leaning` at :func:`lean_bar` or more: those a name's "… focus" and a description's
    "leans to" name (a lead of 1.07× is no focus)."""
    return [c for c in leaning(profile, none) if ratio_shown(profile[c]) >= lean_bar(high)]


#: A segment high in this many categories or more, but not in all, is named "Large buyers" (:func:`persona_name`).
LARGE = 4


def persona_name(profile: dict[str, float], channel_mix: dict[str, float], high: float, low: float, dominant: float,
                 others: list[dict[str, float]] | None = None, none: Mapping[str, float] | None = None,
                 size: float | None = None) -> str:
    """A short name from what sets the segment apart, plus its channel when one dominates.

    Every category high: "Large all-round buyers"; four or more: "Large buyers, standing out in …" (the high
    categories it buys more of than all the ``others``, their profiles, at most two, :func:`standing_out`; plain
    "Large buyers" when there are none: "Large buyers of all but fresh food" read as if it bought little fresh food,
    at 1.36× the base); one to three: the (at most two) highest, "… buyers".
    With none high, the name says where the segment's spending leans, without calling it a big buyer of anything
    ("… focus": the categories at :func:`lean_bar` or more, at most two, :func:`named_leans`). None that far above
    it: low in at least one category, "Small accounts" when its median spends add up to at most ``low`` times the
    typical customer's (``size``, :func:`account_size`, as printed; unknown counts as small), else "Accounts light on
    …" (the one or two categories it buys least of, as the cross-sell action takes them); low in none, "Typical
    accounts". (A segment typical in five categories and low only in frozen food, 85% of the typical customer's
    spending, was "Small accounts", beside a smaller segment named for what it buys.)
    Categories most customers buy none of (``none``, each with its :func:`buyers_median`: :func:`levels_of`) are
    ranked after the others, by amount (:func:`by_ratio`).
    The two names about the whole account, "Large all-round buyers" and "Small accounts", need a profile of every
    category (:func:`whole_account`): under ``data.features=[Fresh,Frozen,Delicassen]`` a segment high in the three
    was "Large all-round buyers" and one low in two "Small accounts", of spending the segments were not measured on.
    """
    none = none or {}
    levels = levels_of(profile, high, low, none)
    highs = by_ratio((c for c in profile if levels[c] == "high"), profile, profile, none)
    above = named_leans(profile, high, none)
    every_category = whole_account(profile)
    if len(highs) == len(profile) and every_category:
        core = "Large all-round buyers"
    elif len(highs) >= LARGE:
        apart = large_standouts(profile, highs, others or [], high, none)
        core = "Large buyers, standing out in " + name_list([CATEGORY_NAMES[c] for c in apart]) if apart else "Large buyers"
    elif highs:
        core = (name_list([NAME_WORDS[c] for c in highs[:2]]) + " buyers").capitalize()
    elif above:
        core = (name_list([NAME_WORDS[c] for c in above]) + " focus").capitalize()
    elif "low" in levels.values():
        small = every_category and (size is None or ratio_shown(size) <= low)
        core = "Small accounts" if small else "Accounts light on " + name_list([CATEGORY_NAMES[c] for c in lowest(profile, levels, none)])
    else:
        core = "Typical accounts"
    channel = dominant_channel(channel_mix, dominant)
    return f"{core} ({channel})" if channel else core


def categories_text(categories: list[str]) -> str:
    """Categories as a sentence lists them, one whose name holds "and" last, after "as well as" ("groceries as well as
    detergents and paper", not "groceries and detergents and paper")."""
    plain = [CATEGORY_NAMES[c] for c in categories if " and " not in CATEGORY_NAMES[c]]
    joined = [CATEGORY_NAMES[c] for c in categories if " and " in CATEGORY_NAMES[c]]
    return " as well as ".join(text for text in (words_list(plain) if plain else "", *joined) if text)


def whole_account(profile: Mapping[str, float]) -> bool:
    """Whether ``profile`` covers every spending category, so that a name or a sum can speak of the whole account
    (``data.features`` may name fewer)."""
    return set(CATEGORY_NAMES) <= set(profile)


def lowest(profile: dict[str, float], levels: Mapping[str, str], none: Collection[str] = ()) -> list[str]:
    """The (at most two) categories of a low level, lowest ratio first: those a cross-sell action offers and an
    "Accounts light on …" name names."""
    return [c for c in reversed(by_ratio(profile, profile, profile, none)) if levels[c] == "low"][:2]


def account_size(centre: Mapping[str, float], base_centre: Mapping[str, float]) -> float:
    """A segment's median spends added up, against the typical customer's (the base's medians added up), each as the
    descriptions print them (:func:`median_total`)."""
    return median_total(centre) / max(median_total(base_centre), 1)


def large_standouts(profile: dict[str, float], highs: list[str], others: list[dict[str, float]], high: float,
                    none: Collection[str] = ()) -> list[str]:
    """The categories a "Large buyers, standing out in …" name names (:func:`standing_out`, by a lead of at least
    :func:`lean_bar` of ``high``), and its description explains: none unless ``highs`` are :data:`LARGE` or more but
    not every category."""
    return standing_out(profile, highs, others, none, lean_bar(high)) if LARGE <= len(highs) < len(profile) else []


def standing_out(profile: dict[str, float], highs: list[str], others: list[dict[str, float]], none: Collection[str] = (),
                 bar: float = 1.0) -> list[str]:
    """The (at most two) of ``highs`` the segment buys more of than every one of the ``others`` (their profiles), by a
    lead (:func:`contrast`) of ``bar`` or more as printed, the largest lead first, those most customers buy none of
    (``none``) last (:func:`by_ratio`): a segment does not stand out in a category another segment buys more of, nor
    in one where it leads by a few percent ("standing out in groceries (1.03× the next highest segment)")."""
    apart = contrast(profile, others)
    return by_ratio((c for c in highs if apart[c] > 1.0 and ratio_shown(apart[c]) >= bar), apart, profile, none)[:2]


def contrast(profile: dict[str, float], others: list[dict[str, float]]) -> dict[str, float]:
    """How far the segment's ratio to the base passes the highest of the other segments', per category (> 1: it
    buys more of it than every other segment). With no other segments, the ratio to the base itself."""
    return {c: r / max(o[c] for o in others) if others else r for c, r in profile.items()}


#: The categories whose :data:`CATEGORY_NAMES` are plural ("milk products", "groceries", "detergents and paper"):
#: a pronoun for one of them is "them", not "it".
PLURAL_NAMES = {"Milk", "Grocery", "Detergents_Paper"}


def pronoun(categories: list[str]) -> str:
    """The pronoun for (one or two) categories: "it" for one singular category ("fresh food"), "them" for a plural one
    ("milk products") or two."""
    return "them" if len(categories) > 1 or categories[0] in PLURAL_NAMES else "it"


def cross_sell_action(lows: list[str]) -> str:
    """The action for the (one or two) categories a segment buys little of (:func:`pronoun`), joined by "as well as"
    ("detergents and paper and milk products" read as three)."""
    names = " as well as ".join(CATEGORY_NAMES[c] for c in lows)  # "and" is inside names: "detergents and paper"
    return f"Cross-sell {names}: they buy little of {pronoun(lows)} from us, so a first-order discount can win that spend."


def persona_actions(profile: dict[str, float], high: float, low: float, others: list[dict[str, float]] | None = None,
                    max_actions: int = 3, none: Mapping[str, float] | None = None, channel: str | None = None) -> list[str]:
    """Two or three concrete next steps for sales staff, from the segment's highs and lows, worded for ``channel``
    when one dominates the segment (:func:`dominant_channel`, :func:`high_action`), for both channels when ``None``.

    The high categories are taken in the order the name takes them (:func:`persona_name`): for a segment high in four
    or more, what sets it apart from the ``others`` (their profiles), so two segments that both buy a lot of groceries,
    say, are not given the same first steps when one of them also stands out elsewhere; for a segment high in one to
    three, its highest ratios, the "… buyers" of its name (under `-S personas.high=2.5 -S cluster.k=6`, "Detergent,
    paper & grocery buyers", the segment that bought the most detergents and paper of all, were offered a dairy
    contract and grocery discounts, since another segment bought nearly as much detergents and paper).
    With fewer than two, the category it leans to most is protected only when it spends more there than the typical
    customer (:func:`leaning`, above 1.00×: the action claims only that it is where they spend most against the
    typical customer, true at any lead, not a "focus", so not :func:`lean_bar`), and only when no action above is
    already about it (a segment high in groceries alone was offered volume discounts on groceries, then a loyalty
    price to protect its grocery spend); then come a review of its order history and, for a segment below or at the
    typical customer everywhere, growing the category where it comes closest to the typical customer. A category
    most customers buy none of (``none``, each with its :func:`buyers_median`: :func:`levels_of`) is ranked by amount
    after the others (:func:`by_ratio`), and is never the one protected or grown "against the typical customer", who
    buys none of it.
    """
    none = none or {}
    levels = levels_of(profile, high, low, none)
    ranked = by_ratio(profile, profile, profile, none)
    high_ones = [c for c in profile if levels[c] == "high"]
    highs = by_ratio(high_ones, contrast(profile, others or []) if len(high_ones) >= LARGE else profile, profile, none)
    actions = [high_action(c, channel) for c in highs[:2]]
    lows = lowest(profile, levels, none)
    if lows:
        actions.append(cross_sell_action(lows))
    above = leaning(profile, none)[:1]
    if above and above[0] in highs[:2]:  # an action above is already about it; the next one is not where they spend most
        above = []
    if len(actions) < 2 and above:
        actions.append(f"Protect their {NAME_WORDS[above[0]]} spend, the category where they spend most against the typical customer, with a loyalty price.")
    if len(actions) < 2:
        actions.append("Review their order history at the next visit and offer the categories they buy elsewhere.")
    closest = [c for c in ranked if c not in none]
    if len(actions) < 2 and closest:
        actions.append(f"Grow their {NAME_WORDS[closest[0]]} spend, the category where they come closest to the typical customer, with a volume discount on larger orders.")
    return actions[:max_actions]


def describe(size: int, share: str, profile: dict[str, float], centre: dict[str, float], channel_mix: dict[str, float], high: float, low: float,
             none: Mapping[str, float] | None = None, others: list[dict[str, float]] | None = None) -> str:
    """One paragraph a sales rep can read: what the segment buys, how much, through which channel. ``share`` is the
    segment's share of the base as words ('49%', '<1%'): :func:`build` rounds the shares of all the segments together
    by :func:`stages.names.percents`, as the report and the staff page show them. In the categories most customers
    buy none of (``none``, :func:`most_buy_none`, each with its :func:`buyers_median`: :func:`levels_of`) it says the
    segment's median amount, never a ratio (:func:`against_base`). Where the name says "standing out in" (against
    the ``others``, their profiles: :func:`large_standouts`), it says so and by how much."""
    none = none or {}
    levels = levels_of(profile, high, low, none)
    highs = [c for c in profile if levels[c] == "high"]
    lows = [c for c in profile if levels[c] == "low"]
    parts = [f"{counted(size, 'customer', 'customers')} ({share} of the base)."]
    if highs:  # the first ratio says what it is of; the rest read the same
        first = next((c for c in highs if c not in none), None)
        parts.append("They buy much more " + words_list([f"{CATEGORY_NAMES[c]} ({against_base(c, profile[c], centre[c], none, ' the typical customer' if c == first else '')})"
                                                      for c in highs]) + ".")
    if lows:  # never one of ``none``: its ratio is at least 1
        parts.append("They spend little on " + words_list([f"{CATEGORY_NAMES[c]} ({times(profile[c])})" for c in lows]) + ".")
    apart = large_standouts(profile, highs, others or [], high, none)
    if apart:  # what the name's "standing out in" is measured against: not the typical customer, the other segments
        lead = contrast(profile, others or [])
        # two segments in all: "the next highest" and "any other" of one other segment read oddly (k = 2, agglomerative)
        other = "the other segment" if len(others or []) == 1 else None
        parts.append("They stand out in " + words_list([f"{CATEGORY_NAMES[c]} ({times(lead[c])}{' ' + (other or 'the next highest segment') if i == 0 else ''})"
                                                     for i, c in enumerate(apart)]) + f": they buy more of {pronoun(apart)} than {other or 'any other segment'}.")
    leans = named_leans(profile, high, none)
    if not highs and leans:
        parts.append("Their spending leans to " + " and ".join(f"{CATEGORY_NAMES[c]} ({against_base(c, profile[c], centre[c], none)})" for c in leans)
                     + ", without being high in any category.")
    elif not highs and not lows:
        # "measured" when data.features names fewer than all (`[Grocery,Detergents_Paper]` said "in every category")
        parts.append(f"Their spending is close to the typical customer in every category{'' if whole_account(profile) else ' measured'}.")
    # the sum of the medians as the table and the page's card print them, so that a reader adding them up gets it;
    # of the categories measured when data.features names fewer than all (not the whole account, then): "on every
    # category but frozen food", "on fresh food, frozen food and delicatessen"
    left_out = [c for c in CATEGORY_NAMES if c not in profile]
    measured = ("" if not left_out else f" on every category but {CATEGORY_NAMES[left_out[0]]}" if len(left_out) == 1
                else " on " + categories_text(list(profile)))
    parts.append(f"Their median spends{measured} add up to about {whole(median_total(centre))} a year.")
    parts.append("Channel: " + ", ".join(f"{name} {text}" for name, text in zip(channel_mix, percents(list(channel_mix.values())), strict=True)) + ".")
    return " ".join(parts)


def median_total(centre: Mapping[str, float]) -> int:
    """A segment's median spends added up as the table and the page's card print them (each a whole number), so that a
    reader adding them up gets it: what a description says and "bigger spenders" compares."""
    return sum(rounded(v) for v in centre.values())


def check_params(params: dict[str, Any]) -> None:
    """Reject thresholds that would mislabel segments, naming the key (a ``ValueError``): 0 < low < 1 < high, and a
    dominant channel share above one half and at most 1. The rules are :class:`stages.params.Personas`, which
    ``python -m stages.run_notebook`` checks before the first stage runs; this applies them to a section passed by
    hand."""
    check_section("personas", params)


def build_personas(
    customers: pd.DataFrame,
    segments: NDArray[np.int64],
    S: NDArray[np.float64],
    features: list[str],
    params: dict[str, Any],
) -> list[dict[str, Any]]:
    """One persona per segment, from the customers (money units), their segments and their space. Pass every customer
    with the segment the model gives it (those set aside before fitting included, as in ``ml/assignments.csv``), so
    sizes, shares and the base medians are of the whole base and match the assignments."""
    check_params(params)
    high, low, dominant = float(params["high"]), float(params["low"]), float(params["dominant_channel"])
    personas = []
    n = len(customers)
    ids = range(int(segments.max()) + 1)
    profiles = [relative_profile(customers.loc[segments == seg], customers, features) for seg in ids]
    none = most_buy_none(customers, features)
    buyers = buyers_median(customers, none)  # computed once, over the whole base, for every segment's levels
    base_centre = {c: float(customers[c].median()) for c in features}
    shares = [round(float((segments == seg).sum() / n), 4) for seg in ids]  # as stored, so the page rounds the same
    share_texts = percents(shares)
    for seg in ids:
        in_seg = segments == seg
        members = customers.loc[in_seg]
        profile = profiles[seg]
        centre = {c: float(members[c].median()) for c in features}
        channel_mix = mix(members["Channel"], "Channel")
        region_mix = mix(members["Region"], "Region")
        typical = members.iloc[medoid_index(S[in_seg])]
        others = [o for j, o in enumerate(profiles) if j != seg]
        personas.append(
            {
                "id": seg,
                "name": persona_name(profile, channel_mix, high, low, dominant, others, buyers, account_size(centre, base_centre)),
                "description": describe(int(in_seg.sum()), share_texts[seg], profile, centre, channel_mix, high, low, buyers, others),
                "size": int(in_seg.sum()),
                "share": shares[seg],
                "centre": {c: round(v, 2) for c, v in centre.items()},
                "profile": dict(profile),
                "levels": levels_of(profile, high, low, buyers),
                "most_buy_none": none,
                "channel_mix": channel_mix,
                "region_mix": region_mix,
                "typical_customer": {"row": int(typical["row"]), **{c: float(typical[c]) for c in features}},
                "actions": persona_actions(profile, high, low, others, none=buyers, channel=dominant_channel(channel_mix, dominant)),
            }
        )
    return distinct_names(personas, high)


def name_channel(name: str) -> tuple[str, str]:
    """A persona's name as its core and the channel it ends with (:func:`persona_name`), '' when it names none:
    "Small accounts (Horeca)" → ("Small accounts", "Horeca")."""
    for channel in LABEL_CODES["Channel"].values():
        if name.endswith(f" ({channel})"):
            return name[: -len(channel) - 3], channel
    return name, ""


def _name_key(name: str) -> str:
    """A name's core words in any order (:func:`name_channel`): "Frozen food & fresh food buyers" and "Fresh food &
    frozen food buyers" match, and so do "Detergent, paper & grocery buyers" and "Grocery, detergent & paper buyers"."""
    core, _ = name_channel(name)
    return " ".join(sorted(core.lower().replace("&", " ").replace(",", " ").split()))


def told_apart_by_channel(names: list[str]) -> bool:
    """Whether names of one core (:func:`_name_key`) each end with a channel of their own: "Small accounts (Horeca)"
    and "Small accounts (Retail)" are two groups to staff, while "Detergent, paper & grocery buyers (Retail)" beside
    "Detergent, paper & grocery buyers" reads as one group and a part of it, and two "(Horeca)" as the same."""
    channels = [name_channel(n)[1] for n in names]
    return all(channels) and len(set(channels)) == len(channels)


def named_categories(name: str) -> set[str]:
    """The categories a persona's name already names: "Milk product buyers (Horeca)" names Milk, and "Large buyers,
    standing out in detergents, paper & groceries" names Detergents_Paper and Grocery."""
    lower = name.lower()
    return {c for c in CATEGORY_NAMES if any(part in lower for words in (NAME_WORDS[c], CATEGORY_NAMES[c]) for part in words.split(" and "))}


def twin_qualifiers(twins: list[dict[str, Any]], high: float) -> list[tuple[str, str]]:
    """What sets each of two or more personas with the same name apart from the others, as a short phrase and as the
    sentence its description adds, which names the twins and the figure the phrase rests on (for a category, the ratio
    of the medians, :data:`FLOOR` at least, that the tables print).

    "more <category>" for the category its name does not already name where it buys most against its twins, when
    that is at least ``high`` times what each of them buys (:func:`contrast`) and it is not a category the persona
    buys little of (its level low: "Small accounts – more fresh food" read beside "They spend little on fresh food
    (0.61×)"); else "bigger spenders" or "smaller
    spenders" when its median spends add up to the most or the least of the twins; else "segment <id>". The phrases
    differ: only one twin can buy more of a category than all the others. A category most customers buy none of
    (``most_buy_none``) counts only where the persona's level is high, after the others (:func:`by_ratio`): a median of
    2 a year against a twin's none is no "more frozen food" to sell on. The totals compared are those the
    descriptions print (:func:`median_total`).
    """
    named = named_categories(twins[0]["name"])
    totals = [median_total(p["centre"]) for p in twins]
    medians = [{c: max(v, FLOOR) for c, v in p["centre"].items()} for p in twins]  # the figure a reader checks in the tables
    qualified = []
    for i, p in enumerate(twins):
        apart = contrast(p["profile"], [o["profile"] for j, o in enumerate(twins) if j != i])
        none = set(p.get("most_buy_none", ()))
        leads = by_ratio((c for c in apart if c not in named and apart[c] >= high and p["levels"][c] != "low"
                          and (c not in none or p["levels"][c] == "high")), apart, p["profile"], none)
        rest = totals[:i] + totals[i + 1:]
        ids = [o["id"] for j, o in enumerate(twins) if j != i]
        alike = f"{'segment' if len(ids) == 1 else 'segments'} {words_list([str(j) for j in ids])}, named alike"
        spends = f"(about {words_list([whole(t) for t in rest])} a year)"
        if leads:
            of_whom = "its median" if len(ids) == 1 else "the highest of their medians"
            lead = contrast(medians[i], medians[:i] + medians[i + 1:])[leads[0]]
            qualified.append((f"more {CATEGORY_NAMES[leads[0]]}", f"They buy more {CATEGORY_NAMES[leads[0]]} than {alike} ({times(lead)} {of_whom})."))
        elif totals[i] > max(rest):
            qualified.append(("bigger spenders", f"Their median spends add up to more than those of {alike} {spends}."))
        elif totals[i] < min(rest):
            qualified.append(("smaller spenders", f"Their median spends add up to less than those of {alike} {spends}."))
        else:
            qualified.append((f"segment {p['id']}", f"Their name ends in the segment number: against {alike}, they buy no further category {times(high)} "
                                                    "as much or more, and their median spends add up to neither the most nor the least."))
    return qualified


def distinct_names(personas: list[dict[str, Any]], high: float) -> list[dict[str, Any]]:
    """Names staff can tell apart: personas whose names are the same, or the same words in another order, or the same
    but for a channel only some of them end with (:func:`told_apart_by_channel`), get " – " and what sets each apart
    from the others, which their descriptions end by saying (:func:`twin_qualifiers`); every other persona stays as
    it is."""
    twins: dict[str, list[dict[str, Any]]] = {}
    for p in personas:
        twins.setdefault(_name_key(p["name"]), []).append(p)
    for group in twins.values():
        if len(group) > 1 and not told_apart_by_channel([p["name"] for p in group]):
            for p, (phrase, why) in zip(group, twin_qualifiers(group, high), strict=True):
                p["name"] = f"{p['name']} – {phrase}"
                p["description"] = f"{p['description']} {why}"
    return personas


def personas_markdown(personas: list[dict[str, Any]], features: list[str]) -> str:
    """``ml/personas.md``: the personas as a short document for people."""
    lines = ["# Customer personas", ""]
    for p in personas:
        lines += [f"## Segment {p['id']}: {p['name']}", "", p["description"], ""]
        lines += ["| category | median spend | vs. whole base |", "| --- | ---: | ---: |"]
        none = p.get("most_buy_none", [])
        lines += [f"| {c} | {whole(p['centre'][c])} | {MOST_BUY_NONE if c in none else times(p['profile'][c])} |" for c in features]
        lines += ["", "What to do:", ""] + [f"- {a}" for a in p["actions"]] + [""]
    return "\n".join(lines)
