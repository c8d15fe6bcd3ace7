"""Stage report: every figure the report site (``site/``) quotes, written from the pipeline's outputs.

``python -m stages.report`` writes ``site/_variables.yml`` (read in pages with ``{{< var key >}}``) and the
markdown includes in ``site/_generated/`` (persona cards, parameter, checksum and version tables, and the sentences
whose wording depends on ``params.yaml``), so no page carries a hand-typed number or a claim a parameter can falsify. ``python -m stages.report post-render`` is Quarto's post-render hook: it removes
the require.js and jQuery tags Quarto adds from a CDN for notebook HTML output (nothing on these pages uses them)
and fails if any page still loads something from the network, so the site works offline.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.io as pio
import yaml

from stages import artifacts, config, plots
from stages.names import (
    algorithm_name, algorithm_phrase, counted, pca_use, percent, percents, sentence_start, whole, words_list,
)
from stages.dataset import CATEGORY_NAMES
from stages.features import outlier_rule_text
from stages.segmenter import ATYPICAL_QUANTILE
from stages.select_k import (
    agreement_reading, agreement_text, channel_ari_by_k, channel_ari_text, metrics_channel_reading, fitted_space, measured_elsewhere, prepared_otherwise,
    k_note, silhouette_band, silhouette_strength, silhouette_texts, stability_reading, stability_text,
)

SITE = config.ROOT / "site"
VARIABLES = SITE / "_variables.yml"
GENERATED = SITE / "_generated"
#: The project's own distribution name: its declared dependencies are the packages whose versions the report lists.
DISTRIBUTION = "wholesale-segmentation"
#: Stages whose outputs are not pipeline results (this one writes the site's inputs).
NOT_PIPELINE = ("report",)
#: What each band means for a reader deciding how much to trust the segment boundaries.
SILHOUETTE_READINGS = {
    "strong": "the segments are clearly separated groups",
    "reasonable": "the segments are reasonably well separated",
    "weak": ("customers vary continuously rather than falling into tight groups: the segments summarise that "
             "continuum usefully, but a customer near a boundary could reasonably belong to either side"),
    "no substantial": ("the data show little group structure: treat the segments as a convenient summary, "
                       "not as natural groups"),
}


def lock_outputs(lock: dict[str, Any], exclude: tuple[str, ...] = NOT_PIPELINE) -> list[dict[str, str]]:
    """Every output recorded in ``dvc.lock`` as {stage, path, md5}, in pipeline order, minus ``exclude`` stages."""
    rows = []
    for stage, entry in lock.get("stages", {}).items():
        if stage in exclude:
            continue
        for out in entry.get("outs", []):
            rows.append({"stage": stage, "path": out["path"], "md5": str(out.get("md5", ""))})
    return rows


def lock_md5(outputs: list[dict[str, str]], path: str) -> str:
    """The md5 ``dvc.lock`` records for one output path."""
    for row in outputs:
        if row["path"] == path:
            return row["md5"]
    raise KeyError(f"dvc.lock records no output {path}: run `dvc repro`")


def flatten_params(params: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """``params.yaml`` as (dotted key, value) rows; lists are joined with commas."""
    rows: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += flatten_params(value, f"{name}.")
        elif isinstance(value, list):
            rows.append((name, ", ".join(str(v) for v in value)))
        else:
            rows.append((name, str(value)))
    return rows


def requirement_names(requirements: list[str]) -> list[str]:
    """Names of the unconditional requirements (no extras, no markers) in ``importlib.metadata.requires`` form."""
    return [re.split(r"[\s;<>=!~\[(]", r, maxsplit=1)[0] for r in requirements if ";" not in r]


def package_versions(names: list[str]) -> dict[str, str]:
    """Installed version of each named distribution."""
    return {name: metadata.version(name) for name in names}


def site_variables(metrics: dict[str, Any], personas: list[dict[str, Any]], data_report: dict[str, Any],
                   select_k: dict[str, Any], k_sweep: pd.DataFrame, params: dict[str, Any],
                   outputs: list[dict[str, str]]) -> dict[str, Any]:
    """The values pages quote with ``{{< var key >}}``, each already formatted as text (``k_sweep``:
    ``ml/plots/k_sweep.csv``)."""
    channel, region = data_report["labels"]["Channel"], data_report["labels"]["Region"]
    n_rows = data_report["n_rows"]
    ev = metrics["pca_explained_variance"]
    n_components, n_features = int(params["features"]["pca"]["n_components"]), len(params["data"]["features"])
    otherwise = prepared_otherwise(params["features"])
    silhouette, silhouette_reference = silhouette_texts(metrics["silhouette"], metrics["silhouette_reference"])
    horeca_share, retail_share = percents([channel["Horeca"] / n_rows, channel["Retail"] / n_rows])
    return {
        "data": {
            "n_rows": whole(n_rows),
            "n_features": str(len(params["data"]["features"])),
            "n_customers": whole(metrics["n_customers"]),
            "md5": data_report["md5"],
            "horeca": whole(channel["Horeca"]), "retail": whole(channel["Retail"]),
            "horeca_share": horeca_share, "retail_share": retail_share,
            "lisbon": whole(region["Lisbon"]), "oporto": whole(region["Oporto"]), "other": whole(region["Other"]),
            "region_note": region_note(region), "region_limit": region_limit(region),
            "missing": counted(sum(data_report["missing"].values()), "missing value", "missing values"),
            "duplicates": counted(data_report["duplicates"]["n_groups"], "group of duplicate rows", "groups of duplicate rows"),
        },
        "method": {
            "missing_rule": missing_rule(params["data"]["impute"]),
            "pca_components": str(params["features"]["pca"]["n_components"]),
            "pca_use": pca_use(n_components, n_features),
            "pc1": percent(ev[0]), "pc2": percent(ev[1]), "pc12": percent(ev[0] + ev[1]),
            "k_min": str(params["select_k"]["k_min"]), "k_max": str(params["select_k"]["k_max"]),
            "algorithms": words_list([algorithm_name(a) for a in params["select_k"]["algorithms"]]),
            "swept": swept_text(params["select_k"]["algorithms"]),
            "criteria": criteria_text(params["select_k"]["algorithms"]),
            "bootstrap": str(params["select_k"]["bootstrap"]),
            "seed": str(params["base"]["seed"]),
        },
        "model": {
            "k": str(metrics["k"]),
            "algorithm": algorithm_name(metrics["algorithm"]),
            "algorithm_phrase": algorithm_phrase(metrics["algorithm"]),
            "criterion": select_k["criterion"],
            "chosen_k": str(select_k["chosen_k"]),
            "k_note": k_note(metrics["k"], params["cluster"]["k"], select_k["criterion"], select_k["chosen_k"],
                             channel_ari_by_k(k_sweep, metrics), select_k["at_edge"], select_k["widen"],
                             select_k["keeps_improving"]),
            "silhouette": silhouette,
            "silhouette_strength": silhouette_strength(metrics["silhouette"]),
            "silhouette_reference": silhouette_reference,
            "separation": separation_text(metrics["silhouette"], metrics["silhouette_reference"], n_components, n_features, otherwise),
            "silhouette_in_space": silhouette_in_space_text(metrics["silhouette"], metrics["silhouette_reference"], n_components, n_features, otherwise),
            "calinski_harabasz": whole(metrics["calinski_harabasz"]),
            "davies_bouldin": f"{metrics['davies_bouldin']:.2f}",
            "stability_ari": stability_text(metrics["stability_ari"]),
            "agreement_ari": agreement_text(metrics["agreement_ari"]),
            "agreement_reading": agreement_reading(metrics["agreement_ari"]),
            "stability_reading": stability_reading(metrics["stability_ari"]),
            "channel_reading": metrics_channel_reading(metrics),
            "channel_accuracy": percent(metrics["channel_accuracy"]),
            "channel_baseline": percent(metrics["channel_baseline"]),
            "channel_ari": channel_ari_text(metrics["channel_ari"]),
            "version": lock_md5(outputs, "ml/segmenter.json"),
            "atypical_share": percent(ATYPICAL_QUANTILE),
            "atypical_segment": atypical_segment(metrics["algorithm"]),
        },
        "personas": {
            "count": str(len(personas)),
            "largest": largest_text(personas),
        },
    }


def atypical_segment(algorithm: str) -> str:
    """Methods page, after "marks a customer beyond that as *atypical*: it still gets": the segment the served model
    (``cluster.algorithm``) gives it. A Gaussian mixture gives the most probable one, which need not be the nearest
    (``cluster.algorithm=gmm``: the page said "the nearest segment" for it too)."""
    if algorithm == "gmm":
        return "its most probable segment (a Gaussian mixture weighs each segment's size and spread, so it need not be the nearest)"
    return "the nearest segment"


def separation_text(silhouette: float, reference: float, n_components: int, n_features: int, otherwise: list[str] | None = None) -> str:
    """Home page, "Separation": Kaufman & Rousseeuw's band and what it means for the segments, read on a silhouette
    over every category, log-scaled and standardised. That is ``silhouette`` (the clustering space's) when the
    segments were fitted there; on fewer principal components, or on spending prepared ``otherwise``
    (:func:`prepared_otherwise`), it is ``reference`` (``silhouette_reference``), and the sentence gives both, each
    with its space: the silhouette on two components read 0.40, *weak*, where over all six it was 0.257."""
    otherwise = otherwise or []
    elsewhere = measured_elsewhere(n_components, n_features, otherwise)
    over_all = reference if elsewhere else silhouette
    in_space, reference_text = silhouette_texts(silhouette, reference)  # as the methods page quotes them
    quoted = reference_text if elsewhere else in_space
    reading = (f"the average silhouette is {quoted}, {silhouette_band(over_all, quoted)} on Kaufman and "
               f"Rousseeuw's scale; {SILHOUETTE_READINGS[silhouette_strength(over_all)]}.")
    if not elsewhere:
        return sentence_start(reading)
    where, why = fitted_space(n_components, n_features, otherwise)
    prepared = ", log-scaled and standardised" if otherwise else ""
    return (f"Over all {n_features} categories{prepared}, every customer counted, {reading} {sentence_start(where)}, "
            f"where the segments were fitted, it is {in_space}, which {why}.")


def silhouette_in_space_text(silhouette: float, reference: float, n_components: int, n_features: int, otherwise: list[str] | None = None) -> str:
    """Methods page, after "Silhouette 0.26 (…):": its band, and when the segments were fitted on fewer principal
    components than categories or on spending prepared ``otherwise`` (:func:`prepared_otherwise`), where it was
    measured and the reference silhouette's band over all of them."""
    otherwise = otherwise or []
    band = silhouette_band(silhouette, silhouette_texts(silhouette, reference)[0])  # after "Silhouette 0.26 (…):"
    if not measured_elsewhere(n_components, n_features, otherwise):
        return band
    where, why = fitted_space(n_components, n_features, otherwise)
    return (f"{band} {where}, where the segments were fitted, which {why}; "
            f"over all the categories the reference silhouette below reads {silhouette_band(reference)}")


def _most_common_region(region: dict[str, int]) -> str | None:
    """The region more than half the customers are in, if there is one."""
    top = max(region, key=lambda name: region[name])
    return top if region[top] > sum(region.values()) / 2 else None


def _quoted(name: str) -> str:
    return f'"{name}"' if name == "Other" else name


def _none_in(region: dict[str, int]) -> list[str]:
    return [_quoted(name) for name, n in region.items() if n == 0]


def region_note(region: dict[str, int]) -> str:
    """Data page, limits: where the customers are (``region``: customers per Region name), 'with most customers in
    the catch-all region "Other" (72%)', or in another region, or spread over them, naming a region with none."""
    n, top, none = sum(region.values()), _most_common_region(region), _none_in(region)
    if top is not None:
        where = 'the catch-all region "Other"' if top == "Other" else top
        text = f"with most customers in {where} ({percent(region[top] / n)})"
    else:
        present = [name for name in region if region[name]]
        shares = percents([region[name] / n for name in present])
        text = "with customers in " + words_list([f"{_quoted(name)} ({s})" for name, s in zip(present, shares, strict=True)])
    return text + (f", and none in {words_list(none)}" if none else "")


def region_limit(region: dict[str, int]) -> str:
    """Home page, limits of the data: the bullet on Region, '**Region is mostly "Other"** (316 customers, 72%, against
    Lisbon 77 and Oporto 47), so nothing regional can be concluded with confidence.' for the UCI data, and what holds
    instead for data where another region, or none, has most customers, or a region has none."""
    n, top, none = sum(region.values()), _most_common_region(region), _none_in(region)
    if top is not None:
        others = words_list([f"{_quoted(name)} {whole(region[name])}" for name in region if name != top])
        head = f"**Region is mostly {_quoted(top)}** ({whole(region[top])} customers, {percent(region[top] / n)}, against {others})"
        text = head + (", so nothing regional can be concluded with confidence." if top == "Other" else
                       f", so the segments describe {top}'s customers above all.")
    else:
        text = ("**Region** (" + words_list([f"{_quoted(name)} {whole(c)}" for name, c in region.items() if c])
                + " customers) was never used to fit the segments; the Personas page gives each one's region mix.")
    if none:
        them = "it" if len(none) == 1 else "them"
        text += f" No customer is in {words_list(none)}, so nothing here is known about {them}."
    return text


def swept_text(algorithms: list[str]) -> str:
    """Methods page, the subject of "… was fitted for k = 2 to 8": 'Every method (k-Means, agglomerative (Ward) and
    Gaussian mixture)', 'Each method (k-Means and Gaussian mixture)' for two, and for one 'k-Means, the only method in
    `select_k.algorithms`,' (not "Every method (k-Means)")."""
    names = [algorithm_name(a) for a in algorithms]
    if len(names) == 1:
        return f"{names[0]}, the only method in `select_k.algorithms`,"
    return f"{'Each' if len(names) == 2 else 'Every'} method ({words_list(names)})"


def criteria_text(algorithms: list[str]) -> str:
    """The criteria the k sweep scored, as a list in words: the mixture's BIC only when the mixture was swept."""
    criteria = ["the elbow of within-segment spread", "the silhouette", "the Calinski–Harabasz and Davies–Bouldin indices"]
    if "gmm" in algorithms:
        criteria.append("the Gaussian mixture's BIC")
    return ", ".join(criteria)


def largest_text(personas: list[dict[str, Any]]) -> str:
    """'The largest, *Name*, is 49% of the base.' ('The larger' of two), for segments of the same size 'The largest,
    *A* and *B*, are 29% of the base each.', and when every segment has that size '*A* and *B* are the same size, 50%
    of the base each.' Where the table's percents of equal shares differ (34%, 33%, 33%), '40 customers each'."""
    size = max(p["size"] for p in personas)
    names = [f"*{p['name']}*" for p in personas if p["size"] == size]
    # as the table shows them, where the largest remainder can give one of equal shares a point more (34%, 33%, 33%)
    shares = [t for p, t in zip(personas, percents([p["share"] for p in personas]), strict=True) if p["size"] == size]
    each = f"{shares[0]} of the base each" if len(set(shares)) == 1 else f"{whole(size)} customers each"
    if len(names) == len(personas) > 1:
        return f"{words_list(names)} are the same size, {each}."
    if len(names) == 1:
        return f"The {'larger' if len(personas) == 2 else 'largest'}, {names[0]}, is {shares[0]} of the base."
    return f"The largest, {words_list(names)}, are {each}."


def params_markdown(params: dict[str, Any]) -> str:
    """The parameters the pipeline ran with, one row per key."""
    lines = ["| parameter | value |", "| --- | --- |"]
    lines += [f"| `{key}` | `{value}` |" for key, value in flatten_params(params)]
    return "\n".join(lines) + "\n"


def hashes_markdown(outputs: list[dict[str, str]]) -> str:
    """Each pipeline output with the md5 ``dvc.lock`` records for it."""
    lines = ["| stage | output | md5 (dvc.lock) |", "| --- | --- | --- |"]
    lines += [f"| {row['stage']} | `{row['path']}` | `{row['md5']}` |" for row in outputs]
    return "\n".join(lines) + "\n"


def versions_markdown(versions: dict[str, str], python: str) -> str:
    """Python and the installed version of every package the project depends on."""
    lines = ["| package | version |", "| --- | --- |", f"| Python | {python} |"]
    lines += [f"| {name} | {version} |" for name, version in versions.items()]
    return "\n".join(lines) + "\n"


def persona_summary_markdown(personas: list[dict[str, Any]], n_fitted: int) -> str:
    """Home-page table: one row per persona with its size, channel mix and first action, then which customers the
    sizes count (all of them; ``n_fitted`` were fitted on, the rest set aside before fitting)."""
    lines = ["| segment | customers | share | Horeca / Retail | first thing to do |", "| --- | ---: | ---: | --- | --- |"]
    for p, share in zip(personas, percents([p["share"] for p in personas]), strict=True):
        horeca, retail = percents([p["channel_mix"]["Horeca"], p["channel_mix"]["Retail"]])
        lines.append(f"| [{p['id']} · {p['name']}](personas.qmd#persona-{p['id']}) | {whole(p['size'])} | "
                     f"{share} | {horeca} / {retail} | {p['actions'][0]} |")
    n = sum(p["size"] for p in personas)
    if n > n_fitted:
        lines += ["", f"The sizes count all {whole(n)} customers: the {whole(n - n_fitted)} set aside before fitting are in "
                      "the segment the model gives them, as in the staff page's answers."]
    return "\n".join(lines) + "\n"


def persona_chart_html(persona: dict[str, Any], features: list[str]) -> str:
    """One persona's profile chart (median spend per category ÷ base median) as an HTML fragment.

    The fragment carries no plotly.js: the page must load it first (personas.qmd embeds a notebook figure
    that carries it, above the cards).
    """
    fig = plots.persona_profiles([persona], features)
    fig.update_layout(title=None, height=320, showlegend=False, margin={"t": 30, "b": 40, "l": 60, "r": 20})
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, include_mathjax=False,
                       div_id=f"persona-{persona['id']}-profile", default_width="100%",
                       config={"displaylogo": False, "responsive": True})


