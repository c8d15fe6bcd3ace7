"""Tests of stages.run_notebook and of the notebooks' contract with params.yaml."""

from __future__ import annotations

import ast
import shutil
import json
import re
import uuid
from pathlib import Path
from typing import Any

import nbformat
import pytest

from stages import config
from stages.run_notebook import (
    parameter_sections, parameters_cell, parameters_for, stable_ids, strip_timestamps, sync_parameters, tracked_params,
)

NOTEBOOKS = sorted(config.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def test_there_are_five_numbered_notebooks() -> None:
    assert [p.stem for p in NOTEBOOKS] == ["01_prepare", "02_features", "03_select_k", "04_cluster", "05_personas"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_mirrors_params_yaml(path, params) -> None:
    nb = nbformat.read(path, as_version=4)
    values: dict[str, Any] = {}
    exec(compile(parameters_cell(nb).source, str(path), "exec"), {}, values)  # noqa: S102 - our own literal cell
    expected = parameters_for(parameter_sections(nb), params, tracked_params(path))
    for section, value in values.items():
        assert value == expected[section], f"{path.name}: section {section} differs from params.yaml; run `make notebooks`"
        assert set(value) <= set(params[section])


def test_a_notebook_gets_only_the_keys_its_stage_tracks(params) -> None:
    """select_k's stage tracks cluster.algorithm and cluster.n_init, not cluster.k: its notebook must not see k
    (it would show a k that `dvc repro` does not rerun the stage for)."""
    tracked = tracked_params(config.NOTEBOOKS / "03_select_k.ipynb")
    assert tracked is not None and "cluster.algorithm" in tracked and "cluster" not in tracked
    given = parameters_for(["base", "cluster"], params, tracked)
    assert given == {"base": params["base"], "cluster": {"algorithm": params["cluster"]["algorithm"], "n_init": params["cluster"]["n_init"]}}


def test_tracked_keys_can_be_nested_and_keep_params_yaml_order() -> None:
    params = {"features": {"transform": "log", "outliers": {"method": "tukey", "action": "drop"}, "pca": {"n": 0}}}
    given = parameters_for(["features"], params, ["features.pca", "features.outliers.method"])
    assert given == {"features": {"outliers": {"method": "tukey"}, "pca": {"n": 0}}}
    assert list(given["features"]) == ["outliers", "pca"]


def test_a_section_its_stage_does_not_track_is_named() -> None:
    with pytest.raises(KeyError, match="section.s. cluster, which its dvc.yaml stage does not list"):
        parameters_for(["base", "cluster"], {"base": {}, "cluster": {"k": 3}}, ["base"])


def test_tracked_params_reads_the_stage_that_runs_the_notebook(tmp_path: Path) -> None:
    dvc_yaml = tmp_path / "dvc.yaml"
    dvc_yaml.write_text(
        "stages:\n"
        "  a:\n    cmd: python -m stages.run_notebook notebook/01_a.ipynb base\n    params: [base, {params.yaml: [cluster.k]}]\n"
        "  b:\n    cmd: python -m stages.run_notebook notebook/01_a_b.ipynb base\n    params: [data]\n"
    )
    assert tracked_params(Path("notebook/01_a.ipynb"), dvc_yaml) == ["base", "cluster.k"]
    assert tracked_params(Path("elsewhere/01_a_b.ipynb"), dvc_yaml) == ["data"]
    assert tracked_params(Path("notebook/99_none.ipynb"), dvc_yaml) is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_define_no_functions_or_classes(path) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            tree = ast.parse("\n".join(line for line in cell.source.splitlines() if not line.startswith(("%", "!"))))
            defined = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Lambda))]
            assert not defined, f"{path.name}: logic belongs in stages/, not in the notebook"


def test_dvc_stage_commands_pass_the_sections_the_notebooks_take() -> None:
    import yaml

    stages = yaml.safe_load((config.ROOT / "dvc.yaml").read_text())["stages"]
    for path in NOTEBOOKS:
        stage = next(s for s in stages.values() if path.name in s["cmd"])
        passed = stage["cmd"].split(path.name, 1)[1].split()
        assert passed == parameter_sections(nbformat.read(path, as_version=4)), path.name


