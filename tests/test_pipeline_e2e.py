"""End to end: the DVC pipeline in a fresh temporary workspace, as a researcher runs it."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from stages import config, numerics

pytestmark = pytest.mark.slow

#: Outputs that must be byte-identical between any two runs on the same data and params.
DETERMINISTIC = [
    "ml/models/preprocess.joblib", "ml/models/kmeans.joblib", "ml/models/agglomerative.joblib", "ml/models/gmm.joblib",
    "ml/segmenter.json", "ml/metrics.json", "ml/personas.json", "ml/personas.md", "ml/plots/k_sweep.csv",
    "ml/assignments.csv", "ml/select_k.json", "data/processed/customers.csv", "data/processed/features.csv",
]
#: The executed notebooks the report shows (timestamps stripped, random ids made stable by stages.run_notebook).
#: Byte-identical too; a failing stage does replace its own, so the reader sees where the run stopped.
EXECUTED = [f"site/notebooks/{nb}.ipynb" for nb in ("01_prepare", "02_features", "03_select_k", "04_cluster", "05_personas")]


def metric_values(node: object, metrics_file: str, key: str) -> list[object]:
    """Every value of ``key`` inside the ``metrics_file`` entries of `dvc exp show --json` (whatever its nesting)."""
    found: list[object] = []
    if isinstance(node, dict):
        for name, value in node.items():
            if name == metrics_file and isinstance(value, dict):
                data = value.get("data", value)
                if isinstance(data, dict) and key in data:
                    found.append(data[key])
            found += metric_values(value, metrics_file, key)
    elif isinstance(node, list):
        for value in node:
            found += metric_values(value, metrics_file, key)
    return found


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def sh(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{config.ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    result = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository holding the project's source files only (no DVC cache, no outputs)."""
    ws = tmp_path_factory.mktemp("ws") / "repo"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=config.ROOT, capture_output=True, text=True, check=True).stdout.split("\n")
    for name in filter(None, files):
        src = config.ROOT / name
        if src.is_file() and not name.startswith(("api/web/node_modules", "test-artifacts")):
            (ws / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, ws / name)
    sh(ws, "git", "init", "-q", "-b", "main")
    sh(ws, "git", "add", "-A")
    sh(ws, "git", "commit", "-qm", "snapshot")
    return ws


@pytest.fixture(scope="module")
def reproduced(workspace: Path) -> Path:
    for out in DETERMINISTIC:
        (workspace / out).unlink(missing_ok=True)
    sh(workspace, "dvc", "repro")
    return workspace


def test_fresh_repro_is_byte_identical_to_the_project_outputs(reproduced: Path) -> None:
    differing = [out for out in DETERMINISTIC + EXECUTED if md5(reproduced / out) != md5(config.ROOT / out)]
    assert not differing, f"outputs differ between two runs on the same data and params: {differing}"


def lock_outputs(lock: dict) -> dict[str, dict[str, str]]:
    """Per stage of a dvc.lock: its inputs (deps and params, as text) and the md5 of each output."""
    return {
        name: {"inputs": json.dumps([stage.get("deps"), stage.get("params")], sort_keys=True), **{o["path"]: o["md5"] for o in stage.get("outs", [])}}
        for name, stage in lock["stages"].items()
    }


def test_fresh_repro_gives_the_committed_outputs(reproduced: Path) -> None:
    """Across machines: the stages whose inputs are as committed reproduce the committed outputs (stages.numerics).

    The test above compares two runs on one machine; this one compares with the dvc.lock of the last commit, made
    on whatever machine its author used, so a CI machine of another processor kind checks the pinned kernels.
    The executed notebooks are left out: they record the kernel's Python version, which may differ between machines.
    """
    if platform.machine().lower() not in numerics.X86_64:
        pytest.skip(f"the committed outputs were made on x86-64; on {platform.machine()} the numeric kernels differ")
    shown = subprocess.run(["git", "show", "HEAD:dvc.lock"], cwd=config.ROOT, capture_output=True, text=True)
    if shown.returncode != 0:
        pytest.skip("no committed dvc.lock to compare with")
    committed = lock_outputs(yaml.safe_load(shown.stdout))
    ours = lock_outputs(yaml.safe_load((reproduced / "dvc.lock").read_text()))
    same_inputs = [name for name, stage in committed.items() if name in ours and ours[name]["inputs"] == stage["inputs"]]
    if not same_inputs:
        pytest.skip("every stage's sources or params differ from the last commit: nothing committed to compare with")
    differing = [f"{name}: {path}" for name in same_inputs for path, md5 in committed[name].items()
                 if path != "inputs" and not path.startswith("site/notebooks/") and ours[name].get(path) != md5]
    assert not differing, f"a fresh dvc repro of the committed sources and params gave other outputs than the commit: {differing}"