def persona_cards_markdown(personas: list[dict[str, Any]], features: list[str]) -> str:
    """Personas page: one card per persona with its description, profile chart, mixes and actions."""
    blocks = []
    for p in personas:
        region = " · ".join(f"{name} {text}" for name, text in zip(p["region_mix"], percents(list(p["region_mix"].values())), strict=True))
        typical = p["typical_customer"]
        spends = " · ".join(f"{CATEGORY_NAMES.get(c, c)} {whole(typical[c])}" for c in features)
        blocks.append("\n".join([
            f'::: {{.card .persona-card #persona-{p["id"]}}}',
            ":::: card-body",
            f"### {p['id']} · {p['name']}",
            "",
            p["description"],
            "",
            f"**Region** {region}.",  # the channel mix ends the description
            "",
            "```{=html}",
            persona_chart_html(p, features).strip(),
            "```",
            "",
            "**What to do**",
            "",
            *[f"- {action}" for action in p["actions"]],
            "",
            f"*A typical customer* (row {typical['row']} of the raw data, the segment's medoid: the member with the smallest "
            f"total distance to the other members, in the space the segments were fitted in): {spends}.",
            "::::",
            ":::",
        ]))
    return "\n\n".join(blocks) + "\n"


def missing_rule(impute: str) -> str:
    """Methods page: what happens to a missing spending value (``data.impute``)."""
    if impute == "error":
        return "A missing value would stop the pipeline, naming its rows (`data.impute: error`)"
    return f"Missing values would be imputed with the {impute} of all the customers"


