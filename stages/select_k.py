"""Stage select_k: sweep the number of segments for every algorithm and let each criterion pick k."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from numpy.typing import NDArray
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score, silhouette_score

from stages.algorithms import bootstrap_stability, fit_predictor
from stages.choices import ALGORITHMS, CRITERIA, FEWEST_SEGMENTS, check_criterion, check_k_range, check_served
from stages.names import criteria_phrase, pca_use, percent, sentence_start, words_list
from stages.params import check_section

#: Smallest difference in adjusted Rand index with Channel that :func:`channel_note` reads as a difference: a
#: smaller one (0.46 against 0.45, say) is too small to argue for either k. A convention of this project, not a test.
CHANNEL_ARI_GAP = 0.05

#: Kaufman & Rousseeuw's reading of the average silhouette (Finding Groups in Data, 1990), lower bounds.
SILHOUETTE_BANDS = ((0.71, "strong"), (0.51, "reasonable"), (0.26, "weak"), (float("-inf"), "no substantial"))


def reading(bands: tuple[tuple[float, str], ...], value: float) -> str:
    """The words of the band ``value`` falls in (:data:`SILHOUETTE_BANDS`, :data:`AGREEMENT_READINGS`, …), bands
    given by their lowest value, highest band first."""
    return next(words for bound, words in bands if value >= bound)


def silhouette_strength(silhouette: float) -> str:
    """Kaufman & Rousseeuw's word for the structure an average silhouette indicates."""
    return reading(SILHOUETTE_BANDS, silhouette)


def silhouette_bands_text() -> str:
    """The bands in words, every value in one of them: 'under 0.26 as no substantial structure, 0.26 up to 0.51 as
    weak, …, 0.71 and above as strong' (as :func:`silhouette_strength` reads them: 0.254 is no substantial structure)."""
    (strong, _), (reasonable, _), (weak, _), _ = SILHOUETTE_BANDS
    return (f"under {weak:.2f} as no substantial structure, {weak:.2f} up to {reasonable:.2f} as weak, "
            f"{reasonable:.2f} up to {strong:.2f} as reasonable, {strong:.2f} and above as strong structure")


def banded_text(value: float, bands: tuple[tuple[float, str], ...], fewest: int = 2) -> str:
    """A score as the report quotes it beside its reading in ``bands`` (:func:`reading`): ``fewest`` decimals (two),
    more only where those would round it into another band, so the number shown never sits in a band other than the
    words said of it (a stability of 0.7983 → '0.798': '0.80' is where "much the same segments" starts, and it was
    read below that)."""
    for digits in range(fewest, 10):
        text = f"{value:.{digits}f}"
        if reading(bands, float(text)) == reading(bands, value):
            return text
    return repr(value)


def silhouette_text(silhouette: float, fewest: int = 2) -> str:
    """A silhouette as the report quotes it: ``fewest`` decimals (two), more only where those would round it into
    another band (0.2578 → '0.258': '0.26' would read as the *weak* band it falls just short of)."""
    return banded_text(silhouette, SILHOUETTE_BANDS, fewest)


def silhouette_texts(silhouette: float, reference: float) -> tuple[str, str]:
    """The silhouette in the clustering space and the reference silhouette (``silhouette_reference``) as the report
    quotes them together (:func:`silhouette_text`), with a decimal more for both while they would print alike though
    they differ: 0.2805 and 0.2782 both read '0.28', one figure twice, where they are '0.280' and '0.278'."""
    for fewest in (2, 3, 4):
        texts = silhouette_text(silhouette, fewest), silhouette_text(reference, fewest)
        if texts[0] != texts[1]:
            return texts
    return silhouette_text(silhouette), silhouette_text(reference)  # alike to four decimals: one figure, quoted so


def silhouette_band(silhouette: float, said: str = "") -> str:
    """The band in words, saying when the value sits within 0.01 of a band's edge: '*weak* structure (0.262, just
    above the 0.26 where that band starts)', so a borderline call is not read as a firm one. ``said`` is the value as
    the sentence has just quoted it: when that has the three decimals given here, they are not said twice ('is 0.257,
    *no substantial* structure (just below the 0.26 …)'); '0.26' still gets its '0.262'."""
    word = silhouette_strength(silhouette)
    edges = [bound for bound, _ in SILHOUETTE_BANDS if bound != float("-inf")]
    near = [b for b in edges if abs(silhouette - b) < 0.01]
    if not near:
        return f"*{word}* structure"
    b = near[0]
    where = f"just above the {b:.2f} where that band starts" if silhouette >= b else f"just below the {b:.2f} where the next band starts"
    value = f"{silhouette:.3f}"
    return f"*{word}* structure ({where})" if said == value else f"*{word}* structure ({value}, {where})"


