"""Tests of stages.select_k: criteria, picks, the wide/long layouts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from stages import config
from stages.select_k import (
    TREND_STEPS, channel_ari_by_k, channel_note, check_params, clustered_label, edge_sentence, elbow_k, improves_into_end, k_note,
    keeps_improving, long, pick_k, picks, picks_edge_text, picks_keep_improving, picks_text, silhouette_range_text, sweep, sweep_edges, swept_algorithms,
    wide, widen_command,
)

PARAMS: dict[str, Any] = {"k_min": 2, "k_max": 5, "algorithms": ["kmeans", "agglomerative", "gmm"], "criterion": "silhouette", "bootstrap": 3}


def blobs(k: int = 3, n: int = 30, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, size=(k, 2))
    return np.vstack([c + rng.normal(0, 0.3, size=(n, 2)) for c in centres])


def blob_ids(k: int = 3, n: int = 30) -> np.ndarray:
    """Which blob each row of :func:`blobs` comes from, as label codes 1…k: a "Channel" the blobs follow exactly."""
    return np.repeat(np.arange(1, k + 1), n)


def test_elbow_finds_the_knee_of_a_piecewise_line() -> None:
    ks = np.arange(2, 9)
    inertia = np.array([100.0, 50.0, 20.0, 18.0, 16.0, 14.0, 12.0])
    assert elbow_k(ks, inertia) == 4


def test_sweep_on_three_blobs_picks_three() -> None:
    table = sweep(blobs(), PARAMS, seed=1, n_init=3, channel=blob_ids(), n_jobs=1)
    assert set(table["algorithm"]) == set(PARAMS["algorithms"])
    assert table.loc[table["algorithm"] != "gmm", "bic"].isna().all()
    chosen = picks(table)
    for algorithm in PARAMS["algorithms"]:
        assert chosen[algorithm]["silhouette"] == 3
        at_three = table[(table["algorithm"] == algorithm) & (table["k"] == 3)]
        assert at_three["stability"].item() > 0.95
    assert chosen["gmm"]["bic"] == 3
    assert chosen["kmeans"]["bic"] is None


def test_sweep_is_the_same_in_parallel_and_serially() -> None:
    params = {**PARAMS, "algorithms": ["kmeans", "gmm"]}
    serial = sweep(blobs(), params, seed=1, n_init=2, channel=blob_ids(), n_jobs=1)
    parallel = sweep(blobs(), params, seed=1, n_init=2, channel=blob_ids(), n_jobs=2)
    pd.testing.assert_frame_equal(serial, parallel)


def test_wide_and_long_round_trip() -> None:
    table = sweep(blobs(), {**PARAMS, "bootstrap": 0}, seed=1, n_init=2, channel=blob_ids(), n_jobs=1)
    w = wide(table)
    assert "kmeans_silhouette" in w.columns and w["k"].tolist() == [2, 3, 4, 5]
    pd.testing.assert_frame_equal(long(w, PARAMS["algorithms"]), table[long(w, PARAMS["algorithms"]).columns], check_dtype=False)


def plotted_fields() -> set[str]:
    """The k-sweep columns the plots of dvc.yaml name."""
    plots = yaml.safe_load((config.ROOT / "dvc.yaml").read_text(encoding="utf-8"))["plots"]
    return {field for plot in plots for props in plot.values() for field in props["y"]["ml/plots/k_sweep.csv"]}


@pytest.mark.parametrize("algorithms", [["kmeans"], ["gmm", "agglomerative"]])
def test_a_sweep_of_some_algorithms_still_has_every_column_the_plots_name(algorithms: list[str]) -> None:
    """`dvc plots show` drops a whole plot when a field it names is missing: the others' columns are there, empty."""
    table = sweep(blobs(), {**PARAMS, "algorithms": algorithms, "bootstrap": 0}, seed=1, n_init=2, channel=blob_ids(), n_jobs=1)
    w = wide(table)
    assert plotted_fields() <= set(w.columns)
    left_out = [c for c in w.columns if c != "k" and not c.startswith(tuple(f"{a}_" for a in algorithms))]
    assert left_out and w[left_out].isna().all(axis=None)
    assert swept_algorithms(w) == [a for a in ("kmeans", "agglomerative", "gmm") if a in algorithms]
    pd.testing.assert_frame_equal(long(w, algorithms), table[long(w, algorithms).columns], check_dtype=False)