def transform_scale_summary(transform: str, scaler: str) -> str:
    """Home page: how spending was put on a common footing (``features.transform``, ``features.scaler``)."""
    scaled = {"standard": "each category standardised", "robust": "each category scaled by its median and interquartile range",
              "none": "the categories left unscaled"}[scaler]
    if transform == "none":
        return (f"Spending is heavily skewed (a few customers spend many times the typical amount); this run left it on "
                f"its raw scale (`features.transform: none`) and {scaled}, so the biggest amounts weigh most.")
    scale = "a log scale" if transform == "log" else "a log scale (log of 1 + spending)"
    return (f"Spending is heavily skewed (a few customers spend many times the typical amount), so spending was put on "
            f"{scale} and {scaled}, so that the *mix* of a customer's purchases counts, not only its size.")


def outlier_summary(method: str, min_features: int, action: str, n_flagged: int, low: int = 0, high: int = 0) -> str:
    """Home page: which customers were treated as outliers, on which side (``low`` and ``high``: their flags below
    and above Tukey's fences), and what was done with them (``features.outliers``)."""
    if method == "none":
        return "No outlier rule was applied (`features.outliers.method: none`): every customer was fitted."
    extreme = "in at least one category" if min_features == 1 else "in several categories at once"
    if n_flagged == 0:
        return f"No customer was extreme {extreme}, so every customer was fitted."
    one = n_flagged == 1  # "set that customer aside … so it could not pull …" (they, themselves: several)
    they, their, themselves, were, receive = ("it", "its", "itself", "was", "receives") if one else ("they", "their", "themselves", "were", "receive")
    side = ("spending far below the typical customer's there" if not high else
            "spending far above the typical customer's there" if not low else
            f"{low} of {their} flags for spending far below the typical customer's, {high} far above")
    who, them = (f"{whole(n_flagged)} customer", "that customer") if one else (f"{whole(n_flagged)} customers", "them")
    found = f"Tukey's rule found {who} extreme {extreme} ({side})"
    if action == "keep":
        return f"{found}; {they} {were} flagged but fitted like everyone else (`features.outliers.action: keep`)."
    return (f"{found} and set {them} aside while fitting so {they} could not pull the segments towards {themselves}; "
            f"{they} still {receive} a segment.")


