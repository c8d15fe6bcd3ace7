"""params.yaml's shape, checked before any stage runs (stages/params.py)."""

from __future__ import annotations

import copy
import difflib
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from stages import choices, config
from stages.params import ParamsError, check, check_section


def _with(path: str, value: Any) -> dict[str, Any]:
    params = copy.deepcopy(config.load_params())
    *sections, key = path.split(".")
    node = params
    for section in sections:
        node = node[section]
    node[key] = value
    return params


def test_the_shipped_params_pass() -> None:
    check(config.load_params())


@pytest.mark.parametrize(("path", "value", "message"), [
    ("select_k.bootstrap", 0, "select_k.bootstrap: must be at least 1 (got 0)"),
    ("select_k.bootstrap", "abc", "select_k.bootstrap: must be a whole number (got 'abc')"),
    ("features.pca.n_components", 1.5, "features.pca.n_components: must be a whole number (got 1.5)"),
    ("features.pca.n_components", True, "features.pca.n_components: must be a whole number (got True)"),
    ("features.outliers.min_features", 1.5, "features.outliers.min_features: must be a whole number (got 1.5)"),
    ("features.outliers.iqr_factor", "x", "features.outliers.iqr_factor: must be a number (got 'x')"),
    ("personas.high", "abc", "personas.high: must be a number (got 'abc')"),
    # checked by the personas stage only, the last to run: `-S features.transform=log1p -S
    # personas.dominant_channel=0.5` stopped after the features, the k sweep and the clustering had run
    ("personas.dominant_channel", 0.5, "personas.dominant_channel: must be above 0.5 and at most 1: the share of a segment's customers in one channel that puts the channel in its name (got 0.5)"),
    ("personas.high", 0.9, "personas.high: must be above 1: a category is high at this ratio to the base median or more (got 0.9)"),
    ("personas.low", 1.2, "personas.low: must be above 0 and below 1: a category is low at this ratio to the base median or less (got 1.2)"),
    ("base.seed", -1, "base.seed: must be at least 0 (got -1)"),
    ("base.seed", "abc", "base.seed: must be a whole number (got 'abc')"),
    ("cluster.n_init", 0, "cluster.n_init: must be at least 1 (got 0)"),
    ("cluster.n_init", 2.5, "cluster.n_init: must be a whole number (got 2.5)"),
    ("cluster.k", 2.5, "cluster.k: must be auto or a whole number of segments, at least 2 (got 2.5)"),
    ("cluster.k", True, "cluster.k: must be auto or a whole number of segments, at least 2 (got True)"),
    ("data.labels", [], "data.labels: must be Channel, Region"),
    ("data.labels", ["Region"], "data.labels: must be Channel, Region"),
    ("data.features", [], "data.features: must not be empty (got [])"),
    ("data.features", ["Fresh", "Fresh", "Milk"], "data.features: a category is named twice"),
    ("data.features", ["Fresh", "Wine"], "data.features: unknown category Wine"),
    # one category stopped the features stage with KeyError: "['PC2'] not in index" (-S 'data.features=[Milk]')
    ("data.features", ["Milk"], "data.features: name at least two categories, for the two axes of the customer map (got ['Milk'])"),
    ("select_k.algorithms", ["kmeans", 3], "select_k.algorithms, item 2: must be text (got 3)"),
    ("select_k.algorithms", ["kmeans", "gmm", "kmeans"], "select_k.algorithms: kmeans named twice: name each algorithm once"),
    ("features.pca", 3, "features.pca: must be a section of keys (got 3)"),
    ("cluster.n_inits", 3, "cluster.n_inits: unknown key"),
    # the named choices: each had waited for its stage, after the stages before it had run on the change
    ("data.impute", "medain", "data.impute: must be one of median, mean, error (got 'medain')"),
    ("features.transform", "sqrt", "features.transform: must be one of none, log, log1p (got 'sqrt')"),
    ("features.scaler", "minmax", "features.scaler: must be one of none, standard, robust (got 'minmax')"),
    ("features.outliers.method", "zscore", "features.outliers.method: must be one of none, tukey (got 'zscore')"),
    ("features.outliers.action", "clip", "features.outliers.action: must be one of drop, keep (got 'clip')"),
    ("features.outliers.iqr_factor", 0.2, "features.outliers.iqr_factor: must be a number of at least 0.5 (Tukey's rule "
                                          "uses 1.5, and 3 for far-out values; below 0.5 most customers would count as outliers) (got 0.2)"),
    ("features.outliers.iqr_factor", float("nan"), "features.outliers.iqr_factor: must be a number of at least 0.5"),
    ("select_k.algorithms", ["kmeans", "kmean"], "select_k.algorithms, item 2: must be one of kmeans, agglomerative, gmm (got 'kmean')"),
    ("select_k.criterion", "silhuette", "select_k.criterion: must be one of elbow, silhouette, calinski_harabasz, davies_bouldin, bic, stability (got 'silhuette')"),
    ("cluster.algorithm", "dbscan", "cluster.algorithm: must be one of kmeans, agglomerative, gmm (got 'dbscan')"),
    # rules between keys, each key right on its own
    ("features.outliers.min_features", 7, "features.outliers.min_features: 7 must be between 1 and 6, the number of categories in data.features"),
    ("features.pca.n_components", 7, "features.pca.n_components: 7 must be between 0 and 6, the number of categories in data.features"),
    ("select_k.k_min", 9, "select_k.k_min/k_max: need 2 <= k_min <= k_max, got 9..8"),
    ("select_k.algorithms", ["gmm"], "cluster.algorithm: 'kmeans' must also be listed in select_k.algorithms (now ['gmm'])"),
    ("select_k.criterion", "bic", "select_k.criterion: 'bic' exists only for the Gaussian mixture (gmm), not for cluster.algorithm 'kmeans'"),
])
def test_a_bad_value_is_named_by_its_key(path: str, value: Any, message: str) -> None:
    with pytest.raises(ParamsError) as raised:
        check(_with(path, value))
    assert str(raised.value).startswith("params.yaml: ") and message in str(raised.value)


