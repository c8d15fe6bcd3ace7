"""Tests of stages.plots: figures carry the data they are given, and the notebooks embed plotly.js."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.io as pio

from stages import plots
from tests.conftest import FEATURES


def test_setup_plotly_embeds_the_library_instead_of_a_cdn() -> None:
    plots.setup_plotly()
    assert "notebook" in pio.renderers.default and "connected" not in pio.renderers.default


def test_segment_colours_cycle() -> None:
    assert plots.colour(0) == plots.SEGMENT_COLOURS[0]
    assert plots.colour(len(plots.SEGMENT_COLOURS)) == plots.SEGMENT_COLOURS[0]


def test_pca_map_has_one_trace_per_segment_plus_centres() -> None:
    points = pd.DataFrame({"PC1": [0.0, 1.0, 2.0], "PC2": [0.0, 1.0, 0.5], "segment": [0, 1, 1], **{c: [1, 2, 3] for c in FEATURES}})
    fig = plots.pca_map(points, np.array([[0.0, 0.0], [1.5, 0.75]]), ["a", "b"], FEATURES)
    assert [t.name for t in fig.data] == ["0: a", "1: b", "segment centres"]
    assert list(fig.data[1].x) == [1.0, 2.0]
    unnamed = plots.pca_map(points, np.array([[0.0, 0.0], [1.5, 0.75]]), None, FEATURES)  # notebook 4 read "0: segment 0"
    assert [t.name for t in unnamed.data] == ["segment 0", "segment 1", "segment centres"]


def test_pca_map_axes_say_what_each_direction_means() -> None:
    loadings = {"PC1": {"Fresh": -0.1, "Milk": 0.6, "Grocery": 0.7}, "PC2": {"Fresh": 0.9, "Milk": 0.1, "Grocery": -0.2}}
    titles = plots.map_axis_titles([0.44, 0.26, 0.3], loadings)
    assert titles == ["PC1 (44%): more milk products, groceries →", "PC2 (26%): more fresh food →"]
    points = pd.DataFrame({"PC1": [0.0, 1.0], "PC2": [0.0, 1.0], "segment": [0, 0], **{c: [1, 2] for c in FEATURES}})
    fig = plots.pca_map(points, np.array([[0.5, 0.5]]), ["a"], FEATURES, titles)
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == tuple(titles)


def test_k_sweep_curves_skip_criteria_an_algorithm_lacks() -> None:
    table = pd.DataFrame({"algorithm": ["kmeans"] * 2 + ["gmm"] * 2, "k": [2, 3, 2, 3], "inertia": [2.0, 1.0, 2.5, 1.5],
                          "silhouette": [0.3, 0.2, 0.3, 0.1], "calinski_harabasz": [1.0, 2.0, 1.0, 2.0], "davies_bouldin": [1.0, 1.1, 1.0, 1.2],
                          "bic": [np.nan, np.nan, 10.0, 9.0], "stability": [0.9, 0.8, 0.7, 0.6], "channel_ari": [0.5, 0.4, 0.6, 0.3]})
    fig = plots.k_sweep_curves(table)
    assert sum(1 for t in fig.data if t.name == "kmeans") == 6 and sum(1 for t in fig.data if t.name == "gmm") == 7
    # the Channel agreement is a panel of its own, named as no criterion
    titles = [a.text for a in fig.layout.annotations]
    assert titles[-1] == "ARI with Channel (not a criterion)"
    assert [list(t.y) for t in fig.data if t.yaxis == "y7"] == [[0.5, 0.4], [0.6, 0.3]]


def test_k_sweep_curves_draw_no_empty_panel_for_a_criterion_no_algorithm_has() -> None:
    """`dvc exp run -S select_k.algorithms=[kmeans]`: the sweep figure showed a "BIC (mixture) ↓" panel with nothing in it."""
    table = pd.DataFrame({"algorithm": ["kmeans"] * 2, "k": [2, 3], "inertia": [2.0, 1.0], "silhouette": [0.3, 0.2],
                          "calinski_harabasz": [1.0, 2.0], "davies_bouldin": [1.0, 1.1], "bic": [np.nan, np.nan],
                          "stability": [0.9, 0.8], "channel_ari": [0.5, 0.4]})
    fig = plots.k_sweep_curves(table)
    titles = [a.text for a in fig.layout.annotations]
    assert not any("BIC" in t for t in titles) and len(titles) == 6 == len(fig.data)
    assert titles[-1] == "ARI with Channel (not a criterion)" and [list(t.y) for t in fig.data if t.yaxis == "y6"] == [[0.5, 0.4]]


def test_silhouette_plot_draws_every_customer() -> None:
    rng = np.random.default_rng(0)
    S = np.vstack([rng.normal(0, 0.1, (10, 2)), rng.normal(5, 0.1, (10, 2))])
    fig = plots.silhouette_plot(S, np.repeat([0, 1], 10))
    assert sum(len(t.x) for t in fig.data) == 20


def test_persona_profiles_plot_every_category_of_every_persona() -> None:
    personas = [{"id": i, "name": f"p{i}", "profile": {c: 1.0 + i for c in FEATURES}} for i in range(2)]
    fig = plots.persona_profiles(personas, FEATURES)
    assert [list(t.y) for t in fig.data] == [[1.0] * 6, [2.0] * 6]
    assert fig.layout.xaxis.ticktext is None  # every category is bought by most customers: labelled as they are named


def test_a_category_most_customers_buy_none_of_has_no_ratio_bar_and_says_why() -> None:
    """Against a base median of 0, counted as 1, a segment with a median of 854 drew a bar at 854× the typical
    customer on the log scale. No bar for it, and its label says most customers buy none."""
    personas = [{"id": i, "name": f"p{i}", "profile": {**{c: 1.0 + i for c in FEATURES}, "Frozen": [1.0, 854.0][i]},
                 "most_buy_none": ["Frozen"]} for i in range(2)]
    fig = plots.persona_profiles(personas, FEATURES)
    assert [list(t.y) for t in fig.data] == [[1.0, 1.0, 1.0, None, 1.0, 1.0], [2.0, 2.0, 2.0, None, 2.0, 2.0]]
    assert list(fig.layout.xaxis.ticktext)[3] == "Frozen<br>(no bar: most customers buy none)"
    assert list(fig.layout.xaxis.ticktext)[:3] == FEATURES[:3]


def test_distributions_name_their_axes() -> None:
    raw = pd.DataFrame({c: [1.0, 10.0, 100.0] for c in FEATURES})
    fig = plots.distributions(raw, np.log(raw), "log")
    assert fig.layout.xaxis.title.text == "yearly spending (monetary units)"
    assert fig.layout[f"xaxis{len(FEATURES) + 1}"].title.text == "log of yearly spending"
    assert fig.layout.yaxis.title.text == fig.layout[f"yaxis{len(FEATURES) + 1}"].title.text == "customers"


def test_distributions_without_a_transform_draw_the_raw_spending_once() -> None:
    """`features.transform=none` drew the raw histograms twice, the second row titled "Fresh (none)" on an axis
    "none of yearly spending" under "raw (top) and transformed (bottom)"."""
    raw = pd.DataFrame({c: [1.0, 10.0, 100.0] for c in FEATURES})
    fig = plots.distributions(raw, raw, "none")
    assert len(fig.data) == len(FEATURES)
    assert [a.text for a in fig.layout.annotations] == FEATURES
    assert "none of" not in fig.to_json() and "transformed" not in fig.layout.title.text
    assert "`" not in fig.layout.title.text  # a plotly title shows backticks as they are
    assert fig.layout.xaxis.title.text == "yearly spending (monetary units)"


def test_correlation_title_names_the_spending_it_correlates() -> None:
    assert plots.correlation_title("log") == "Correlation between categories (transformed, clustered customers)"
    assert plots.correlation_title("none") == "Correlation between categories (raw spending, clustered customers)"
