"""Figures of the notebooks and the report: Plotly, with the library embedded so pages work offline."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from numpy.typing import NDArray
from plotly.subplots import make_subplots
from sklearn.metrics import silhouette_samples

from stages.names import MOST_BUY_NONE, axis_meaning, times

#: Colour of each segment id (colour-blind safe, Okabe–Ito), shared with the staff page.
SEGMENT_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#999999", "#882255"]


def setup_plotly() -> None:
    """Embed plotly.js in the notebook output itself (no CDN), so the report works offline."""
    from plotly.io.base_renderers import NotebookRenderer

    class OfflineNotebookRenderer(NotebookRenderer):
        """Plotly's "notebook" renderer (plotly.js inline, once per notebook) minus the MathJax
        <script> it loads from a CDN in every figure: no figure here uses LaTeX."""

        def to_mimebundle(self, fig_dict: dict[str, Any]) -> dict[str, str]:
            html = pio.to_html(
                fig_dict, config=self.config, auto_play=self.auto_play, include_plotlyjs=False,
                include_mathjax=False, full_html=False, animation_opts=self.animation_opts,
                default_width="100%", default_height=525, validate=False,
            )
            return {"text/html": html}

    pio.renderers["notebook_offline"] = OfflineNotebookRenderer()
    pio.renderers.default = "notebook_offline"
    pio.templates.default = "plotly_white"


def colour(segment: int) -> str:
    """Colour of a segment id."""
    return SEGMENT_COLOURS[segment % len(SEGMENT_COLOURS)]


def distributions(before: pd.DataFrame, after: pd.DataFrame, transform: str) -> go.Figure:
    """Histogram of every category, raw spending above and after ``transform`` (``features.transform``) below; one
    row only when the transform is ``none``, where a second row would repeat the first under the name "none"."""
    cols = list(before.columns)
    if transform == "none":
        fig = make_subplots(rows=1, cols=len(cols), subplot_titles=cols)
        title = "Spending per category, as recorded (no transform: features.transform is none)"  # plotly shows no markdown
    else:
        fig = make_subplots(rows=2, cols=len(cols), subplot_titles=cols + [f"{c} ({transform})" for c in cols])
        title = "Spending per category: raw (top) and transformed (bottom)"
    for i, c in enumerate(cols, start=1):
        fig.add_trace(go.Histogram(x=before[c], nbinsx=30, marker_color="#0072B2", showlegend=False), row=1, col=i)
        if transform != "none":
            fig.add_trace(go.Histogram(x=after[c], nbinsx=30, marker_color="#E69F00", showlegend=False), row=2, col=i)
    fig.update_layout(height=520 if transform != "none" else 300, title=title, bargap=0.05)
    fig.update_annotations(font_size=10)
    fig.update_yaxes(title_text="customers", title_font_size=10, col=1)
    fig.update_xaxes(title_text="yearly spending (monetary units)", title_font_size=10, row=1, col=1)
    if transform != "none":
        fig.update_xaxes(title_text=f"{transform} of yearly spending", title_font_size=10, row=2, col=1)
    return fig


def correlation_title(transform: str) -> str:
    """Title of the correlation heat map of notebook 2: of the transformed spending, or of the raw spending when
    ``features.transform`` is ``none``."""
    spending = "raw spending" if transform == "none" else "transformed"
    return f"Correlation between categories ({spending}, clustered customers)"


def correlations(frame: pd.DataFrame, title: str) -> go.Figure:
    """Heat map of the Pearson correlations between categories."""
    corr = frame.corr().round(2)
    fig = go.Figure(go.Heatmap(z=corr.values, x=corr.columns, y=corr.index, zmin=-1, zmax=1, colorscale="RdBu", text=corr.values, texttemplate="%{text}"))
    fig.update_layout(title=title, height=460)
    return fig


def explained_variance(ratios: list[float]) -> go.Figure:
    """Bar chart of each principal component's share of variance, with the cumulative line."""
    names = [f"PC{i + 1}" for i in range(len(ratios))]
    fig = go.Figure([go.Bar(x=names, y=ratios, name="share"), go.Scatter(x=names, y=np.cumsum(ratios), name="cumulative", mode="lines+markers")])
    fig.update_layout(title="Variance explained by each principal component", yaxis_tickformat=".0%", height=400)
    return fig


def biplot(pcs: pd.DataFrame, loadings: dict[str, dict[str, float]], hover: pd.DataFrame) -> go.Figure:
    """Customers on the first two components with the category loadings as arrows."""
    fig = go.Figure(go.Scatter(x=pcs["PC1"], y=pcs["PC2"], mode="markers", marker=dict(size=5, color="#999999", opacity=0.6), name="customers", customdata=hover.values, hovertemplate=_hover(hover.columns)))
    scale = float(np.abs(pcs[["PC1", "PC2"]].values).max())
    for cat in loadings["PC1"]:
        x, y = loadings["PC1"][cat] * scale, loadings["PC2"][cat] * scale
        fig.add_annotation(x=x, y=y, ax=0, ay=0, xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=2, arrowcolor="#D55E00", text=cat, font=dict(color="#D55E00"))
    fig.update_layout(title="Biplot: customers and category loadings on PC1 and PC2", xaxis_title="PC1", yaxis_title="PC2", height=520)
    return fig


def _hover(columns: Any) -> str:
    return "<br>".join(f"{c}: %{{customdata[{i}]:,}}" for i, c in enumerate(columns)) + "<extra></extra>"