def test_pick_k_for_larger_and_smaller_is_better() -> None:
    table = pd.DataFrame({"algorithm": ["a"] * 3, "k": [2, 3, 4], "silhouette": [0.1, 0.5, 0.2], "davies_bouldin": [2.0, 0.5, 1.0], "inertia": [3.0, 2.0, 1.0], "bic": [np.nan] * 3})
    assert pick_k(table, "a", "silhouette") == 3
    assert pick_k(table, "a", "davies_bouldin") == 3
    assert pick_k(table, "a", "bic") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"k_min": 1}, r"select_k.k_min: must be at least 2 \(got 1\)"),
        ({"k_min": 4, "k_max": 3}, r"select_k.k_min/k_max: need 2 <= k_min <= k_max <= 99 for 100 customers, got 4..3"),
        ({"k_max": 500}, "select_k.k_min/k_max"),
        ({"algorithms": ["kmeans", "dbscan"]}, r"select_k.algorithms, item 2: must be one of kmeans, agglomerative, gmm \(got 'dbscan'\)"),
        ({"algorithms": []}, r"select_k.algorithms: must not be empty"),
        ({"criterion": "gap"}, r"select_k.criterion: must be one of elbow, silhouette, calinski_harabasz, davies_bouldin, bic, stability \(got 'gap'\)"),
    ],
)
def test_bad_select_k_params_name_the_key(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_params({**PARAMS, **change}, n_rows=100)


def test_no_more_segments_than_different_customers() -> None:
    """k-Means asked for more segments than there are different customers leaves some empty and scores a perfect
    silhouette of 1: a silent wrong answer, refused up front."""
    check_params(PARAMS, n_rows=20, n_distinct=5)
    with pytest.raises(ValueError, match=r"select_k.k_min/k_max: need 2 <= k_min <= k_max <= 4 for 20 customers \(4 of them different\), got 2..5"):
        check_params(PARAMS, n_rows=20, n_distinct=4)
    with pytest.raises(ValueError, match=r"<= 99 for 100 customers, got 2..500"):
        check_params({**PARAMS, "k_max": 500}, n_rows=100, n_distinct=100)


def test_bic_needs_the_mixture_as_served_algorithm() -> None:
    with pytest.raises(ValueError, match="select_k.criterion: 'bic'.*'kmeans'"):
        check_params({**PARAMS, "criterion": "bic"}, n_rows=100, served_algorithm="kmeans")
    check_params({**PARAMS, "criterion": "bic"}, n_rows=100, served_algorithm="gmm")


@pytest.mark.parametrize(("served", "swept", "message"), [
    ("kmeasn", ["kmeans", "gmm"], r"cluster.algorithm: must be one of kmeans, agglomerative, gmm \(got 'kmeasn'\)"),
    ("kmeans", ["gmm"], r"cluster.algorithm: 'kmeans' must also be listed in select_k.algorithms \(now \['gmm'\]\)"),
])
def test_a_served_algorithm_the_sweep_cannot_report_is_refused_before_the_sweep(served: str, swept: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_params({**PARAMS, "algorithms": swept}, n_rows=100, served_algorithm=served)


def test_the_sweep_records_how_far_each_partition_follows_the_channel_label() -> None:
    """The blobs' own ids as "Channel": recovered exactly at k = 3, not at 2 or 4; a reading that picks nothing."""
    table = sweep(blobs(), {**PARAMS, "bootstrap": 0}, seed=1, n_init=2, channel=blob_ids(), n_jobs=1)
    for algorithm in PARAMS["algorithms"]:
        ari = table[table["algorithm"] == algorithm].set_index("k")["channel_ari"]
        assert ari[3] == pytest.approx(1.0)
        assert ari[2] < 0.9 and ari[4] < 1.0
    shuffled = sweep(blobs(), {**PARAMS, "bootstrap": 0}, seed=1, n_init=2, channel=np.random.default_rng(0).permutation(blob_ids()), n_jobs=1)
    assert shuffled["channel_ari"].abs().max() < 0.1  # a label the partition ignores
    assert picks(shuffled) == picks(table)


def test_the_sweep_refuses_a_channel_of_other_customers() -> None:
    with pytest.raises(ValueError, match="channel: 89 labels for 90 customers"):
        sweep(blobs(), PARAMS, seed=1, n_init=2, channel=blob_ids()[1:], n_jobs=1)


def test_clustered_label_takes_the_clustered_rows_and_refuses_tables_that_do_not_line_up() -> None:
    customers = pd.DataFrame({"row": [0, 1, 2, 3], "Channel": [1, 2, 2, 1]})
    table = pd.DataFrame({"row": [0, 1, 2, 3], "clustered": [True, False, True, True]})
    assert clustered_label(customers, table).tolist() == [1, 2, 1]
    with pytest.raises(ValueError, match="customers.csv and data/processed/features.csv list different rows"):
        clustered_label(customers, table.iloc[[1, 0, 2, 3]])


def test_channel_ari_by_k_reads_the_served_algorithm_and_adds_the_served_k() -> None:
    w = pd.DataFrame({"k": [2, 3], "kmeans_channel_ari": [0.54, 0.37], "gmm_channel_ari": [np.nan, np.nan]})
    assert channel_ari_by_k(w, {"algorithm": "kmeans", "k": 9, "channel_ari": 0.1}) == {2: 0.54, 3: 0.37, 9: 0.1}
    assert channel_ari_by_k(w, {"algorithm": "gmm", "k": 3, "channel_ari": 0.4}) == {3: 0.4}


def test_k_note_gives_the_channel_label_as_the_case_for_more_segments_than_the_criterion_picks() -> None:
    note = k_note(3, 3, "silhouette", 2, {2: 0.535, 3: 0.369})
    assert note == ("The silhouette criterion (`select_k.criterion`) prefers k = 2; `params.yaml` sets `cluster.k: 3`, more "
                    "segments than it picks. At k = 2 the segments stay closer to the Channel label the distributor already "
                    "records (adjusted Rand index 0.54 with it); at k = 3 they depart further from it (0.37) and add "
                    "distinctions the label does not make.")
    # without the figures, or when the criterion's k is served, no claim about the label
    assert "Channel" not in k_note(3, 3, "silhouette", 2) and "Channel" not in k_note(2, 2, "silhouette", 2, {2: 0.5})
    assert "Channel" not in k_note(3, "auto", "silhouette", 3, {3: 0.5})


@pytest.mark.parametrize(("k", "chosen", "ari_k", "ari_chosen"), [
    (3, 2, 0.371, 0.369),  # the same at two decimals
    (3, 2, 0.45, 0.464),   # agglomerative's 0.45 against 0.46: no departure worth a sentence
    (2, 3, 0.50, 0.46),
])
def test_channel_note_reads_a_gap_under_the_threshold_as_none(k: int, chosen: int, ari_k: float, ari_chosen: float) -> None:
    assert channel_note(k, chosen, ari_k, ari_chosen) == (
        f"The adjusted Rand index with the Channel label is about the same at k = {k} ({ari_k:.2f}) and at k = {chosen} "
        f"({ari_chosen:.2f}), so the label favours neither.")
    assert "depart" not in channel_note(k, chosen, ari_k, ari_chosen)


def test_k_note_names_the_criterion_as_the_report_does() -> None:
    note = k_note(3, 3, "davies_bouldin", 2)
    assert note.startswith("The Davies–Bouldin criterion (`select_k.criterion`) prefers k = 2") and "davies_bouldin" not in note
    # BIC is the Bayesian information criterion: not "the BIC criterion"
    assert k_note(4, "auto", "bic", 4) == "`cluster.k` is `auto`, so k = 4 is the number of segments the BIC picks."
    assert k_note(4, 4, "bic", 4) == "k = 4 is set in `params.yaml` (`cluster.k`) and is also the BIC's pick."
    assert k_note(3, 3, "bic", 4).startswith("The BIC (`select_k.criterion`) prefers k = 4;")


@pytest.mark.parametrize(("k", "chosen", "ari_k", "ari_chosen"), [
    (3, 2, 0.60, 0.54),    # more segments, closer to the label: no case made from it
    (2, 3, 0.54, 0.37),    # fewer segments than the criterion's
])
def test_channel_note_only_states_the_figures_when_they_make_no_case(k: int, chosen: int, ari_k: float, ari_chosen: float) -> None:
    assert channel_note(k, chosen, ari_k, ari_chosen) == (
        f"The adjusted Rand index with the Channel label is {ari_k:.2f} at k = {k} and {ari_chosen:.2f} at k = {chosen}.")


def test_picks_text_states_the_bic_pick_where_the_algorithm_has_one() -> None:
    """`dvc exp run -S cluster.k=auto -S select_k.criterion=bic -S cluster.algorithm=gmm` printed "bic picks k = 3 for
    gmm", then "What the statistics prefer" listed every criterion's pick but the BIC's."""
    gmm: dict[str, int | None] = {"elbow": 6, "silhouette": 2, "calinski_harabasz": 2, "davies_bouldin": 2, "bic": 3, "stability": 2}
    assert picks_text(gmm) == ("the silhouette picks k = 2, Calinski–Harabasz k = 2, Davies–Bouldin k = 2, the BIC k = 3, "
                               "the elbow sits at k = 6 and bootstrap stability is highest at k = 2")
    assert "BIC" not in picks_text({**gmm, "bic": None})


@pytest.mark.parametrize(("k", "k_min", "k_max", "edges"), [
    (4, 2, 8, []), (8, 2, 8, ["k_max"]), (2, 2, 8, ["k_min"]), (4, 4, 8, ["k_min"]), (4, 4, 4, ["k_min", "k_max"]),
])
def test_sweep_edges_names_the_ends_a_pick_sits_on(k: int, k_min: int, k_max: int, edges: list[str]) -> None:
    assert sweep_edges(k, k_min, k_max) == edges


@pytest.mark.parametrize(("edges", "k_min", "k_max", "limit", "command"), [
    (["k_max"], 2, 8, 434, "dvc exp run -S select_k.k_max=16"),
    (["k_max"], 2, 8, 10, "dvc exp run -S select_k.k_max=10"),     # no more than the customers allow
    (["k_max"], 2, 8, 8, None),                                     # nothing above to look at
    (["k_min"], 4, 8, 434, "dvc exp run -S select_k.k_min=2"),
    (["k_min"], 2, 8, 434, None),                                   # one segment is no segmentation
    (["k_min", "k_max"], 4, 4, 434, "dvc exp run -S select_k.k_min=2 -S select_k.k_max=8"),
    ([], 2, 8, 434, None),
])
def test_widen_command_looks_past_the_ends_that_can_move(edges: list[str], k_min: int, k_max: int, limit: int, command: str | None) -> None:
    assert widen_command(edges, k_min, k_max, limit) == command


def test_a_pick_inside_the_sweep_says_nothing_and_one_at_two_says_what_it_does_not_show() -> None:
    assert edge_sentence("the silhouette criterion", 4, [], None) == ""
    assert edge_sentence("the silhouette criterion", 2, ["k_min"], None) == (
        "k = 2 is `select_k.k_min` and the fewest segments there can be (one segment is no segmentation), so the "
        "silhouette criterion could not look lower: its pick says that 2 segments score best among those swept, not "
        "that the customers fall into 2 clear groups.")
    assert "their picks say" in edge_sentence("the silhouette and Davies–Bouldin criteria", 2, ["k_min"], None, several=True)
    assert edge_sentence("the BIC", 4, ["k_min", "k_max"], "dvc exp run -S select_k.k_min=2 -S select_k.k_max=8") == (
        "Only k = 4 was swept (`select_k.k_min` = `select_k.k_max`), so the BIC had no other k to compare it with: widen "
        "the sweep to see (`dvc exp run -S select_k.k_min=2 -S select_k.k_max=8`).")
    assert edge_sentence("it", 9, ["k_max"], None) == (
        "k = 9 is `select_k.k_max` and the most segments these customers allow, so it picked the most there can be.")


def test_a_sweep_that_stops_below_the_best_k_says_so_where_the_pick_is_reported() -> None:
    """`dvc exp run -S features.pca.n_components=2 -S select_k.criterion=davies_bouldin -S cluster.k=auto`: Davies–Bouldin
    picked k = 8 = `select_k.k_max`, served as k = 8, and nothing said that its best may lie above the range swept."""
    params = {**PARAMS, "algorithms": ["kmeans"], "k_min": 2, "k_max": 4, "bootstrap": 1}
    table = sweep(blobs(k=6), params, seed=1, n_init=3, channel=np.repeat([1, 2], 90), n_jobs=1)
    prefers = picks(table)["kmeans"]
    assert prefers["silhouette"] == 4  # six blobs, at most four segments tried
    edges = sweep_edges(prefers["silhouette"], params["k_min"], params["k_max"])
    widen = widen_command(edges, params["k_min"], params["k_max"], limit=179)
    assert (edges, widen) == (["k_max"], "dvc exp run -S select_k.k_max=8")
    assert k_note(4, "auto", "silhouette", 4, None, edges, widen) == (
        "`cluster.k` is `auto`, so k = 4 is the number of segments the silhouette criterion picks. k = 4 is "
        "`select_k.k_max`, the most segments swept, so it may prefer more segments than the sweep tried: widen the sweep "
        "to see (`dvc exp run -S select_k.k_max=8`).")
    # a k set in params.yaml against that pick still hears that the sweep may have stopped short of the pick
    assert "widen the sweep to see (`dvc exp run -S select_k.k_max=8`)" in k_note(3, 3, "silhouette", 4, None, edges, widen)
    assert picks_edge_text(prefers, params["k_min"], params["k_max"], 179).startswith(
        "k = 4 is `select_k.k_max`, the most segments swept, so the silhouette, Calinski–Harabasz and Davies–Bouldin "
        "criteria may prefer more segments than the sweep tried")
    # swept far enough, the pick is inside the range and nothing is said
    wider = sweep(blobs(k=6), {**params, "k_max": 8}, seed=1, n_init=3, channel=np.repeat([1, 2], 90), n_jobs=1)
    assert picks(wider)["kmeans"]["silhouette"] == 6 and sweep_edges(6, 2, 8) == []


def test_a_served_k_set_against_a_pick_of_two_keeps_its_note_as_it_was() -> None:
    """The shipped case: silhouette picks k = 2 = `select_k.k_min`, `cluster.k: 3`. Nothing below 2 can be swept, so the
    note on the served k says nothing of the edge (notebook 3 does)."""
    assert k_note(3, 3, "silhouette", 2, None, ["k_min"], None) == k_note(3, 3, "silhouette", 2)


def test_the_picks_at_both_ends_are_grouped_by_end() -> None:
    prefers = {"elbow": 4, "silhouette": 2, "calinski_harabasz": 2, "davies_bouldin": 8, "bic": None, "stability": 2}
    assert picks_edge_text(prefers, 2, 8, 434) == (
        "k = 8 is `select_k.k_max`, the most segments swept, so the Davies–Bouldin criterion may prefer more segments "
        "than the sweep tried: widen the sweep to see (`dvc exp run -S select_k.k_max=16`). k = 2 is `select_k.k_min` and "
        "the fewest segments there can be (one segment is no segmentation), so the silhouette, Calinski–Harabasz and "
        "bootstrap stability criteria could not look lower: their picks say that 2 segments score best among those "
        "swept, not that the customers fall into 2 clear groups.")
    assert picks_edge_text({**prefers, "silhouette": 5, "calinski_harabasz": 5, "davies_bouldin": 5, "stability": 5}, 2, 8, 434) == ""


def scores(k_min: int, **columns: list[float]) -> pd.DataFrame:
    """A k-Means sweep by hand: k from ``k_min`` up, one list per criterion column, the others empty."""
    n = len(next(iter(columns.values())))
    table = pd.DataFrame({"algorithm": "kmeans", "k": range(k_min, k_min + n)})
    for column in ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "bic", "stability"):
        table[column] = columns.get(column, [np.nan] * n)
    return table


#: Davies–Bouldin of k-Means on two principal components of the shipped customers (`features.pca.n_components=2`),
#: k = 2…16: best at k = 8 with `select_k.k_max` 8, and at k = 16 again with `-S select_k.k_max=16`.
DB_TWO_COMPONENTS = [0.952, 0.906, 0.971, 0.876, 0.868, 0.833, 0.820, 0.834, 0.814, 0.812, 0.800, 0.833, 0.766, 0.758, 0.740]
#: The shipped run's k-Means sweep (k = 2…8): every criterion but the elbow picks k = 2.
SHIPPED = {"inertia": [1799.2, 1525.6, 1361.3, 1244.5, 1158.6, 1068.0, 1007.2],
           "silhouette": [0.296, 0.262, 0.184, 0.194, 0.180, 0.193, 0.193],
           "calinski_harabasz": [195.1, 153.5, 131.8, 118.0, 107.5, 103.0, 97.1],
           "davies_bouldin": [1.335, 1.371, 1.571, 1.503, 1.497, 1.442, 1.381],
           "stability": [0.885, 0.712, 0.673, 0.595, 0.531, 0.574, 0.631]}


@pytest.mark.parametrize(("values", "larger", "end", "improving"), [
    ([3.0, 2.0, 1.5, 1.2, 1.0], False, "k_max", True),     # falls at every step up to k_max, lower better
    ([1.0, 1.2, 1.5, 2.0, 3.0], True, "k_max", True),
    ([3.0, 2.0, 1.5, 1.6, 1.0], False, "k_max", False),    # worse one step before the end: a dip, may settle
    ([3.0, 1.5, 1.2, 1.0], False, "k_max", True),          # exactly TREND_STEPS steps
    ([1.5, 1.2, 1.0], False, "k_max", False),              # too few k to tell
    ([0.3, 0.26, 0.18, 0.19, 0.18], True, "k_min", False),  # the shipped silhouette: better at 2, 3, 4 only
    ([0.3, 0.26, 0.18, 0.17, 0.18], True, "k_min", True),
    ([1.0, 1.0, 1.0, 1.0, 1.0], True, "k_max", False),     # flat is not improving
])
def test_improves_into_end_needs_every_one_of_the_last_steps_better(values: list[float], larger: bool, end: str, improving: bool) -> None:
    assert TREND_STEPS == 3
    assert improves_into_end(np.array(values), larger, end) is improving


def test_improves_into_end_names_a_bad_end() -> None:
    with pytest.raises(ValueError, match="end: 'top' is neither 'k_min' nor 'k_max'"):
        improves_into_end(np.array([1.0, 2.0, 3.0, 4.0]), True, "top")


def test_davies_bouldin_on_two_components_keeps_improving_at_k_max_however_far_it_is_swept() -> None:
    """`dvc exp run -S features.pca.n_components=2 -S select_k.criterion=davies_bouldin -S cluster.k=auto`: k = 8 at
    `k_max` = 8, then k = 16 at `k_max` = 16; the notes advised widening as if that would settle."""
    for k_max in (8, 16):
        table = scores(2, davies_bouldin=DB_TWO_COMPONENTS[:k_max - 1])
        assert pick_k(table, "kmeans", "davies_bouldin") == k_max
        assert keeps_improving(table, "kmeans", "davies_bouldin")
        assert picks_keep_improving(table) == {"kmeans": ["davies_bouldin"]}


def test_the_shipped_picks_that_keep_improving_are_calinski_harabasz_and_stability_down_to_two() -> None:
    """Calinski–Harabasz falls at every k from 2 to 8 and stability at every k from 2 to 6; the silhouette and
    Davies–Bouldin also pick k = 2 but are worse at 4 than at 5, and the elbow reads a knee, never a trend."""
    table = scores(2, **SHIPPED)
    assert picks(table)["kmeans"] == {"elbow": 4, "silhouette": 2, "calinski_harabasz": 2, "davies_bouldin": 2, "bic": None,
                                      "stability": 2}
    assert picks_keep_improving(table) == {"kmeans": ["calinski_harabasz", "stability"]}


def test_an_interior_pick_and_the_elbow_never_keep_improving() -> None:
    table = scores(2, inertia=[100.0, 50.0, 20.0, 18.0, 16.0], silhouette=[0.1, 0.2, 0.5, 0.3, 0.2])
    assert not keeps_improving(table, "kmeans", "silhouette")
    assert not keeps_improving(table, "kmeans", "elbow")
    assert not keeps_improving(table, "kmeans", "bic")  # not swept for k-Means


def test_a_pick_that_keeps_improving_is_not_told_that_widening_will_settle_it() -> None:
    widen = "dvc exp run -S select_k.k_max=16"
    assert edge_sentence("the Davies–Bouldin criterion", 8, ["k_max"], widen, trend=True) == (
        "k = 8 is `select_k.k_max`, the most segments swept, and the Davies–Bouldin criterion scored better at every step "
        "from k = 5 to k = 8: on these customers it keeps preferring more segments, so widening the sweep "
        "(`dvc exp run -S select_k.k_max=16`) will likely move its pick to the new end again. Its pick is where the sweep "
        "ends, not a number of segments the customers call for: choose k by another criterion (`select_k.criterion`) or "
        "by what the segments are for (`cluster.k`).")
    assert edge_sentence("it", 9, ["k_max"], None, trend=True).startswith(
        "k = 9 is `select_k.k_max`, the most segments these customers allow, and it scored better at every step from "
        "k = 6 to k = 9: on these customers it keeps preferring more segments. Its pick is where the sweep ends")
    assert "will likely move its pick down to k = 2, the fewest there can be" in edge_sentence(
        "it", 4, ["k_min"], "dvc exp run -S select_k.k_min=2", trend=True)
    # one k swept has no steps to improve over: the sentence is the plain one
    assert edge_sentence("it", 4, ["k_min", "k_max"], None, trend=True) == edge_sentence("it", 4, ["k_min", "k_max"], None)


def test_notebook_3_tells_the_shipped_picks_at_two_that_keep_improving_apart() -> None:
    prefers = picks(scores(2, **SHIPPED))["kmeans"]
    assert picks_edge_text(prefers, 2, 8, 434, ["calinski_harabasz", "stability"]) == (
        "k = 2 is `select_k.k_min` and the fewest segments there can be (one segment is no segmentation), so the "
        "silhouette and Davies–Bouldin criteria could not look lower: their picks say that 2 segments score best among "
        "those swept, not that the customers fall into 2 clear groups. The Calinski–Harabasz and bootstrap stability "
        "criteria scored better at every step from k = 5 down to k = 2: on these customers they keep preferring fewer segments. "
        "Their picks are where the sweep ends, not a number of segments the customers call for: choose k by another "
        "criterion (`select_k.criterion`) or by what the segments are for (`cluster.k`).")
    # alone at its end, the sentence says what the end is
    assert picks_edge_text({**prefers, "davies_bouldin": 8}, 2, 8, 434, ["davies_bouldin"]).startswith(
        "k = 8 is `select_k.k_max`, the most segments swept, and the Davies–Bouldin criterion scored better at every step "
        "from k = 5 to k = 8")


def test_the_served_k_hears_when_the_criterion_keeps_improving() -> None:
    """With `cluster.k: auto` the note gives the trend instead of the advice to widen; a `cluster.k` set against a
    pick of 2 that keeps improving hears that the pick is no reason against it (a pick of 2 that does not, nothing)."""
    widen = "dvc exp run -S select_k.k_max=16"
    note = k_note(8, "auto", "davies_bouldin", 8, None, ["k_max"], widen, trend=True)
    assert "widen the sweep to see" not in note
    assert "will likely move its pick to the new end again" in note
    note = k_note(3, 3, "calinski_harabasz", 2, None, ["k_min"], None, trend=True)
    assert note.endswith("on these customers it keeps preferring fewer segments. Its pick is where the sweep ends, not a "
                         "number of segments the customers call for: choose k by another criterion "
                         "(`select_k.criterion`) or by what the segments are for (`cluster.k`).")
    assert k_note(3, 3, "silhouette", 2, None, ["k_min"], None, trend=False) == k_note(3, 3, "silhouette", 2)


def test_the_sweeps_silhouette_says_when_it_was_measured_on_fewer_components_than_categories() -> None:
    """`dvc exp run -S features.pca.n_components=2 …`: notebook 3 read "the best here, 0.416, means weak structure" with
    nothing saying that this silhouette is on two components (the served segments' `silhouette_reference`, over all six
    categories, was 0.16: no substantial structure)."""
    two = silhouette_range_text((0.337, 0.416), 2, 8, 2, 6)
    assert two.startswith("Across k = 2…8 the silhouette, measured on the first 2 principal components "
                          "(`features.pca.n_components: 2`) where the customers were clustered, ranges from 0.337 to 0.416 ")
    assert "the best here, 0.416, means weak structure)." in two
    assert two.endswith("not comparable with a silhouette over all the categories: compare experiments by "
                        "`silhouette_reference` (Analysis 4, `ml/metrics.json`), measured over all of them whatever "
                        "`features.pca.n_components` says.")
    # all the categories, or as many components as categories (a rotation: the same distances): nothing to add
    for n_components in (0, 6):
        assert silhouette_range_text((0.18, 0.296), 2, 8, n_components, 6) == (
            "Across k = 2…8 the silhouette ranges from 0.180 to 0.296 (Kaufman & Rousseeuw read under 0.26 as no "
            "substantial structure, 0.26 up to 0.51 as weak, 0.51 up to 0.71 as reasonable, 0.71 and above as strong "
            "structure; the best here, 0.296, means weak structure).")


def test_the_silhouette_range_names_a_preparation_other_than_the_references() -> None:
    """`dvc exp run -S features.scaler=robust`: notebook 3's "Across k = 2…8 the silhouette ranges from 0.191 to 0.254"
    was in the robust-scaled space and said nothing of it; with the reference's preparation it is unchanged."""
    from stages.select_k import prepared_otherwise
    robust = silhouette_range_text((0.191, 0.254), 2, 8, 0, 6, prepared_otherwise({"transform": "log", "scaler": "robust"}))
    assert robust.startswith("Across k = 2…8 the silhouette, measured in spending prepared with `features.scaler: robust` where "
                             "the customers were clustered, ranges from 0.191 to 0.254")
    assert robust.endswith("It is not comparable with one over log-scaled, standardised spending: a silhouette depends on how "
                           "spending is transformed and scaled; compare experiments by `silhouette_reference` (Analysis 4, "
                           "`ml/metrics.json`), measured over all the categories, log-scaled and standardised, whatever "
                           "`features.*` say.")
    plain = silhouette_range_text((0.191, 0.254), 2, 8, 0, 6, prepared_otherwise({"transform": "log", "scaler": "standard"}))
    assert plain == silhouette_range_text((0.191, 0.254), 2, 8, 0, 6) and "measured" not in plain