def test_second_repro_does_nothing(reproduced: Path) -> None:
    result = sh(reproduced, "dvc", "repro")
    assert "Running stage" not in result.stdout
    assert "up to date" in result.stdout


def test_experiment_with_another_k(reproduced: Path) -> None:
    sh(reproduced, "git", "add", "-A")
    sh(reproduced, "git", "commit", "-qm", "reproduced", check=False)
    result = sh(reproduced, "dvc", "exp", "run", "-S", "cluster.k=4")
    assert "Running stage 'select_k'" not in result.stdout, "changing cluster.k must not re-run the k sweep"
    shown = json.loads(sh(reproduced, "dvc", "exp", "show", "--json").stdout)
    assert {3, 4} <= set(metric_values(shown, "ml/metrics.json", "k")), "dvc exp show must list the metrics of both runs"
    assert len(json.loads((reproduced / "ml/personas.json").read_text())) == 4


#: What the report stage writes for the site (in DVC's cache, git-ignored).
REPORT = ["site/_variables.yml", "site/_generated/params.md", "site/_generated/persona-cards.md", "site/_generated/hashes.md"]
ROOT_STAGES = ["prepare", "features", "select_k", "cluster", "personas", "report"]


def test_the_readme_way_back_after_an_experiment_restores_every_output(reproduced: Path) -> None:
    """After `dvc exp run` in the workspace (test above), `git checkout HEAD -- params.yaml dvc.lock ml/` and
    `dvc checkout` bring back the committed results: git holds the small ones, DVC's cache the rest. The k sweep
    compares one algorithm only, yet every model file the cluster stage declares is this run's (k = 5), none left
    over from the run before."""
    import joblib

    sh(reproduced, "dvc", "exp", "run", "-S", "cluster.k=5", "-S", "select_k.algorithms=[kmeans]")
    for algorithm in ("kmeans", "agglomerative", "gmm"):
        model = joblib.load(reproduced / f"ml/models/{algorithm}.joblib")
        assert len(model.steps[-1][1].mapping_) == 5, f"ml/models/{algorithm}.joblib is not this run's"
    changed = [out for out in REPORT if md5(reproduced / out) != md5(config.ROOT / out)]
    assert changed, "the experiment must change the report's inputs, or this test shows nothing"
    # the README's way back, as written there (touch first: git can take DVC's same-size rewrite for unchanged)
    sh(reproduced, "touch", "params.yaml", "dvc.lock")
    sh(reproduced, "git", "checkout", "HEAD", "--", "params.yaml", "dvc.lock", "ml/")
    sh(reproduced, "dvc", "checkout")
    assert sh(reproduced, "dvc", "params", "diff").stdout.strip() == ""
    assert sh(reproduced, "dvc", "status", *ROOT_STAGES).stdout.strip() == "Data and pipelines are up to date."
    # The project's own outputs are the committed results (the first test: a fresh repro gives them byte for byte).
    back = [out for out in DETERMINISTIC + REPORT if md5(reproduced / out) != md5(config.ROOT / out)]
    assert not back, f"still the experiment's after going back: {back}"