@pytest.mark.parametrize(("path", "value"), [("cluster.k", "auto"), ("cluster.k", 9), ("personas.high", 2),
                                             ("data.labels", ["Region", "Channel"]), ("data.features", ["Milk", "Fresh"]),
                                             ("features.outliers.iqr_factor", 0.5), ("features.outliers.iqr_factor", 3),
                                             ("features.pca.n_components", 6), ("select_k.k_min", 8), ("cluster.algorithm", "gmm")])
def test_good_values_pass(path: str, value: Any) -> None:
    check(_with(path, value))


def test_every_rule_broken_is_named_at_once() -> None:
    """Two rules between keys broken together: both are named, so one fix does not reveal the next."""
    params = _with("select_k.criterion", "bic")
    params["features"]["pca"]["n_components"] = 9
    with pytest.raises(ParamsError) as raised:
        check(params)
    assert str(raised.value).count(";") == 1 and "features.pca.n_components: 9" in str(raised.value) and "'bic'" in str(raised.value)


@pytest.mark.parametrize(("path", "allowed"), [
    ("data.impute", choices.IMPUTE_STRATEGIES), ("features.transform", choices.TRANSFORMS), ("features.scaler", choices.SCALERS),
    ("features.outliers.method", choices.OUTLIER_METHODS), ("features.outliers.action", choices.OUTLIER_ACTIONS),
    ("select_k.criterion", tuple(choices.CRITERIA)), ("cluster.algorithm", choices.ALGORITHMS),
])
def test_the_comment_of_a_choice_in_params_yaml_lists_exactly_its_choices(path: str, allowed: tuple[str, ...]) -> None:
    """A researcher reads the choices beside the key: the list there is the one the check uses, in its order."""
    key = path.split(".")[-1]
    lines = [line for line in (config.ROOT / "params.yaml").read_text(encoding="utf-8").splitlines() if line.strip().startswith(f"{key}:")]
    assert len(lines) == 1, f"{key} is on {len(lines)} lines of params.yaml"
    listed = re.search(r"#[^|]*?([\w]+(?: \| [\w]+)+)", lines[0])
    assert listed is not None, f"no 'a | b' list in the comment of {path}"
    assert tuple(listed.group(1).split(" | ")) == allowed