#: How to read an adjusted Rand index between two partitions of the same customers, by the lowest ARI of each band
#: (Steinley 2004 reads 0.90 and above as excellent, 0.80 good, 0.65 moderate and lower values as poor recovery).
#: What the agreement between the algorithms (mean pairwise ARI at the chosen k) says:
AGREEMENT_READINGS = (
    (0.80, "the methods find much the same segments"),
    (0.65, "the methods agree on the broad split and differ on some boundaries"),
    (0.20, "the methods agree only in part (which customers share a segment depends on the method): "
           "treat the boundaries as soft"),
    # an index near 0 is what two unrelated partitions give (60 customers of new data gave 0.07): not "in part".
    # 0.20 is this project's convention, as CHANNEL_READINGS' bands are.
    (float("-inf"), "the methods barely agree (an index of 0 is what unrelated segments give): the segments are one "
                    "method's summary, not groups the data make plain"),
)
#: What the bootstrap stability (mean ARI between refits on resamples and the served partition) says, same bands:
STABILITY_READINGS = (
    (0.80, "refits on other samples of customers find much the same segments"),
    (0.65, "refits keep the broad segments, while some customers change segment"),
    (float("-inf"), "refits often put customers in other segments: treat the segments as tentative"),
)
#: What the ARI between the segments and the Channel label says. It cannot reach 1 with more segments than channels,
#: so its bands are lower than Steinley's: this project's reading, stated with the number.
CHANNEL_READINGS = (
    (0.65, "the segments follow the Horeca/Retail split closely"),
    (0.30, "the segments follow the Horeca/Retail split in part"),
    (float("-inf"), "the segments largely cut across the Horeca/Retail split"),
)


def agreement_text(ari: float) -> str:
    """The agreement ARI between the methods as quoted beside :func:`agreement_reading` (:func:`banded_text`)."""
    return banded_text(ari, AGREEMENT_READINGS)


def stability_text(ari: float) -> str:
    """The bootstrap stability ARI as quoted beside :func:`stability_reading` (:func:`banded_text`): 0.7983 → '0.798'."""
    return banded_text(ari, STABILITY_READINGS)


def channel_ari_text(ari: float) -> str:
    """The ARI with the Channel label as quoted beside :func:`channel_reading` (:func:`banded_text`): 0.2992 → '0.299',
    not '0.30', where "follow the Horeca/Retail split in part" starts."""
    return banded_text(ari, CHANNEL_READINGS)


def agreement_reading(ari: float) -> str:
    """The words for the agreement ARI between the clustering methods."""
    return reading(AGREEMENT_READINGS, ari)


def stability_reading(ari: float) -> str:
    """The words for the bootstrap stability ARI of the served segmentation."""
    return reading(STABILITY_READINGS, ari)


#: The reading when every customer fitted has one channel (new data from Horeca customers alone, say): the baseline
#: is then 100%, the accuracy too, and the ARI 0, which says nothing about the segments.
ONE_CHANNEL = "every customer fitted has the same channel, so there is no Horeca/Retail split for the segments to follow"


#: The reading of an ARI in the lowest band of :data:`CHANNEL_READINGS` when the segments still sit within one channel
#: each (cluster.k=6 on the UCI data: 91% of channels recovered against 68%, every segment at least 75% one channel,
#: ARI 0.20, which had read "largely cut across"): the ARI is low because the segments split the channels further.
SPLIT_WITHIN_CHANNELS = ("the segments mostly sit within one channel each but split the channels further, which keeps "
                         "the adjusted Rand index low")
#: Share of the customers that always guessing the commoner channel gets wrong whose channel the segments' majority
#: channel gets right, from which a low ARI is read as :data:`SPLIT_WITHIN_CHANNELS`, not as segments cutting across
#: the split. Half: a convention of this project, as the bands are.
WITHIN_CHANNELS_GAIN = 0.5


