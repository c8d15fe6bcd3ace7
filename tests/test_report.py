"""stages.report: the site's variables and includes from tiny inputs, and the offline post-render clean-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from stages import config, report

FEATURES = ["Fresh", "Milk"]


def persona(pid: int, size: int, share: float, horeca: float) -> dict[str, Any]:
    """A persona in ml/personas.json's shape, over two categories."""
    return {
        "id": pid, "name": f"Persona {pid}", "description": f"{size} customers.", "size": size, "share": share,
        "centre": {"Fresh": 100.0, "Milk": 50.0}, "profile": {"Fresh": 2.0, "Milk": 0.5},
        "levels": {"Fresh": "high", "Milk": "low"},
        "channel_mix": {"Horeca": horeca, "Retail": round(1 - horeca, 4)},
        "region_mix": {"Lisbon": 0.2, "Oporto": 0.1, "Other": 0.7},
        "typical_customer": {"row": 7 + pid, "Fresh": 1234.0, "Milk": 56.0},
        "actions": [f"Call persona {pid} first.", "Then the rest."],
    }


@pytest.fixture
def personas() -> list[dict[str, Any]]:
    return [persona(0, 30, 0.6, 0.9), persona(1, 20, 0.4, 0.25)]


@pytest.fixture
def lock() -> dict[str, Any]:
    return {"schema": "2.0", "stages": {
        "cluster": {"outs": [{"path": "ml/segmenter.json", "md5": "abc"}, {"path": "ml/metrics.json", "md5": "def"}]},
        "report": {"outs": [{"path": "site/_variables.yml", "md5": "zzz"}]},
        "personas": {"outs": [{"path": "ml/personas.json", "md5": "123"}]},
    }}


@pytest.fixture
def inputs(personas: list[dict[str, Any]], lock: dict[str, Any]) -> dict[str, Any]:
    metrics = {"n_customers": 48, "n_outliers": 2, "k": 2, "algorithm": "kmeans", "silhouette": 0.55,
               "calinski_harabasz": 120.4, "davies_bouldin": 0.91, "pca_explained_variance": [0.5, 0.3, 0.2],
               "channel_accuracy": 0.875, "channel_ari": 0.41, "stability_ari": 0.8, "agreement_ari": 0.6}
    data_report = {"n_rows": 50, "md5": "feedface", "missing": {"Fresh": 1, "Milk": 0},
                   "duplicates": {"n_groups": 0}, "labels": {"Channel": {"Horeca": 35, "Retail": 15},
                                                             "Region": {"Lisbon": 5, "Oporto": 5, "Other": 40}}}
    select_k = {"criterion": "silhouette", "algorithm": "kmeans", "chosen_k": 3}
    params = {"base": {"seed": 1}, "data": {"features": FEATURES, "impute": "median"},
              "features": {"transform": "log", "scaler": "standard",
                           "outliers": {"method": "tukey", "iqr_factor": 1.5, "min_features": 2, "action": "drop"},
                           "pca": {"n_components": 0}},
              "select_k": {"k_min": 2, "k_max": 4, "algorithms": ["kmeans", "gmm"], "bootstrap": 5},
              "cluster": {"k": 2, "algorithm": "kmeans"}}
    return {"metrics": metrics, "personas": personas, "data_report": data_report, "select_k": select_k,
            "params": params, "lock": lock}


def test_lock_outputs_lists_pipeline_outputs_in_order_without_the_report_stage(lock: dict[str, Any]) -> None:
    rows = report.lock_outputs(lock)
    assert [r["path"] for r in rows] == ["ml/segmenter.json", "ml/metrics.json", "ml/personas.json"]
    assert rows[0] == {"stage": "cluster", "path": "ml/segmenter.json", "md5": "abc"}


def test_lock_md5_names_a_missing_output(lock: dict[str, Any]) -> None:
    with pytest.raises(KeyError, match="ml/nothing.json"):
        report.lock_md5(report.lock_outputs(lock), "ml/nothing.json")