def map_summary(transform: str, scaler: str, n_clustered: int, n_left_out: int, pc12: float) -> str:
    """Home page: who the PCA map shows (the customers the segments were fitted on) and on what scale."""
    spending = "(transformed) spending" if transform != "none" else "(scaled) spending" if scaler != "none" else "spending"
    left_out = ("the one set aside as an outlier is" if n_left_out == 1 else   # `data.features=[Grocery,Detergents_Paper]`
                f"the {whole(n_left_out)} set aside as outliers are")        # had read "the 1 set aside as outliers are"
    who = "every customer" if n_left_out == 0 else f"the {whole(n_clustered)} customers the segments were fitted on ({left_out} not shown)"
    return (f"The map below places {who} by the first two principal components of their {spending}, which together "
            f"carry {percent(pc12)} of its variation. Hover over a point to see that customer's yearly spending.")


def transform_scale_method(transform: str, scaler: str) -> str:
    """Methods page: the transform and scaler this run used, and what each does to the distances."""
    lines = ["**Transform and scale.** Yearly spending is right-skewed: a few customers spend many times the median. "
             "On the raw scale those few would decide the segments."]
    lines.append({
        "log": 'A log transform makes ratios matter ("twice as much milk") instead of absolute differences,',
        "log1p": 'A log1p transform (the log of 1 + spending) makes ratios matter ("twice as much milk") instead of '
                 "absolute differences, except among the smallest amounts,",
        "none": "This run uses no transform (`features.transform: none`), so distances are absolute differences in "
                "spending and the biggest spenders weigh most,",
    }[transform])
    lines.append({
        "standard": "and standard scaling gives each category equal weight.",
        "robust": "and robust scaling (median and interquartile range) gives each category equal weight without "
                  "letting the extreme customers set the scale.",
        "none": "and there is no scaling (`features.scaler: none`), so categories with a wider spread weigh more.",
    }[scaler])
    return " ".join(lines)


