"""The same numeric kernels on every machine, so a pipeline run gives the same bits wherever it runs.

numpy and OpenBLAS choose their kernels when they load, by the processor they find: OpenBLAS picks a
matrix kernel per CPU family (AVX-512, AVX2 with FMA, SSE…) and numpy dispatches some loops to AVX2 or AVX-512
code. Different kernels sum in a different order, with or without fused multiply-add, so the last digits of the
scaling, PCA and everything after them differ between machines. The thread count can change the order of sums
too. :func:`pinned` fixes all of it for the processes the pipeline starts:

* OpenBLAS runs its ``Nehalem`` kernels (SSE4.2, no FMA), which every x86-64 machine that can run numpy 2 has;
* numpy runs its baseline loops (every dispatched target disabled);
* one thread for OpenBLAS and OpenMP (scikit-learn).

The data set is 440 × 6, so none of this costs measurable time. On other processors (ARM) only the thread counts
are pinned: their kernels differ from x86 anyway, so results there are identical between runs, not to x86.

``python -m stages.numerics COMMAND …`` runs any other command pinned the same way (``make lab`` runs JupyterLab
so, and ``make test`` nbval), so a notebook opened by hand computes the digits the pipeline wrote;
``python -m stages.numerics`` alone prints the variables.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

X86_64 = ("x86_64", "amd64")
#: OpenBLAS kernel family for x86-64: SSE4.2 without FMA, the same baseline numpy 2 requires.
OPENBLAS_KERNEL = "Nehalem"
THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def numpy_dispatch_targets() -> list[str]:
    """The SIMD targets this numpy build can dispatch to beyond its baseline (e.g. X86_V3, X86_V4, AVX512_ICL)."""
    from numpy._core._multiarray_umath import __cpu_dispatch__  # what numpy.show_runtime() reads

    return list(__cpu_dispatch__)


def pinned_environment(machine: str, dispatch_targets: Sequence[str]) -> dict[str, str]:
    """Environment variables that fix the numeric kernels and thread counts for a processor of kind ``machine``."""
    env = dict(THREADS)
    if machine.lower() in X86_64:
        env["OPENBLAS_CORETYPE"] = OPENBLAS_KERNEL
        if dispatch_targets:
            env["NPY_DISABLE_CPU_FEATURES"] = " ".join(dispatch_targets)
    return env


def for_this_machine() -> dict[str, str]:
    """:func:`pinned_environment` for the processor and numpy of this process."""
    return pinned_environment(platform.machine(), numpy_dispatch_targets())


@contextlib.contextmanager
def pinned(environ: Mapping[str, str] | None = None) -> Iterator[dict[str, str]]:
    """Within the block, processes started from here (e.g. a notebook's kernel) run the pinned kernels.

    The variables act when a process loads numpy and OpenBLAS, so they are set in ``os.environ`` for child
    processes and restored afterwards; they do not change a numpy already loaded in this process.
    """
    env = dict(environ) if environ is not None else for_this_machine()
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def program_path(command: str) -> str | None:
    """The program ``command`` names: the one installed beside this Python first (a virtual environment's ``bin``,
    whose ``pytest`` has the project's plugins, also when that folder is not on ``PATH``), else the one ``PATH`` finds."""
    return shutil.which(command, path=str(Path(sys.executable).parent)) or shutil.which(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``argv`` (a command and its arguments) in place of this process, pinned; without one, print the variables."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--"]:
        args = args[1:]
    env = for_this_machine()
    if not args or args[0] in ("-h", "--help"):
        if args:
            print("usage: python -m stages.numerics [COMMAND [ARG ...]]\n\nRun COMMAND with the numeric kernels the pipeline uses; "
                  "without COMMAND, print the variables that pin them.")
        for key, value in sorted(env.items()):
            print(f"{key}={value}")
        return 0
    program = program_path(args[0])
    if program is None:
        print(f"stages.numerics: command not found: {args[0]}", file=sys.stderr)
        return 127
    os.execve(program, args, {**os.environ, **env})
    return 0  # not reached: execve replaces this process


if __name__ == "__main__":
    sys.exit(main())