def test_a_missing_section_is_named() -> None:
    params = config.load_params()
    del params["personas"]
    with pytest.raises(ParamsError, match=r"personas: missing"):
        check(params)


def test_the_stage_runner_checks_params_before_it_runs_anything(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """`python -m stages.run_notebook`: a bad value stops the stage before the notebook runs, naming the key."""
    from stages import run_notebook

    bad = _with("select_k.bootstrap", "abc")
    monkeypatch.setattr(run_notebook.config, "load_params", lambda: bad)
    monkeypatch.setattr(run_notebook, "run_stage", lambda *a: pytest.fail("the notebook ran"))
    assert run_notebook.main([str(Path("notebook/03_select_k.ipynb")), "select_k"]) == 1
    err = capsys.readouterr().err
    assert "error: 03_select_k.ipynb: params.yaml: select_k.bootstrap: must be a whole number (got 'abc')" in err
    assert "nothing was changed" in err and "Traceback" not in err


@pytest.mark.parametrize(("override", "expected"), [
    ("cluster.k=4", ["-  k: 3", "+  k: 4"]),
    ("select_k.algorithms=[kmeans]", ["-  - agglomerative", "-  - gmm"]),
    ("data.labels=[Region]", ["-  - Channel"]),
])
def test_an_experiment_override_changes_only_its_own_lines_of_params_yaml(tmp_path: Path, override: str, expected: list[str]) -> None:
    """`dvc exp run -S` rewrites params.yaml through DVC's YAML writer, which turns flow lists ([a, b]) into block
    lists: params.yaml is kept in that style, so an experiment's diff shows the value it changed and nothing else."""
    from dvc.utils.hydra import apply_overrides

    target = tmp_path / "params.yaml"
    shutil.copy(config.ROOT / "params.yaml", target)
    apply_overrides(str(target), [override])
    before, after = (config.ROOT / "params.yaml").read_text().splitlines(), target.read_text().splitlines()
    changed = [line.split("#")[0].rstrip() for line in difflib.unified_diff(before, after, lineterm="", n=0)
               if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == expected


def _leaves(node: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _leaves(value, f"{prefix}{key}.")]
    return [(prefix[:-1], node)]


_LEAVES = _leaves(config.load_params())


@pytest.mark.parametrize(("path", "value"), [(path, value) for path, current in _LEAVES
                                             for value in (([], ["x"]) if isinstance(current, list) else ("x", 7))],
                         ids=lambda v: repr(v) if not isinstance(v, str) else v)
def test_an_experiment_can_set_any_key_to_any_value_and_params_yaml_stays_readable(tmp_path: Path, path: str, value: Any) -> None:
    """Whatever `dvc exp run -S` sets a key to (even a value params.py refuses), params.yaml stays YAML whose only
    change is that key, its comments kept, so the stage runner, not a YAML parser, names what is wrong. DVC's YAML
    writer turned `-S data.labels=[]` into `features: transform: log` (a comment beside a block list's key), a broken
    file, and drops a comment line that follows a block list: params.yaml has neither."""
    import yaml
    from dvc.utils.hydra import apply_overrides

    target = tmp_path / "params.yaml"
    shutil.copy(config.ROOT / "params.yaml", target)
    override = f"{path}=[{','.join(value)}]" if isinstance(value, list) else f"{path}={value}"
    apply_overrides(str(target), [override])
    after = target.read_text(encoding="utf-8")
    assert yaml.safe_load(after) == _with(path, value)
    comments = lambda text: [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]  # noqa: E731
    assert comments(after) == comments((config.ROOT / "params.yaml").read_text(encoding="utf-8"))  # none lost


def test_one_section_is_checked_as_in_the_whole_file() -> None:
    """``check_section``: the rules of one section for code that receives only it (a notebook run by hand)."""
    shipped = config.load_params()["personas"]
    check_section("personas", shipped)
    with pytest.raises(ParamsError) as raised:
        check_section("personas", {**shipped, "dominant_channel": 0.5, "extra": 1})
    assert str(raised.value) == ("params.yaml: personas.dominant_channel: must be above 0.5 and at most 1: the share of a segment's "
                                 "customers in one channel that puts the channel in its name (got 0.5); personas.extra: unknown key")