def test_a_failed_experiment_changes_no_output_and_the_way_back_works(reproduced: Path) -> None:
    """A bad `-S` value stops its stage with the key named; DVC deletes no output first (persist) and the stage
    publishes nothing, so the served model and every other output stay as they were, and the README's way back
    needs no --force (a failed run's notebook is not left in site/notebooks/)."""
    watched = DETERMINISTIC + EXECUTED + REPORT
    before = {out: md5(reproduced / out) for out in watched}
    result = sh(reproduced, "dvc", "exp", "run", "-S", "cluster.k=abc", check=False)
    assert result.returncode != 0  # refused by the params check before the notebook runs
    assert "params.yaml: cluster.k: must be auto or a whole number of segments, at least 2 (got 'abc')" in result.stderr + result.stdout
    assert "nothing was changed: the stage's previous outputs are in place" in result.stderr + result.stdout
    assert {out: md5(reproduced / out) for out in watched if (reproduced / out).exists()} == before
    sh(reproduced, "touch", "params.yaml")  # see the way back below
    sh(reproduced, "git", "checkout", "HEAD", "--", "params.yaml")
    result = sh(reproduced, "dvc", "exp", "run", "-S", "cluster.k=500", check=False)
    assert result.returncode != 0  # refused in the notebook, which knows how many customers there are
    assert "cluster.k: 500 segments cannot be fitted on" in result.stderr + result.stdout
    assert "nothing was changed: the stage's previous outputs are in place" in result.stderr + result.stdout
    assert {out: md5(reproduced / out) for out in watched if (reproduced / out).exists()} == before
    assert (reproduced / ".dvc/tmp/stages/04_cluster.failed.ipynb").is_file()
    # the README's way back, as written there (touch first: git can take DVC's same-size rewrite for unchanged)
    sh(reproduced, "touch", "params.yaml", "dvc.lock")
    sh(reproduced, "git", "checkout", "HEAD", "--", "params.yaml", "dvc.lock", "ml/")
    sh(reproduced, "dvc", "checkout")
    assert sh(reproduced, "dvc", "params", "diff").stdout.strip() == ""
    assert sh(reproduced, "dvc", "status", *ROOT_STAGES).stdout.strip() == "Data and pipelines are up to date."


def test_a_failed_temporary_experiment_keeps_its_notebook_where_the_message_says(reproduced: Path) -> None:
    """`dvc exp run --temp` runs in a copy under .dvc/tmp/exps/ that DVC deletes afterwards: the failed notebook the
    message names must be in the user's project, not in the deleted copy."""
    import re

    watched = DETERMINISTIC + EXECUTED
    before = {out: md5(reproduced / out) for out in watched}
    result = sh(reproduced, "dvc", "exp", "run", "--temp", "-S", "cluster.k=500", check=False)
    output = result.stderr + result.stdout
    assert result.returncode != 0 and "cluster.k: 500 segments cannot be fitted on" in output, output
    named = re.search(r"the executed notebook with the failing cell is (\S+\.failed\.ipynb)\)", output)
    assert named, output
    assert named.group(1).startswith(".dvc/tmp/stages/exps/tmp")
    assert "cannot be fitted" in (reproduced / named.group(1)).read_text()
    assert {out: md5(reproduced / out) for out in watched} == before


def test_the_raw_file_dvc_watches_is_the_one_params_names(reproduced: Path) -> None:
    """`data.raw` pointed at another file makes that file the prepare stage's dependency (dvc.yaml's ${data.raw}),
    so editing it re-runs the pipeline instead of leaving stale results "up to date"."""
    params = reproduced / "params.yaml"
    original = params.read_text()
    shutil.copy2(reproduced / "data/raw/wholesale_customers.csv", reproduced / "data/raw/copy.csv")
    try:
        params.write_text(original.replace("raw: data/raw/wholesale_customers.csv", "raw: data/raw/copy.csv", 1))
        status = sh(reproduced, "dvc", "status", "prepare").stdout
        assert "data/raw/copy.csv" in status, status
    finally:
        params.write_text(original)
        (reproduced / "data/raw/copy.csv").unlink()
    assert sh(reproduced, "dvc", "status", *ROOT_STAGES).stdout.strip() == "Data and pipelines are up to date."


def test_broken_raw_file_names_the_row_and_changes_nothing(reproduced: Path) -> None:
    sh(reproduced, "dvc", "exp", "apply", "HEAD", check=False)
    sh(reproduced, "git", "checkout", "-q", "--", ".")
    sh(reproduced, "dvc", "checkout", "-q", check=False)
    before = {out: md5(reproduced / out) for out in DETERMINISTIC + EXECUTED}
    raw = reproduced / "data/raw/wholesale_customers.csv"
    lines = raw.read_text().splitlines()
    cells = lines[17].split(",")
    cells[3] = "abc"  # row 17, column Milk
    lines[17] = ",".join(cells)
    raw.write_text("\n".join(lines) + "\n")
    result = sh(reproduced, "dvc", "repro", check=False)
    assert result.returncode != 0
    assert "data/raw/wholesale_customers.csv" in result.stderr + result.stdout
    assert "row 17, column Milk: 'abc' is not a number" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    after = {out: md5(reproduced / out) for out in DETERMINISTIC + EXECUTED if (reproduced / out).exists()}
    assert after == before