@pytest.mark.parametrize(("value", "word"), [(0.8, "strong"), (0.6, "reasonable"), (0.3, "weak"), (0.1, "no substantial"), (-0.2, "no substantial")])
def test_silhouette_strength_follows_kaufman_rousseeuw(value: float, word: str) -> None:
    assert report.silhouette_strength(value) == word


@pytest.mark.parametrize(("k", "k_param", "chosen", "expected"), [
    (3, "auto", 3, "`cluster.k` is `auto`"),
    (3, 3, 3, "also the silhouette criterion's pick"),
    (3, 3, 2, "alone prefers k = 2"),
])
def test_k_note_says_where_k_comes_from(k: int, k_param: int | str, chosen: int, expected: str) -> None:
    assert expected in report.k_note(k, k_param, "silhouette", chosen)


def test_flatten_params_uses_dotted_keys_and_joins_lists() -> None:
    rows = report.flatten_params({"a": {"b": 1, "c": {"d": "x"}}, "e": [1, 2]})
    assert rows == [("a.b", "1"), ("a.c.d", "x"), ("e", "1, 2")]


def test_requirement_names_drop_versions_and_extras() -> None:
    reqs = ["numpy<3,>=2.1", "scikit-learn>=1.6", "pyyaml", 'pytest>=8.3; extra == "test"', "pandas[pyarrow] >=2"]
    assert report.requirement_names(reqs) == ["numpy", "scikit-learn", "pyyaml", "pandas"]


def test_package_versions_reads_installed_metadata() -> None:
    assert report.package_versions(["pyyaml"]) == {"pyyaml": yaml.__version__}


def test_site_variables_are_formatted_text(inputs: dict[str, Any]) -> None:
    outputs = report.lock_outputs(inputs.pop("lock"))
    v = report.site_variables(outputs=outputs, **inputs)
    assert v["data"]["n_rows"] == "50" and v["data"]["missing"] == "1"
    assert v["data"]["horeca_share"] == "70%" and v["data"]["other_share"] == "80%"
    assert v["model"]["channel_accuracy"] == "88%" and v["model"]["channel_baseline"] == "70%"
    assert v["model"]["silhouette"] == "0.55" and v["model"]["silhouette_strength"] == "reasonable"
    assert v["model"]["version"] == "abc"
    assert v["model"]["algorithm"] == "k-Means"
    assert v["method"]["pc12"] == "80%" and v["method"]["algorithms"] == "k-Means, Gaussian mixture"
    assert v["personas"] == {"count": "2", "largest_name": "Persona 0", "largest_share": "60%"}

    def leaves(node: Any) -> list[Any]:
        return [x for value in node.values() for x in leaves(value)] if isinstance(node, dict) else [node]

    assert all(isinstance(x, str) for x in leaves(v))


def test_persona_summary_links_each_card(personas: list[dict[str, Any]]) -> None:
    table = report.persona_summary_markdown(personas)
    assert "[0 · Persona 0](personas.qmd#persona-0) | 30 | 60% | 90% / 10% | Call persona 0 first. |" in table
    assert "(personas.qmd#persona-1)" in table


def test_persona_chart_has_a_stable_id_and_no_library(personas: list[dict[str, Any]]) -> None:
    html = report.persona_chart_html(personas[1], FEATURES)
    assert 'id="persona-1-profile"' in html
    assert "plotly.js v" not in html and "<script src" not in html
    assert html == report.persona_chart_html(personas[1], FEATURES)


def test_persona_cards_one_card_per_persona(personas: list[dict[str, Any]]) -> None:
    md = report.persona_cards_markdown(personas, FEATURES)
    assert md.count("::: {.card .persona-card") == 2
    assert "{#persona-0}" not in md and "#persona-0}" in md
    assert "- Call persona 1 first." in md
    assert "row 8 of the raw data" in md and "fresh food 1,234" in md
    assert md.count("```{=html}") == 2