def channel_reading(ari: float, baseline: float = 0.0, accuracy: float | None = None,
                    within: Sequence[dict[str, Any]] = (), sizes: Sequence[int] | None = None,
                    leaning: Sequence[dict[str, Any]] = ()) -> str:
    """The words for the ARI between the segments and the Channel label; ``baseline`` is the share of the commoner
    channel among the customers fitted (``channel_baseline``), 1 when they all have one channel, and ``accuracy`` the
    share the segments' majority channel recovers (``channel_accuracy``): with many segments the ARI is low even when
    each sits within one channel, which is not cutting across the split (:data:`WITHIN_CHANNELS_GAIN`). ``within``
    lists the segments that sit within one channel (``channel_within``, :func:`stages.cluster.channels_within`) of
    those whose ``sizes`` are given (``segment_sizes``, the customers fitted): in the lowest band, when they hold
    under half of those customers they are named as the exception ("…, apart from segment 0 (98% Horeca)"); half or
    more, but not every segment, read as following the split in part, naming which segments do and which do not
    (under ``data.features=[Milk,Grocery,Detergents_Paper]`` with three agglomerative segments, two within one
    channel, 54% of the customers, had read "largely cut across …, apart from segments 1 (99% Horeca) and 2 (98%
    Retail)"); every segment, as :data:`SPLIT_WITHIN_CHANNELS`. ``leaning`` lists the segments that lean to one
    channel without sitting within it (``channel_leaning``, :func:`stages.cluster.channels_leaning`): they count with
    ``within`` towards that half and are named apart ("…, segments 2 (85% Horeca) and 3 (82% Retail) each leaning to
    one, and segments 1 and 4 not"). When the accuracy reads as :data:`SPLIT_WITHIN_CHANNELS` and the lists are
    given, the segments in neither list are named there while they hold under half of the customers ("… each
    (segment 1 mixes the two) but …"); half or more, the lists' reading above is given instead."""
    if baseline >= 1.0:
        return ONE_CHANNEL
    words = reading(CHANNEL_READINGS, ari)
    lowest = words == CHANNEL_READINGS[-1][1]
    # the segments neither within one channel nor leaning to one: the channels mix in them
    inside = {w["segment"] for w in [*within, *leaning]}
    mixed = [] if sizes is None else [s for s in range(len(sizes)) if s not in inside]
    # twice the customers in them, against all the customers fitted: under, at or over half
    twice_mixed, total = (0, 0) if sizes is None else (2 * sum(sizes[s] for s in mixed), sum(sizes))
    if lowest and accuracy is not None and accuracy - baseline >= WITHIN_CHANNELS_GAIN * (1 - baseline):
        if not mixed:
            return SPLIT_WITHIN_CHANNELS
        # named while they hold under half of the customers ([Milk,Grocery,Detergents_Paper], k=4: one segment of
        # four, 67% Horeca against 68% of all, had been read as sitting within one channel with the others)
        if twice_mixed < total:
            many = len(mixed) > 1
            return SPLIT_WITHIN_CHANNELS.replace(
                " each but ", f" each (segment{'s' if many else ''} {words_list([str(s) for s in mixed])} mix{'' if many else 'es'} the two) but ")
    if lowest and (within or leaning) and sizes is not None:
        if len(within) >= len(sizes):
            return SPLIT_WITHIN_CHANNELS
        if twice_mixed > total:
            return f"{words}, apart from {_segments_text(within)}" if within else words
        # half of the customers or more in segments each within or leaning to one channel: they do not "largely cut
        # across" it
        parts = [f"{_segments_text(group)} {'each ' if len(group) > 1 else ''}{how}"
                 for group, how in ((within, "within one channel"), (leaning, "leaning to one")) if group]
        if mixed:
            parts.append(f"segment{'s' if len(mixed) > 1 else ''} {words_list([str(s) for s in mixed])} not")
        return f"{CHANNEL_READINGS[-2][1]}, with " + (" and ".join(parts) if len(parts) < 3 else f"{parts[0]}, {parts[1]}, and {parts[2]}")
    return words


def metrics_channel_reading(metrics: Mapping[str, Any]) -> str:
    """:func:`channel_reading` of the served segments, from ``ml/metrics.json`` as loaded (the report and notebook 4)."""
    return channel_reading(metrics["channel_ari"], metrics["channel_baseline"], metrics["channel_accuracy"],
                           metrics["channel_within"], metrics["segment_sizes"], metrics["channel_leaning"])


def _segments_text(group: Sequence[dict[str, Any]]) -> str:
    """Segments of ``channel_within`` or ``channel_leaning`` with their commonest channel: 'segments 1 (99% Horeca)
    and 2 (98% Retail)'."""
    return f"segment{'s' if len(group) > 1 else ''} " + words_list([f"{w['segment']} ({percent(w['share'])} {w['channel']})" for w in group])


def max_segments(n_rows: int, n_distinct: int | None = None) -> int:
    """The most segments ``n_rows`` customers (``n_distinct`` of them different) can be split into and scored: one
    fewer than the rows (the silhouette needs a segment with two members), and no more than the different customers."""
    return n_rows - 1 if n_distinct is None else min(n_rows - 1, n_distinct)


def customers_text(n_rows: int, n_distinct: int | None = None) -> str:
    """``435 customers``, or ``20 customers (3 of them different)`` when some are identical."""
    return f"{n_rows} customers" + ("" if n_distinct in (None, n_rows) else f" ({n_distinct} of them different)")


def check_params(params: dict[str, Any], n_rows: int, served_algorithm: str | None = None, n_distinct: int | None = None) -> None:
    """Reject an impossible ``select_k`` section (and a served algorithm it does not sweep, or a criterion that
    algorithm lacks), naming the key; ``n_distinct`` is how many of the ``n_rows`` customers differ."""
    check_section("select_k", params)
    check_k_range(params["k_min"], params["k_max"], max_segments(n_rows, n_distinct), customers_text(n_rows, n_distinct))
    if served_algorithm is not None:  # before the sweep, not after it: the cluster stage serves this one
        check_served(served_algorithm, params["algorithms"])
    check_criterion(params["criterion"], served_algorithm)