def summary_markdown(params: dict[str, Any], features_report: dict[str, Any]) -> str:
    """Home page, "What was done": how spending was transformed and scaled, and what happened to outliers."""
    f, out = params["features"], params["features"]["outliers"]
    return (transform_scale_summary(f["transform"], f["scaler"]) + " "
            + outlier_summary(out["method"], int(out["min_features"]), out["action"], features_report["n_flagged"],
                              **features_report["outlier_flags"]) + "\n")


def map_markdown(params: dict[str, Any], features_report: dict[str, Any]) -> str:
    """Home page: the sentence above the PCA map."""
    f, ev = params["features"], features_report["pca_explained_variance"]
    n_clustered = features_report["n_clustered"]
    return map_summary(f["transform"], f["scaler"], n_clustered, features_report["n_rows"] - n_clustered, ev[0] + ev[1]) + "\n"


def method_choices_markdown(params: dict[str, Any], features_report: dict[str, Any]) -> str:
    """Methods page: the "Transform and scale" and "Outliers" paragraphs."""
    f, out = params["features"], params["features"]["outliers"]
    return (transform_scale_method(f["transform"], f["scaler"]) + "\n\n"
            + "**Outliers.** " + outlier_rule_text(out, features_report["n_flagged"], f["transform"], features_report["zero_iqr"]) + "\n")