def test_strip_timestamps_removes_every_run_time() -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"start_time": "x", "end_time": "y", "duration": 1.0, "parameters": {"a": 1}}
    cell = nbformat.v4.new_code_cell("1")
    cell.metadata["execution"] = {"iopub.status.busy": "t"}
    cell.metadata["papermill"] = {"start_time": "x", "status": "completed"}
    nb.cells.append(cell)
    strip_timestamps(nb)
    assert nb.metadata["papermill"] == {"parameters": {"a": 1}}
    assert "execution" not in cell.metadata and cell.metadata["papermill"] == {"status": "completed"}


def test_sync_parameters_rewrites_the_cell_from_params() -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("base = {'seed': 1}")
    cell.metadata["tags"] = ["parameters"]
    nb.cells.append(cell)
    sync_parameters(nb, {"base": {"seed": 42}})
    assert "base = {'seed': 42}" in nb.cells[0].source


def test_missing_section_is_named() -> None:
    with pytest.raises(KeyError, match="nosuch"):
        parameters_for(["base", "nosuch"], {"base": {}})


def _stages_imports(source: str) -> set[str]:
    """``stages/<module>.py`` files a piece of code imports directly."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "stages":
            if node.module == "stages":
                found |= {f"stages/{alias.name}.py" for alias in node.names}
            else:
                found.add(f"stages/{node.module.split('.')[1]}.py")
        elif isinstance(node, ast.Import):
            found |= {f"stages/{a.name.split('.')[1]}.py" for a in node.names if a.name.startswith("stages.")}
    return {f for f in found if (config.ROOT / f).is_file()}


def _closure(files: set[str]) -> set[str]:
    todo, seen = list(files), set()
    while todo:
        f = todo.pop()
        if f not in seen:
            seen.add(f)
            todo += _stages_imports((config.ROOT / f).read_text())
    return seen


def test_every_notebook_stage_depends_on_the_code_it_runs() -> None:
    import yaml

    stages = yaml.safe_load((config.ROOT / "dvc.yaml").read_text())["stages"]
    for path in NOTEBOOKS:
        name, stage = next((n, s) for n, s in stages.items() if path.name in s["cmd"])
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        needed = _closure(_stages_imports(code) | {"stages/run_notebook.py"})
        missing = sorted(needed - set(stage["deps"]))
        assert not missing, f"stage {name} runs {missing} but does not list them in dvc.yaml deps"


def test_the_report_and_site_stages_depend_on_the_code_they_run() -> None:
    """``python -m stages.report`` (the report stage, and Quarto's post-render hook of the site stage) and every
    stages module it imports are dependencies of both, so editing one re-runs them."""
    import yaml

    needed = _closure({"stages/report.py"})
    assert "stages/names.py" in needed  # through report.py's own import: the closure follows imports
    report = yaml.safe_load((config.ROOT / "dvc.yaml").read_text())["stages"]["report"]
    assert sorted(needed - set(report["deps"])) == [], "report stage"
    site = yaml.safe_load((config.ROOT / "site" / "dvc.yaml").read_text())["stages"]["site"]
    assert sorted(needed - {d.removeprefix("../") for d in site["deps"]}) == [], "site stage"


def _config_files(code: str) -> set[str]:
    """Project files a notebook names through ``stages.config`` constants (``config.K_SWEEP`` …), relative to the project."""
    names = {n.attr for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "config"}
    files = set()
    for name in names:
        path = getattr(config, name, None)
        if isinstance(path, Path) and path.suffix:  # a file, not a folder such as config.ROOT
            root = config.OUTPUT_ROOT if path.is_relative_to(config.OUTPUT_ROOT) else config.ROOT
            files.add(path.relative_to(root).as_posix())
    return files


def test_every_notebook_stage_lists_the_files_it_reads_and_writes() -> None:
    """A file a notebook reads but its stage does not list lets `dvc repro` skip the stage when only that file changed."""
    import yaml

    stages = yaml.safe_load((config.ROOT / "dvc.yaml").read_text())["stages"]
    for path in NOTEBOOKS:
        name, stage = next((n, s) for n, s in stages.items() if path.name in s["cmd"])
        listed = {next(iter(e)) if isinstance(e, dict) else e for key in ("deps", "outs", "metrics") for e in stage.get(key, [])}
        nb = nbformat.read(path, as_version=4)
        used = _config_files("\n".join(c.source for c in nb.cells if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])))
        assert used, f"{path.name} names no file through stages.config: the check would be empty"
        missing = sorted(used - listed)
        assert not missing, f"stage {name} uses {missing} but dvc.yaml lists them neither as deps nor as outs"


def _figure_output(div: str) -> nbformat.NotebookNode:
    html = f'<div id="{div}" class="plotly-graph-div"></div><script>Plotly.newPlot("{div}", [])</script>'
    return nbformat.v4.new_output("display_data", data={"text/html": [html], "text/plain": ["Figure"]})


def test_stable_ids_replace_plotlys_random_ids_the_same_way_every_run() -> None:
    runs = []
    for _ in range(2):  # two runs: Plotly draws fresh random ids each time
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        cells = [nbformat.v4.new_code_cell(f"fig{i}", id=f"cell-{i}", outputs=[_figure_output(div)]) for i, div in enumerate((first, second))]
        injected = nbformat.v4.new_code_cell("base = {}", metadata={"tags": ["injected-parameters"]})  # random id, as Papermill writes
        nb = nbformat.v4.new_notebook(cells=[injected, *cells])
        runs.append(nbformat.writes(stable_ids(nb, "02_features.ipynb")))
        assert first not in runs[-1] and second not in runs[-1]
    assert runs[0] == runs[1]
    html = [json.loads(runs[0])["cells"][i]["outputs"][0]["data"]["text/html"] for i in (1, 2)]
    ids = [set(re.findall(r"[0-9a-f]{8}-[0-9a-f-]{27}", "".join(h))) for h in html]
    assert all(len(i) == 1 for i in ids) and ids[0] != ids[1]  # one id per figure, used consistently; figures kept apart


def test_seed_copies_the_outputs_a_stage_reads_and_publish_moves_only_what_changed(tmp_path: Path) -> None:
    """A stage runs on a copy of the current outputs; afterwards only files it wrote anew or differently are moved
    into the project (each a rename), the others are left untouched."""
    from stages.run_notebook import publish, seed

    root, staging = tmp_path / "root", tmp_path / "staging"
    for name, text in {"ml/metrics.json": "old", "ml/same.json": "same", "data/processed/customers.csv": "rows", "site/notebooks/x.ipynb": "nb"}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    same_inode = (root / "ml/same.json").stat().st_ino
    seed(staging, root)
    assert sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file()) == ["data/processed/customers.csv", "ml/metrics.json", "ml/same.json"]
    (staging / "ml/metrics.json").write_text("new")
    (staging / "ml/models").mkdir()
    (staging / "ml/models/kmeans.joblib").write_text("model")
    assert publish(staging, root) == [root / "ml/metrics.json", root / "ml/models/kmeans.joblib"]
    assert (root / "ml/metrics.json").read_text() == "new" and (root / "ml/models/kmeans.joblib").read_text() == "model"
    assert (root / "ml/same.json").stat().st_ino == same_inode and (root / "site/notebooks/x.ipynb").read_text() == "nb"


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_a_stopped_stage_stops_at_once_changes_nothing_and_leaves_no_staging_folder(tmp_path: Path, signame: str) -> None:
    """`kill` (SIGTERM) or Ctrl-C (SIGINT) of a running stage: it stops without waiting for the running cell (here
    one of ten minutes), says so in one line (exit 143 or 130), publishes nothing, and removes its staging folder; a
    leftover folder of a run killed outright (-9) is removed by the next run of that stage."""
    import signal
    import subprocess
    import sys
    import time

    from stages.run_notebook import STAGING

    signum = signal.Signals[signame]
    path = _notebook(tmp_path / "99_sleep.ipynb", "import time\ntime.sleep(600)")
    STAGING.mkdir(parents=True, exist_ok=True)
    leftover = STAGING / "99_sleep-leftover"
    leftover.mkdir(exist_ok=True)
    # Ctrl-C reaches a stage started from a terminal, where SIGINT is not ignored. A shell's background job without job
    # control (`bash .ci/run &` in a script) inherits SIGINT ignored, and Python then ignores it too, as it should: the
    # stage is started here as from a terminal, or this test hung for its 120 s when CI was launched that way.
    as_from_a_terminal = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                          "sys.argv = ['run_notebook', *sys.argv[1:]]; runpy.run_module('stages.run_notebook', run_name='__main__')")
    try:
        with subprocess.Popen([sys.executable, "-c", as_from_a_terminal, str(path), "base"], cwd=config.ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as stage:
            deadline = time.monotonic() + 60
            while not any(p.name != "99_sleep-leftover" for p in STAGING.glob("99_sleep-*")) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(3)  # the kernel is running the sleeping cell
            stage.send_signal(signum)
            try:
                _, stderr = stage.communicate(timeout=120)  # far less than the cell's 600 s
            except subprocess.TimeoutExpired:
                stage.kill()
                raise
        assert stage.returncode == 128 + signum, stderr
        assert f"error: 99_sleep.ipynb stopped by {signame}" in stderr and "Traceback" not in stderr
        assert "nothing was changed" in stderr
        assert list(STAGING.glob("99_sleep-*")) == []
        assert not (config.EXECUTED_NOTEBOOKS / "99_sleep.ipynb").exists()
    finally:
        shutil.rmtree(leftover, ignore_errors=True)
        for kept in ("99_sleep.failed.ipynb", "99_sleep.log"):
            (STAGING / kept).unlink(missing_ok=True)


def test_a_run_in_a_dvc_temporary_workspace_keeps_its_failure_in_the_users_project() -> None:
    """`dvc exp run --temp` and queued experiments run in <project>/.dvc/tmp/exps/…/tmpXXXX, which DVC deletes."""
    from stages.run_notebook import kept_folder, project_root

    temp = Path("/p/.dvc/tmp/exps/standalone/tmpab12")
    assert project_root(temp) == Path("/p")
    assert kept_folder(temp) == Path("/p/.dvc/tmp/stages/exps/tmpab12")
    assert project_root(Path("/p")) == Path("/p") and kept_folder(Path("/p")) == Path("/p/.dvc/tmp/stages")


def test_only_the_most_recent_temporary_workspaces_failures_are_kept(tmp_path: Path) -> None:
    """Each failed queued experiment kept a folder under .dvc/tmp/stages/exps/ for good; the 20 most recent stay."""
    import os

    from stages.run_notebook import KEPT_WORKSPACES, STAGES_FOLDER, kept_folder, prune_kept

    exps = tmp_path / STAGES_FOLDER / "exps"
    for i in range(KEPT_WORKSPACES + 5):
        (exps / f"tmp{i:02d}").mkdir(parents=True)
        os.utime(exps / f"tmp{i:02d}", (1_000_000 + i, 1_000_000 + i))  # tmp00 the oldest
    keep = kept_folder(tmp_path / ".dvc" / "tmp" / "exps" / "run" / "tmpnew")
    assert keep == exps / "tmpnew"
    keep.mkdir()
    os.utime(keep, (0, 0))  # the one being kept stays, whatever its time says
    removed = prune_kept(keep, tmp_path / ".dvc" / "tmp" / "exps" / "run" / "tmpnew")
    assert sorted(p.name for p in removed) == [f"tmp{i:02d}" for i in range(6)]
    assert sorted(p.name for p in exps.iterdir()) == [f"tmp{i:02d}" for i in range(6, KEPT_WORKSPACES + 5)] + ["tmpnew"]
    # the project's own staging folder is never pruned
    assert prune_kept(tmp_path / STAGES_FOLDER, tmp_path) == [] and len(list(exps.iterdir())) == KEPT_WORKSPACES


def test_a_failed_run_keeps_its_notebook_and_the_next_good_run_removes_it(tmp_path: Path) -> None:
    """The kept .failed.ipynb is there only while the stage's last run failed: an old one never passes for the
    latest failure, nor lingers after a fix."""
    import subprocess
    import sys

    from stages.run_notebook import STAGING

    flag = tmp_path / "fail"
    flag.write_text("")
    path = _notebook(tmp_path / "99_flaky.ipynb", f"import os\nassert not os.path.exists({str(flag)!r}), 'asked to fail'")
    kept, published = STAGING / "99_flaky.failed.ipynb", config.EXECUTED_NOTEBOOKS / "99_flaky.ipynb"
    stage = [sys.executable, "-m", "stages.run_notebook", str(path), "base"]
    try:
        failed = subprocess.run(stage, cwd=config.ROOT, capture_output=True, text=True, timeout=180)
        assert failed.returncode == 1 and "AssertionError: asked to fail" in failed.stderr, failed.stderr
        assert f"the failing cell is {kept.relative_to(config.ROOT)})" in failed.stderr
        assert "asked to fail" in kept.read_text() and not published.exists()
        flag.unlink()
        good = subprocess.run(stage, cwd=config.ROOT, capture_output=True, text=True, timeout=180)
        assert good.returncode == 0, good.stderr
        assert not kept.exists() and published.is_file()
    finally:
        for leftover in (kept, published, STAGING / "99_flaky.log"):
            leftover.unlink(missing_ok=True)


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("base = {}", metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}, "language_info": {"name": "python"}}
    nbformat.write(nb, path)
    return path


def test_the_kernel_process_writes_its_own_stderr_to_the_log_not_the_terminal(tmp_path: Path, capfd, monkeypatch) -> None:
    """The kernel's own standard error (ipykernel's log, such as the traceback of its shutdown race, which CI once
    showed after a stage's one-line error) goes to the stage's log; a cell's output to fd 2 still reaches the notebook."""
    from stages.run_notebook import run

    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # ipykernel does not capture file descriptors under pytest
    path = _notebook(tmp_path / "99_fd.ipynb", "import os, time\nos.write(2, b'fd-two-marker\\n')\ntime.sleep(1)  # the kernel's pipe reader forwards it", "1")
    out = run(path, ["base"], tmp_path / "out", kernel_log=tmp_path / "99_fd.log")
    terminal = capfd.readouterr()
    assert "fd-two-marker" not in terminal.err + terminal.out
    assert "fd-two-marker" in (tmp_path / "99_fd.log").read_text()
    executed = nbformat.read(out, as_version=4)
    assert "fd-two-marker" in json.dumps(executed.cells[-2].outputs)  # the cell's own output


def test_a_kernel_that_dies_is_one_line_and_the_traceback_goes_to_the_log(tmp_path: Path) -> None:
    """A dead kernel (killed, out of memory) is not a cell error: the stage says so in one line, points to its log
    (which holds the traceback), and publishes nothing."""
    import subprocess
    import sys

    from stages.run_notebook import STAGING

    path = _notebook(tmp_path / "99_dies.ipynb", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    log = STAGING / "99_dies.log"
    try:
        stage = subprocess.run([sys.executable, "-m", "stages.run_notebook", str(path), "base"], cwd=config.ROOT,
                               capture_output=True, text=True, timeout=180)
        assert stage.returncode == 1, stage.stderr
        assert "Traceback" not in stage.stderr
        assert "error: 99_dies.ipynb stopped: DeadKernelError" in stage.stderr
        assert f"are in {log.relative_to(config.ROOT)}" in stage.stderr and "nothing was changed" in stage.stderr
        assert "Traceback" in log.read_text() and "DeadKernelError" in log.read_text()
        assert not (config.EXECUTED_NOTEBOOKS / "99_dies.ipynb").exists()
    finally:
        log.unlink(missing_ok=True)
        (STAGING / "99_dies.failed.ipynb").unlink(missing_ok=True)