def within_ss(S: NDArray[np.float64], labels: NDArray[np.int64]) -> float:
    """Within-segment sum of squared distances to the segment means (k-Means' inertia)."""
    return float(sum(((S[labels == j] - S[labels == j].mean(axis=0)) ** 2).sum() for j in np.unique(labels)))


def score_partition(S: NDArray[np.float64], labels: NDArray[np.int64]) -> dict[str, float]:
    """Internal validity criteria of one partition."""
    return {
        "inertia": within_ss(S, labels),
        "silhouette": float(silhouette_score(S, labels)),
        "calinski_harabasz": float(calinski_harabasz_score(S, labels)),
        "davies_bouldin": float(davies_bouldin_score(S, labels)),
    }


def sweep(S: NDArray[np.float64], params: dict[str, Any], seed: int, n_init: int, *, channel: NDArray[np.int64], n_jobs: int = -1) -> pd.DataFrame:
    """One row per (algorithm, k) with every criterion (BIC only for the mixture) and, as a reading that picks
    nothing, ``channel_ari``: the adjusted Rand index between the partition and ``channel`` (the Channel label of the
    rows of ``S``, never fitted on)."""
    if len(channel) != len(S):
        raise ValueError(f"channel: {len(channel)} labels for {len(S)} customers")
    grid = [(a, k) for a in params["algorithms"] for k in range(int(params["k_min"]), int(params["k_max"]) + 1)]
    # Each cell is seeded on its own, so running the cells in parallel changes no number.
    rows = Parallel(n_jobs=n_jobs)(delayed(_sweep_cell)(a, k, S, channel, seed, n_init, int(params["bootstrap"])) for a, k in grid)
    return pd.DataFrame(rows)


def _sweep_cell(algorithm: str, k: int, S: NDArray[np.float64], channel: NDArray[np.int64], seed: int, n_init: int, n_boot: int) -> dict[str, Any]:
    model, labels = fit_predictor(algorithm, k, S, seed, n_init)
    row: dict[str, Any] = {"algorithm": algorithm, "k": k, **score_partition(S, labels)}
    row["bic"] = float(model.bic(S)) if algorithm == "gmm" else np.nan
    row["stability"] = bootstrap_stability(algorithm, k, S, seed, n_init, n_boot)
    row["channel_ari"] = float(adjusted_rand_score(channel, labels))
    return row


def clustered_label(customers: pd.DataFrame, table: pd.DataFrame, label: str = "Channel") -> NDArray[np.int64]:
    """The ``label`` codes of the customers ``table`` (``data/processed/features.csv``) marks as clustered, in its
    row order; ``customers`` is ``data/processed/customers.csv``. Refuses tables whose rows do not line up."""
    if not np.array_equal(customers["row"].to_numpy(), table["row"].to_numpy()):
        raise ValueError("data/processed/customers.csv and data/processed/features.csv list different rows: run `dvc repro`")
    return customers.loc[table["clustered"].to_numpy(), label].to_numpy(dtype=np.int64)


def elbow_k(ks: NDArray[np.int64], inertia: NDArray[np.float64]) -> int:
    """The knee of a decreasing curve: the k farthest below the chord from first to last point."""
    x = (ks - ks[0]) / max(ks[-1] - ks[0], 1)
    span = inertia[0] - inertia[-1]
    y = (inertia - inertia[-1]) / span if span else np.zeros_like(inertia)
    return int(ks[np.argmax((1 - x) - y)])