def generated_files(metrics: dict[str, Any], personas: list[dict[str, Any]], data_report: dict[str, Any],
                    features_report: dict[str, Any], select_k: dict[str, Any], k_sweep: pd.DataFrame,
                    params: dict[str, Any], lock: dict[str, Any], versions: dict[str, str], python: str) -> dict[Path, str]:
    """Path → text of every file this stage writes."""
    outputs = lock_outputs(lock)
    features = params["data"]["features"]
    variables = site_variables(metrics, personas, data_report, select_k, k_sweep, params, outputs)
    header = "# Written by `python -m stages.report` (DVC stage report) from the pipeline's outputs: do not edit.\n"
    return {
        VARIABLES: header + yaml.safe_dump(variables, sort_keys=False, allow_unicode=True, width=1000),
        GENERATED / "summary.md": summary_markdown(params, features_report),
        GENERATED / "map.md": map_markdown(params, features_report),
        GENERATED / "method-choices.md": method_choices_markdown(params, features_report),
        GENERATED / "persona-summary.md": persona_summary_markdown(personas, metrics["n_customers"]),
        GENERATED / "persona-cards.md": persona_cards_markdown(personas, features),
        GENERATED / "params.md": params_markdown(params),
        GENERATED / "hashes.md": hashes_markdown(outputs),
        GENERATED / "versions.md": versions_markdown(versions, python),
    }


