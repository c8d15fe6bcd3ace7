"""Run one pipeline notebook with Papermill, its parameters taken from params.yaml.

Usage: ``python -m stages.run_notebook notebook/01_prepare.ipynb base data``
runs the notebook with the named params.yaml sections as dict parameters and writes the
executed copy to ``site/notebooks/`` with Papermill's timestamps stripped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import nbformat

from stages import config

#: Metadata that changes on every run; removing it keeps executed notebooks stable.
VOLATILE_KEYS = ("start_time", "end_time", "duration", "exception")


def strip_timestamps(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove Papermill's and nbclient's run timestamps from a notebook, in place."""
    pm = nb.metadata.get("papermill", {})
    for key in VOLATILE_KEYS:
        pm.pop(key, None)
    pm.pop("input_path", None)
    pm.pop("output_path", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cpm = cell.metadata.get("papermill", {})
        for key in VOLATILE_KEYS:
            cpm.pop(key, None)
    return nb


def parameters_for(sections: list[str], params: dict[str, Any]) -> dict[str, Any]:
    """The params.yaml sections a notebook takes, each as one dict parameter."""
    missing = [s for s in sections if s not in params]
    if missing:
        raise KeyError(f"params.yaml has no section(s) {', '.join(missing)}")
    return {s: params[s] for s in sections}


def run(notebook: Path, sections: list[str], output_dir: Path = config.EXECUTED_NOTEBOOKS) -> Path:
    """Execute ``notebook`` with Papermill and return the path of the executed copy."""
    import papermill as pm

    output_dir.mkdir(parents=True, exist_ok=True)
    out = output_dir / notebook.name
    parameters = parameters_for(sections, config.load_params())
    try:
        pm.execute_notebook(
            str(notebook), str(out), parameters=parameters, kernel_name="python3",
            cwd=str(config.ROOT), progress_bar=False, log_output=False,
        )
    finally:
        if out.exists():
            nb = nbformat.read(out, as_version=4)
            nbformat.write(strip_timestamps(nb), out)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry used by the stages of dvc.yaml."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("sections", nargs="*", help="params.yaml sections to pass as parameters")
    args = parser.parse_args(argv)
    from papermill.exceptions import PapermillExecutionError

    try:
        out = run(args.notebook.resolve(), args.sections)
    except PapermillExecutionError as exc:
        print(f"error: {args.notebook.name} stopped: {exc.ename}: {exc.evalue}", file=sys.stderr)
        print(f"(the executed notebook with the failing cell is {config.EXECUTED_NOTEBOOKS / args.notebook.name})", file=sys.stderr)
        return 1
    except (KeyError, FileNotFoundError) as exc:
        print(f"error: {args.notebook.name}: {exc}", file=sys.stderr)
        return 1
    print(f"executed {args.notebook} → {out.relative_to(config.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