def k_sweep_curves(table: pd.DataFrame) -> go.Figure:
    """Elbow (inertia), silhouette, Calinski–Harabasz, Davies–Bouldin, BIC and stability against k, and beside them
    the agreement with the Channel label, which picks nothing. A criterion no swept algorithm has (the BIC when the
    mixture was not swept) gets no panel, rather than an empty one under its title."""
    panels = [("inertia", "Inertia (elbow)"), ("silhouette", "Silhouette ↑"), ("calinski_harabasz", "Calinski–Harabasz ↑"), ("davies_bouldin", "Davies–Bouldin ↓"), ("bic", "BIC (mixture) ↓"), ("stability", "Bootstrap stability (ARI) ↑"), ("channel_ari", "ARI with Channel (not a criterion)")]
    panels = [(col, title) for col, title in panels if table[col].notna().any()]
    cols = 4
    fig = make_subplots(rows=-(-len(panels) // cols), cols=cols, subplot_titles=[t for _, t in panels])
    for a_i, (algorithm, sub) in enumerate(table.groupby("algorithm", sort=False)):
        for p_i, (col, _) in enumerate(panels):
            if sub[col].isna().all():
                continue
            fig.add_trace(go.Scatter(x=sub["k"], y=sub[col], mode="lines+markers", name=algorithm, legendgroup=algorithm, showlegend=p_i == 0, line_color=colour(a_i)), row=p_i // cols + 1, col=p_i % cols + 1)
    fig.update_layout(height=600, title="Choosing the number of segments")
    fig.update_xaxes(dtick=1, title_text="k")
    return fig


def map_axis_titles(explained_variance: list[float], loadings: dict[str, dict[str, float]]) -> list[str]:
    """The PCA map's two axis titles: the component, its share of the variation and what moving along it means
    (:func:`stages.names.axis_meaning`, the words the staff page shows): ``"PC1 (44%): more milk products, … →"``."""
    return [f"PC{i} ({explained_variance[i - 1]:.0%}): {axis_meaning(loadings[f'PC{i}'])} →" for i in (1, 2)]


def pca_map(
    points: pd.DataFrame, centres: NDArray[np.float64], names: list[str] | None, hover_cols: list[str], axis_titles: list[str] | None = None
) -> go.Figure:
    """Customers on PC1/PC2 coloured by segment, with segment centres and spending on hover; ``axis_titles``
    (:func:`map_axis_titles`) in place of the bare component names. The legend reads "0: *name*", or "segment 0"
    without ``names`` (the clustering notebook draws the map before the personas are named)."""
    fig = go.Figure()
    for seg in sorted(points["segment"].unique()):
        sub = points[points["segment"] == seg]
        fig.add_trace(go.Scatter(x=sub["PC1"], y=sub["PC2"], mode="markers", name=f"segment {seg}" if names is None else f"{seg}: {names[seg]}", marker=dict(color=colour(int(seg)), size=6, opacity=0.75), customdata=sub[hover_cols].values, hovertemplate=_hover(hover_cols)))
    fig.add_trace(go.Scatter(x=centres[:, 0], y=centres[:, 1], mode="markers+text", name="segment centres", text=[str(i) for i in range(len(centres))], textposition="top center", marker=dict(symbol="x", size=14, color="black")))
    x_title, y_title = axis_titles or ["PC1", "PC2"]
    fig.update_layout(title="Customers on the first two principal components, by segment", xaxis_title=x_title, yaxis_title=y_title, height=560)
    return fig


def silhouette_plot(S: NDArray[np.float64], labels: NDArray[np.int64]) -> go.Figure:
    """Per-customer silhouette values, sorted within each segment."""
    values = silhouette_samples(S, labels)
    fig = go.Figure()
    y0 = 0
    for seg in range(int(labels.max()) + 1):
        v = np.sort(values[labels == seg])[::-1]
        fig.add_trace(go.Bar(x=v, y=np.arange(y0, y0 + len(v)), orientation="h", marker_color=colour(seg), name=f"segment {seg}", width=1.0))
        y0 += len(v) + 5
    fig.add_vline(x=float(values.mean()), line_dash="dash", annotation_text=f"mean {values.mean():.2f}")
    fig.update_layout(title="Silhouette of each customer, by segment", xaxis_title="silhouette", yaxis_visible=False, height=520, bargap=0)
    return fig


def persona_profiles(personas: list[dict[str, Any]], features: list[str]) -> go.Figure:
    """Each persona's median spend per category relative to the whole base (1 = typical customer). A category most
    customers buy none of (a persona's ``most_buy_none``, :func:`stages.personas.most_buy_none`) has no bar, its
    ratio being the segment's median amount, and its label says why; the persona's description gives the amount."""
    none = {c for p in personas for c in p.get("most_buy_none", [])}
    fig = go.Figure()
    for p in personas:
        fig.add_trace(go.Bar(x=features, y=[None if c in none else p["profile"][c] for c in features], name=f"{p['id']}: {p['name']}", marker_color=colour(p["id"]),
                             customdata=[MOST_BUY_NONE if c in none else times(p["profile"][c]) for c in features],
                             hovertemplate="%{x}: %{customdata}<extra>%{fullData.name}</extra>"))  # the ratio as the texts print it
    fig.add_hline(y=1.0, line_dash="dot", annotation_text="whole base")
    fig.update_layout(barmode="group", yaxis_type="log", yaxis_title="median spend ÷ base median", title="What each segment buys, relative to the typical customer", height=480)
    if none:  # labelled only then, so the figure of data where every category is bought stays as it was
        fig.update_xaxes(tickvals=features, ticktext=[f"{c}<br>(no bar: {MOST_BUY_NONE})" if c in none else c for c in features])
    return fig