def test_generated_files_cover_every_output(inputs: dict[str, Any]) -> None:
    files = report.generated_files(versions={"pyyaml": "6"}, python="3.11.0", **inputs)
    assert set(files) == {report.VARIABLES} | {report.GENERATED / n for n in
                                               ["persona-summary.md", "persona-cards.md", "params.md", "hashes.md", "versions.md"]}
    assert yaml.safe_load(files[report.VARIABLES])["model"]["k"] == "2"
    assert "| cluster | `ml/segmenter.json` | `abc` |" in files[report.GENERATED / "hashes.md"]
    assert "site/_variables.yml" not in files[report.GENERATED / "hashes.md"]
    assert "| `features.outliers.iqr_factor` | `1.5` |" in files[report.GENERATED / "params.md"]
    assert "| pyyaml | 6 |" in files[report.GENERATED / "versions.md"]


QUARTO_HEAD = (
    '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js" integrity="sha512-x" crossorigin="anonymous"></script>\n'
    '<script src="https://cdn.jsdelivr.net/npm/jquery@3.5.1/dist/jquery.min.js" crossorigin="anonymous" data-relocate-top="true"></script>\n'
    '<script type="application/javascript">define(\'jquery\', [],function() {return window.jQuery;})</script>\n'
)


def test_offline_page_removes_quarto_cdn_loaders_only() -> None:
    page = f"<html><head>{QUARTO_HEAD}<script src=\"site_libs/quarto-nav/quarto-nav.js\"></script></head>" \
           "<body><a href=\"https://doi.org/10.24432/C5030X\">doi</a><script>var s = '<script src=\"https://x.org/a.js\">';</script></body></html>"
    cleaned, urls = report.offline_page(page)
    assert "require.min.js" not in cleaned and "jquery.min.js" not in cleaned and "define('jquery'" not in cleaned
    assert 'src="site_libs/quarto-nav/quarto-nav.js"' in cleaned and "doi.org" in cleaned
    assert urls == []  # links are not loaded, and a URL inside inline script text is not a tag


@pytest.mark.parametrize("tag", [
    '<script src="https://cdn.plot.ly/plotly-3.0.0.min.js"></script>',
    '<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/3.2.2/es5/tex-svg.min.js"></script>',
    '<link rel="stylesheet" href="//fonts.googleapis.com/css2?family=Source+Sans+Pro">',
    '<img src="http://example.org/logo.png">',
])
def test_offline_page_reports_anything_else_loaded_from_the_network(tag: str) -> None:
    _, urls = report.offline_page(f"<html><head>{tag}</head><body></body></html>")
    assert len(urls) == 1 and "//" in urls[0]


def test_post_render_rewrites_pages_and_lists_problems(tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "index.html").write_text(f"<html><head>{QUARTO_HEAD}</head></html>", encoding="utf-8")
    (tmp_path / "index.html").chmod(0o644)
    (tmp_path / "notebooks" / "a.html").write_text('<img src="https://example.org/x.png">', encoding="utf-8")
    problems = report.post_render(tmp_path)
    assert problems == ["notebooks/a.html: loads https://example.org/x.png"]
    assert "require" not in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert (tmp_path / "index.html").stat().st_mode & 0o777 == 0o644


def test_main_post_render_fails_with_the_offending_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "page.html").write_text('<script src="https://cdn.plot.ly/plotly.min.js"></script>', encoding="utf-8")
    monkeypatch.setenv("QUARTO_PROJECT_OUTPUT_DIR", str(tmp_path))
    assert report.main(["post-render"]) == 1
    assert "page.html: loads https://cdn.plot.ly/plotly.min.js" in capsys.readouterr().err


def test_main_write_names_a_missing_input(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(config, "METRICS", tmp_path / "metrics.json")
    assert report.main([]) == 1
    err = capsys.readouterr().err
    assert "metrics.json" in err and "dvc repro" in err and "Traceback" not in err