def criterion_curve(table: pd.DataFrame, algorithm: str, criterion: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The k swept for ``algorithm``, in increasing order, and ``criterion``'s score at each (its column of the sweep)."""
    sub = table[table["algorithm"] == algorithm].sort_values("k")
    return sub["k"].to_numpy(dtype=np.int64), sub[CRITERIA[criterion][0]].to_numpy(dtype=np.float64)


def pick_k(table: pd.DataFrame, algorithm: str, criterion: str) -> int | None:
    """The k that ``criterion`` prefers for ``algorithm`` (None when it does not apply)."""
    ks, values = criterion_curve(table, algorithm, criterion)
    if np.isnan(values).all():
        return None
    if criterion == "elbow":
        return elbow_k(ks, values)
    best = np.nanargmax(values) if CRITERIA[criterion][1] else np.nanargmin(values)
    return int(ks[best])


def picks(table: pd.DataFrame) -> dict[str, dict[str, int | None]]:
    """For every algorithm, the k each criterion picks."""
    return {a: {c: pick_k(table, a, c) for c in CRITERIA} for a in table["algorithm"].unique()}


#: Steps in a row over which a criterion's score must improve into the end of the sweep its pick sits on for
#: :func:`improves_into_end` to read it as still improving there. The pick being the best, three more steps ordered
#: towards it happen by chance one time in six when the scores are noise around a flat curve (two: one in two);
#: the shipped run's silhouette, better at k = 2, 3 and 4 but worse at 4 than at 5, is then not read as a trend.
TREND_STEPS = 3


def improves_into_end(values: NDArray[np.float64], larger: bool, end: str) -> bool:
    """Whether a criterion's ``values`` (by increasing k; ``larger`` when higher is better) improve at each of the
    last :data:`TREND_STEPS` steps into ``end`` of the sweep ('k_min' or 'k_max'); False when fewer k were swept."""
    if end not in ("k_min", "k_max"):
        raise ValueError(f"end: {end!r} is neither 'k_min' nor 'k_max'")
    towards = values if end == "k_max" else values[::-1]
    steps = np.diff(towards[-(TREND_STEPS + 1):])
    if len(steps) < TREND_STEPS:
        return False
    return bool((steps > 0).all() if larger else (steps < 0).all())


def keeps_improving(table: pd.DataFrame, algorithm: str, criterion: str) -> bool:
    """Whether ``criterion``'s pick for ``algorithm`` sits at an end of the sweep and its score still improves into
    that end (:func:`improves_into_end`): a sweep widened past it will likely find the pick at the new end again.
    Never for the elbow, whose inertia falls with every k and which reads a knee, not a best score."""
    k = pick_k(table, algorithm, criterion)
    if k is None or criterion == "elbow":
        return False
    ks, values = criterion_curve(table, algorithm, criterion)
    return any(improves_into_end(values, CRITERIA[criterion][1], end) for end in sweep_edges(k, int(ks[0]), int(ks[-1])))


def picks_keep_improving(table: pd.DataFrame) -> dict[str, list[str]]:
    """For every algorithm, the criteria whose pick :func:`keeps_improving` (in the order of :data:`CRITERIA`)."""
    return {a: [c for c in CRITERIA if keeps_improving(table, a, c)] for a in table["algorithm"].unique()}


def picks_text(prefers: dict[str, int | None]) -> str:
    """What every criterion picks for one algorithm (a row of :func:`picks`), in words: 'the silhouette picks k = 2,
    Calinski–Harabasz k = 2, Davies–Bouldin k = 2, the elbow sits at k = 4 and bootstrap stability is highest at
    k = 2', with the BIC's pick where it has one (the mixture), so a run whose criterion is the BIC states its pick."""
    bic = "" if prefers["bic"] is None else f"the BIC k = {prefers['bic']}, "
    return (f"the silhouette picks k = {prefers['silhouette']}, Calinski–Harabasz k = {prefers['calinski_harabasz']}, "
            f"Davies–Bouldin k = {prefers['davies_bouldin']}, {bic}the elbow sits at k = {prefers['elbow']} and "
            f"bootstrap stability is highest at k = {prefers['stability']}")


def wide(table: pd.DataFrame) -> pd.DataFrame:
    """The sweep with one row per k and a column per algorithm and criterion (``kmeans_silhouette`` …).

    Every algorithm of :data:`ALGORITHMS` has its columns, empty for one the sweep left out, so the plots that
    ``dvc.yaml`` names always find their fields (``dvc plots show`` drops a whole plot over a missing one).
    """
    out = table.pivot(index="k", columns="algorithm")
    out.columns = [f"{algorithm}_{criterion}" for criterion, algorithm in out.columns]
    order = [f"{a}_{c}" for a in ALGORITHMS for c in table.columns if c not in ("algorithm", "k")]
    return out.reindex(columns=order).reset_index()


def swept_algorithms(wide_table: pd.DataFrame) -> list[str]:
    """The algorithms :func:`wide` holds values for, in the order of :data:`ALGORITHMS`."""
    return [a for a in ALGORITHMS if wide_table[[c for c in wide_table.columns if c.startswith(f"{a}_")]].notna().any(axis=None)]


def long(wide_table: pd.DataFrame, algorithms: list[str]) -> pd.DataFrame:
    """Inverse of :func:`wide`: one row per (algorithm, k)."""
    frames = []
    for a in algorithms:
        cols = {c: c.removeprefix(f"{a}_") for c in wide_table.columns if c.startswith(f"{a}_")}
        frames.append(wide_table[["k", *cols]].rename(columns=cols).assign(algorithm=a))
    return pd.concat(frames, ignore_index=True)[["algorithm", "k", *SWEEP_COLUMNS]]


CRITERIA_COLUMNS = ["inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "bic", "stability"]
#: Every column of the sweep per (algorithm, k): the criteria, then the Channel ARI (read, never used to pick k).
SWEEP_COLUMNS = [*CRITERIA_COLUMNS, "channel_ari"]


def sweep_edges(k: int, k_min: int, k_max: int) -> list[str]:
    """The ends of the sweep (``select_k.k_min``, ``select_k.k_max``) a picked ``k`` sits on, by key: ``[]`` inside
    it, ``["k_max"]`` at the top, both when only one k was swept. A criterion's best may lie beyond such an end."""
    return [key for key, bound in (("k_min", k_min), ("k_max", k_max)) if k == bound]


def widen_command(edges: list[str], k_min: int, k_max: int, limit: int) -> str | None:
    """The ``dvc exp run`` that widens the sweep past the ``edges`` a pick sits on (:func:`sweep_edges`): ``k_max``
    doubled, at most ``limit`` (:func:`max_segments`), ``k_min`` down to :data:`FEWEST_SEGMENTS`; None when neither
    end can move."""
    sets = []
    if "k_min" in edges and k_min > FEWEST_SEGMENTS:
        sets.append(f"-S select_k.k_min={FEWEST_SEGMENTS}")
    if "k_max" in edges and k_max < limit:
        sets.append(f"-S select_k.k_max={min(2 * k_max, limit)}")
    return "dvc exp run " + " ".join(sets) if sets else None


def edge_sentence(who: str, k: int, edges: list[str], widen: str | None, several: bool = False, trend: bool = False) -> str:
    """What it means that ``who`` (a criterion as :func:`~stages.names.criteria_phrase` names it, ``several`` when it
    names more than one) picked ``k`` at the ``edges`` of the sweep (:func:`sweep_edges`), and the ``widen`` command
    (:func:`widen_command`) that looks beyond them; '' for a pick inside the sweep. At ``k_min`` = 2 there is
    nothing below to look at, and the sentence says what such a pick does not show. ``trend`` when the score still
    improves into that end (:func:`keeps_improving`): the sentence then says that widening will likely not settle."""
    tail = f": widen the sweep to see (`{widen}`)." if widen else "."
    if edges == ["k_min", "k_max"]:
        return f"Only k = {k} was swept (`select_k.k_min` = `select_k.k_max`), so {who} had no other k to compare it with{tail}"
    if trend and edges in (["k_min"], ["k_max"]):
        return _trend_sentence(who, k, edges[0], widen, several)
    if edges == ["k_max"]:
        if widen is None:
            return f"k = {k} is `select_k.k_max` and the most segments these customers allow, so {who} picked the most there can be."
        return f"k = {k} is `select_k.k_max`, the most segments swept, so {who} may prefer more segments than the sweep tried{tail}"
    if edges == ["k_min"] and widen is not None:
        return f"k = {k} is `select_k.k_min`, the fewest segments swept, so {who} may prefer fewer segments than the sweep tried{tail}"
    if edges == ["k_min"]:
        picks = "their picks say" if several else "its pick says"
        return (f"k = {k} is `select_k.k_min` and the fewest segments there can be (one segment is no segmentation), so "
                f"{who} could not look lower: {picks} that {k} segments score best among those swept, not that the "
                f"customers fall into {k} clear groups.")
    return ""


def _trend_sentence(who: str, k: int, end: str, widen: str | None, several: bool, end_named: bool = False) -> str:
    """:func:`edge_sentence` for a pick at ``end`` whose score still improves into it; ``end_named`` when the sentence
    before has said what k is (the other criteria at that end), so this one starts with ``who``."""
    they, their, keep, picks_are = ("they", "their", "keep", "picks are") if several else ("it", "its", "keeps", "pick is")
    pick = picks_are.split()[0]
    if end == "k_max":
        where = "the most segments these customers allow" if widen is None else "the most segments swept"
        steps, more, new_end = f"from k = {k - TREND_STEPS} to k = {k}", "more", "to the new end again"
    else:
        where = ("the fewest segments there can be (one segment is no segmentation)" if widen is None
                 else "the fewest segments swept")
        steps, more, new_end = (f"from k = {k + TREND_STEPS} down to k = {k}", "fewer",
                                f"down to k = {FEWEST_SEGMENTS}, the fewest there can be")
    then = f", so widening the sweep (`{widen}`) will likely move {their} {pick} {new_end}" if widen else ""
    opening = sentence_start(who) if end_named else f"k = {k} is `select_k.{end}`, {where}, and {who}"
    return (f"{opening} scored better at every step {steps}: on these customers "
            f"{they} {keep} preferring {more} segments{then}. {sentence_start(their)} {picks_are} where the sweep ends, "
            "not a number of segments the customers call for: choose k by another criterion (`select_k.criterion`) or "
            "by what the segments are for (`cluster.k`).")


def picks_edge_text(prefers: dict[str, int | None], k_min: int, k_max: int, limit: int, improving: Collection[str] = ()) -> str:
    """For one algorithm's picks (a row of :func:`picks`), which criteria picked an end of the sweep and what that
    means (:func:`edge_sentence`), the top end first; '' when every pick lies inside the sweep. ``improving`` names
    the criteria whose score still improves into the end they picked (a row of :func:`picks_keep_improving`): they
    get a sentence of their own, after the others at that end (:func:`_trend_sentence`)."""
    sentences = []
    for k in dict.fromkeys([k_max, k_min]):
        edges = sweep_edges(k, k_min, k_max)
        widen = widen_command(edges, k_min, k_max, limit)
        chosen_by = [c for c, pick in prefers.items() if pick == k]
        plain = [c for c in chosen_by if c not in improving]
        trending = [c for c in chosen_by if c in improving]
        if plain:
            sentences.append(edge_sentence(criteria_phrase(plain), k, edges, widen, several=len(plain) > 1))
        if trending and len(edges) == 1:
            sentences.append(_trend_sentence(criteria_phrase(trending), k, edges[0], widen, len(trending) > 1, end_named=bool(plain)))
        elif trending:
            sentences.append(edge_sentence(criteria_phrase(trending), k, edges, widen, several=len(trending) > 1))
    return " ".join(sentences)


def k_note(k: int, k_param: int | str, criterion: str, chosen_k: int, channel_ari: dict[int, float] | None = None,
           edges: list[str] | None = None, widen: str | None = None, trend: bool = False) -> str:
    """Where the number of segments comes from (params.yaml or the selection criterion) and, when ``params.yaml``
    overrides the criterion, what the Channel label says about the two (``channel_ari``: k → the served algorithm's
    adjusted Rand index with Channel, see :func:`channel_note`). ``edges``, ``widen`` and ``trend``
    (``ml/select_k.json``'s ``at_edge``, ``widen`` and ``keeps_improving``) say when the criterion's pick sits at an
    end of the sweep: the note says so when k is that pick, or when the sweep can be widened past it, or when the
    criterion's score still improves into that end (it then picks no number of segments)."""
    who = criteria_phrase([criterion])
    edge = edge_sentence("it", chosen_k, edges or [], widen, trend=trend)
    if k_param == "auto":
        return f"`cluster.k` is `auto`, so k = {k} is the number of segments {who} picks." + (f" {edge}" if edge else "")
    if k == chosen_k:
        return f"k = {k} is set in `params.yaml` (`cluster.k`) and is also {who}'s pick." + (f" {edge}" if edge else "")
    more_or_fewer = "more" if k > chosen_k else "fewer"
    note = (f"{sentence_start(who)} (`select_k.criterion`) prefers k = {chosen_k}; `params.yaml` sets "
            f"`cluster.k: {k}`, {more_or_fewer} segments than it picks.")
    if edge and (widen or trend):
        note += f" {edge}"
    aris = channel_ari or {}
    if k in aris and chosen_k in aris:
        note += " " + channel_note(k, chosen_k, aris[k], aris[chosen_k])
    return note


def channel_note(k: int, chosen_k: int, ari_k: float, ari_chosen: float) -> str:
    """What the Channel label (known to the distributor, never fitted on) says about serving k segments rather than
    the criterion's ``chosen_k``, from the adjusted Rand index of each partition with it. When more segments depart
    from the label, that is the case for them: fewer would repeat more of what the distributor already records.
    A difference under :data:`CHANNEL_ARI_GAP` is read as none."""
    a_k, a_c = f"{ari_k:.2f}", f"{ari_chosen:.2f}"
    if abs(ari_k - ari_chosen) < CHANNEL_ARI_GAP:
        return (f"The adjusted Rand index with the Channel label is about the same at k = {k} ({a_k}) and at "
                f"k = {chosen_k} ({a_c}), so the label favours neither.")
    if k > chosen_k and ari_chosen > ari_k:
        return (f"At k = {chosen_k} the segments stay closer to the Channel label the distributor already records "
                f"(adjusted Rand index {a_c} with it); at k = {k} they depart further from it ({a_k}) and add "
                "distinctions the label does not make.")
    return f"The adjusted Rand index with the Channel label is {a_k} at k = {k} and {a_c} at k = {chosen_k}."


def channel_ari_by_k(wide_table: pd.DataFrame, metrics: dict[str, Any]) -> dict[int, float]:
    """k → the served algorithm's adjusted Rand index with Channel, for :func:`k_note`: the sweep's (:func:`wide`'s
    layout) and the served model's own (``metrics.json``), so a ``cluster.k`` outside the swept range has one too."""
    column = wide_table.set_index("k")[f"{metrics['algorithm']}_channel_ari"].dropna()
    return {int(k): float(v) for k, v in column.items()} | {int(metrics["k"]): float(metrics["channel_ari"])}


def fewer_components(n_components: int, n_features: int) -> bool:
    """Whether the clustering space (``features.pca.n_components``) is fewer principal components than categories, so
    that a silhouette measured there leaves out some of the variation (0 or as many as the categories: all of it)."""
    return 0 < n_components < n_features


def measured_elsewhere(n_components: int, n_features: int, otherwise: Sequence[str] = ()) -> bool:
    """Whether a silhouette in the clustering space is not one over every category as the reference silhouette's
    space prepares them: fewer principal components than categories (:func:`fewer_components`), or spending prepared
    ``otherwise`` (:func:`prepared_otherwise`)."""
    return fewer_components(n_components, n_features) or bool(otherwise)


#: What a silhouette measured on fewer principal components than categories misses, wherever one is quoted.
LEAVES_OUT = "leaves out the variation the other components carry"


#: How the reference silhouette's space prepares spending (:func:`stages.cluster.reference_silhouette`): the log of
#: max(spend, 1), standard-scaled. A clustering space prepared otherwise gives a silhouette of another scale.
REFERENCE_PREPARATION = {"transform": "log", "scaler": "standard"}


def prepared_otherwise(features: dict[str, Any]) -> list[str]:
    """The settings of ``params.yaml``'s ``features`` section by which the clustering space prepares spending otherwise
    than the reference silhouette's space (:data:`REFERENCE_PREPARATION`), as the text names them: ['`features.transform: none`']."""
    return [f"`features.{key}: {features[key]}`" for key, value in REFERENCE_PREPARATION.items() if features[key] != value]


def fitted_space(n_components: int, n_features: int, otherwise: Sequence[str]) -> tuple[str, str]:
    """Where the segments were fitted, when a silhouette there is not the reference's, and why it differs: ('on the
    first 2 principal components (…)', 'leaves out …') or ('in spending prepared with `features.transform: none`',
    'is not comparable: …')."""
    fewer = fewer_components(n_components, n_features)
    if not otherwise:
        return f"on {pca_use(n_components, n_features)}", LEAVES_OUT
    where = f"in spending prepared with {words_list(otherwise)}" + (f", on {pca_use(n_components, n_features)}" if fewer else "")
    why = ("is not comparable with one over log-scaled, standardised spending: a silhouette depends on how spending is "
           "transformed and scaled") + (f", and it {LEAVES_OUT}" if fewer else "")
    return where, why


def silhouette_space(n_components: int, n_features: int, otherwise: Sequence[str] = ()) -> str:
    """The clause naming the clustering space after "the silhouette" when it is fewer principal components than
    categories or spending prepared ``otherwise`` than the reference silhouette's (:func:`prepared_otherwise`):
    (', measured on the first 2 principal components (…) where the customers were clustered,'), else ''."""
    if not measured_elsewhere(n_components, n_features, otherwise):
        return ""
    return f", measured {fitted_space(n_components, n_features, otherwise)[0]} where the customers were clustered,"


def not_comparable(n_components: int, n_features: int, otherwise: Sequence[str] = ()) -> str:
    """Why a silhouette in such a space (:func:`silhouette_space`) is not another run's, after "It" or "That
    silhouette": it leaves out the other components, or is not comparable with one over log-scaled, standardised
    spending (:func:`fitted_space`)."""
    return fitted_space(n_components, n_features, otherwise)[1]


def silhouette_range_text(span: tuple[float, float], k_min: int, k_max: int, n_components: int, n_features: int,
                          otherwise: Sequence[str] = ()) -> str:
    """The silhouette's range over the sweep (:func:`silhouette_span`) and Kaufman & Rousseeuw's reading of its best,
    naming the principal components it was measured on when they are fewer than the categories: such a silhouette
    (0.42 on two components, 0.30 on all six) is not comparable with another run's, ``silhouette_reference`` is."""
    low, high = span
    where = silhouette_space(n_components, n_features, otherwise)
    text = (f"Across k = {k_min}…{k_max} the silhouette{where} ranges from {low:.3f} to {high:.3f} (Kaufman & Rousseeuw "
            f"read {silhouette_bands_text()}; the best here, {high:.3f}, means {silhouette_strength(high)} structure).")
    if where and not otherwise:
        text += (f" It {LEAVES_OUT}, so it is not comparable with a silhouette over "
                 "all the categories: compare experiments by `silhouette_reference` (Analysis 4, `ml/metrics.json`), "
                 "measured over all of them whatever `features.pca.n_components` says.")
    elif where:
        text += (f" It {not_comparable(n_components, n_features, otherwise)}; compare experiments by `silhouette_reference` "
                 "(Analysis 4, `ml/metrics.json`), measured over all the categories, log-scaled and standardised, whatever "
                 "`features.*` say.")
    return text


def silhouette_span(table: pd.DataFrame, algorithm: str) -> tuple[float, float]:
    """Smallest and largest silhouette over the swept k for one algorithm (how decisive the curve is)."""
    values = table.loc[table["algorithm"] == algorithm, "silhouette"]
    return float(values.min()), float(values.max())
