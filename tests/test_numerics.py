"""Tests of stages.numerics: the pipeline's notebooks run the same numeric kernels on every machine."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from stages import numerics

x86_only = pytest.mark.skipif(platform.machine().lower() not in numerics.X86_64, reason="the kernels are pinned on x86-64 only")

#: Prints what a process sees: OpenBLAS kernels and threads (threadpoolctl) and numpy's enabled SIMD targets.
PROBE = """
import json, numpy, scipy.linalg
from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
from threadpoolctl import threadpool_info
blas = [i for i in threadpool_info() if i["internal_api"] == "openblas"]
print(json.dumps({"blas": [[i["architecture"], i["num_threads"]] for i in blas],
                  "simd": [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]}))
"""


def probe(env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], env={**os.environ, **env}, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_x86_gets_one_kernel_family_numpy_baseline_and_one_thread() -> None:
    env = numerics.pinned_environment("x86_64", ["X86_V3", "X86_V4"])
    assert env == {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_CORETYPE": "Nehalem", "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4"}
    assert numerics.pinned_environment("AMD64", [])["OPENBLAS_CORETYPE"] == "Nehalem"


def test_other_processors_get_only_the_thread_counts() -> None:
    assert numerics.pinned_environment("aarch64", ["ASIMDHP"]) == {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def test_pinned_restores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with numerics.pinned({"OPENBLAS_CORETYPE": "Nehalem", "OMP_NUM_THREADS": "1"}):
        assert os.environ["OPENBLAS_CORETYPE"] == "Nehalem" and os.environ["OMP_NUM_THREADS"] == "1"
    assert os.environ["OPENBLAS_CORETYPE"] == "Haswell"
    assert "OMP_NUM_THREADS" not in os.environ


@x86_only
def test_a_process_started_pinned_runs_the_pinned_kernels() -> None:
    with numerics.pinned() as env:
        seen = probe({})
    assert seen["blas"] and all(b == [numerics.OPENBLAS_KERNEL, 1] for b in seen["blas"]), seen
    assert seen["simd"] == [], f"numpy still dispatches to {seen['simd']} ({env['NPY_DISABLE_CPU_FEATURES']!r} disabled)"


@x86_only
def test_the_pin_overrides_a_kernel_chosen_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Sandybridge")
    assert probe({})["blas"][0][0] == "Sandybridge", "the probe must see a kernel chosen outside"
    with numerics.pinned():
        assert probe({})["blas"][0][0] == numerics.OPENBLAS_KERNEL


@x86_only
def test_a_pipeline_notebook_kernel_runs_pinned(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Sandybridge")  # as if this machine's own choice differed
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PROBE)]
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    # In a child process, as in `dvc repro`: the kernel starts from the runner's environment.
    runner = (f"from pathlib import Path; from stages.run_notebook import run; print(run(Path({str(path)!r}), [], "
              f"output_dir=Path({str(tmp_path / 'out')!r}), kernel_log=Path({str(tmp_path / 'probe.log')!r})))")
    done = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True, check=True)
    executed = nbformat.read(done.stdout.strip().splitlines()[-1], as_version=4)
    seen = json.loads(executed.cells[-1].outputs[0]["text"])
    assert all(b == [numerics.OPENBLAS_KERNEL, 1] for b in seen["blas"]), seen
    assert seen["simd"] == []


def launcher(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m stages.numerics ARGS`` (what `make lab` and the nbval run use)."""
    return subprocess.run([sys.executable, "-m", "stages.numerics", *args], env={**os.environ, **(env or {})}, capture_output=True, text=True)


def test_the_launcher_alone_prints_the_pin() -> None:
    done = launcher()
    assert done.returncode == 0, done.stderr
    printed = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert printed == numerics.for_this_machine()


@x86_only
def test_a_command_run_by_the_launcher_runs_pinned() -> None:
    done = launcher(sys.executable, "-c", PROBE, env={"OPENBLAS_CORETYPE": "Sandybridge"})
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["blas"] and all(b == [numerics.OPENBLAS_KERNEL, 1] for b in seen["blas"]), seen
    assert seen["simd"] == []


def test_the_launcher_passes_arguments_and_exit_status_through() -> None:
    done = launcher("--", sys.executable, "-c", "import sys; print(sys.argv[1:]); sys.exit(3)", "a b", "--flag")
    assert (done.returncode, done.stdout.strip()) == (3, "['a b', '--flag']")


def test_the_launcher_names_a_command_it_cannot_find() -> None:
    done = launcher("no-such-command-here")
    assert done.returncode == 127
    assert "command not found: no-such-command-here" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_launcher_runs_the_program_beside_this_python_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """`.venv/bin/python -m stages.numerics pytest --nbval-lax notebook` without `.venv/bin` on PATH ran PATH's pytest
    (another Python's, without nbval: "unrecognized arguments") or none; it runs the environment's own."""
    started: list[str] = []
    monkeypatch.setattr(numerics.os, "execve", lambda program, args, env: started.append(program))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert numerics.main(["pytest", "--version"]) == 0
    assert started == [str(Path(sys.executable).parent / "pytest")]