# --- post-render: the rendered pages must not load anything from the network -------------------------------

#: The AMD loader and jQuery Quarto adds from a CDN to pages with notebook HTML output, and the shim that needs them.
QUARTO_CDN_LOADERS = re.compile(
    r"""<script\b[^>]*\bsrc=["'](?:https?:)?//[^"']*/(?:require|jquery)(?:\.min)?\.js["'][^>]*>\s*</script>\s*"""
    r"""|<script\b[^>]*>\s*define\(\s*['"]jquery['"][^<]*</script>\s*""",
)
#: (tag, attribute) pairs a browser fetches when the page loads.
LOADED = {("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"), ("audio", "src"),
          ("video", "src"), ("embed", "src"), ("link", "href")}
#: <link rel=…> values that make the browser fetch the href.
FETCHING_RELS = {"stylesheet", "preload", "modulepreload", "icon", "prefetch", "manifest"}


class _NetworkResources(HTMLParser):
    """Collects the absolute (http, https or protocol-relative) URLs a page loads."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and not FETCHING_RELS & set((values.get("rel") or "").lower().split()):
            return
        for name, value in attrs:
            if (tag, name) in LOADED and value and re.match(r"(?:https?:)?//", value.strip(), re.I):
                self.urls.append(value.strip())


def network_resources(html: str) -> list[str]:
    """URLs of scripts, styles, images and frames a page would fetch from the network."""
    parser = _NetworkResources()
    parser.feed(html)
    parser.close()
    return parser.urls


def offline_page(html: str) -> tuple[str, list[str]]:
    """A rendered page without Quarto's CDN loaders, and the network URLs it still loads (should be none)."""
    cleaned = QUARTO_CDN_LOADERS.sub("", html)
    return cleaned, network_resources(cleaned)


def post_render(output_dir: Path) -> list[str]:
    """Make every page under ``output_dir`` offline; return one problem line per network URL left."""
    problems = []
    for page in sorted(output_dir.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        cleaned, urls = offline_page(html)
        if cleaned != html:
            artifacts.write_text(page, cleaned)
        problems += [f"{page.relative_to(output_dir)}: loads {url}" for url in urls]
    return problems


def main(argv: list[str] | None = None) -> int:
    """``python -m stages.report`` (DVC stage report) or ``… post-render`` (Quarto's post-render hook)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=["write", "post-render"], default="write")
    args = parser.parse_args(argv)
    if args.command == "post-render":
        # Quarto runs the hook in the project directory and names the output directory relative to it.
        output_dir = Path(os.environ.get("QUARTO_PROJECT_OUTPUT_DIR", "_site")).resolve()
        problems = post_render(output_dir)
        if problems:
            print("error: the rendered site would need the network:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        print(f"post-render: {output_dir.name}/ loads nothing from the network")
        return 0
    plots.setup_plotly()  # the notebooks' chart template, so persona cards look like the notebook figures
    try:
        params = config.load_params()
        with open(config.DVC_LOCK, encoding="utf-8") as fh:
            lock = yaml.safe_load(fh)
        names = requirement_names(metadata.requires(DISTRIBUTION) or [])
        files = generated_files(
            artifacts.read_json(config.METRICS), artifacts.read_json(config.PERSONAS),
            artifacts.read_json(config.DATA_REPORT), artifacts.read_json(config.FEATURES_REPORT),
            artifacts.read_json(config.SELECT_K), pd.read_csv(config.K_SWEEP), params, lock,
            package_versions(names), sys.version.split()[0],
        )
    except (FileNotFoundError, KeyError, metadata.PackageNotFoundError) as exc:
        print(f"error: report: {exc} (run `dvc repro` to produce the pipeline outputs)", file=sys.stderr)
        return 1
    for path, text in files.items():
        artifacts.write_text(path, text)
    print(f"report: wrote {', '.join(str(p.relative_to(config.ROOT)) for p in files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
