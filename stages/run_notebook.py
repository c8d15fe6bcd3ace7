"""Run one pipeline notebook with Papermill, its parameters taken from params.yaml.

Usage: ``python -m stages.run_notebook notebook/01_prepare.ipynb base data``
runs the notebook with the named params.yaml sections as dict parameters (each holding only the keys its
``dvc.yaml`` stage tracks) and writes the
executed copy to ``site/notebooks/`` with Papermill's timestamps stripped and Plotly's random element ids made
stable, so the executed copy is byte-identical run after run.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import filecmp
import os
import re
import shutil
import signal
import sys
import tempfile
import traceback
import uuid
from pathlib import Path
from typing import IO, Any

import nbformat
import yaml

from stages import config, numerics
from stages.params import ParamsError, check as check_params

#: Metadata that changes on every run; removing it keeps executed notebooks stable.
VOLATILE_KEYS = ("start_time", "end_time", "duration", "exception")
PARAMETERS_HEADER = "# Parameters: Papermill replaces this cell with the matching sections of params.yaml."
CHECK_MARK = "NBVAL_CHECK_OUTPUT"


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


#: A random (version 4) UUID, as Plotly writes for the element id of every figure it renders to HTML.
RANDOM_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b")


def stable_ids(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """Replace the ids drawn at random on every run by stable ones, in place.

    Papermill gives the parameters cell it injects a random cell id, and Plotly gives each figure's HTML a fresh
    uuid4. The injected cell gets the id ``injected-parameters``; each uuid4 in an output becomes a uuid5 of the
    notebook's name and a counter (the same id everywhere it is used), so an executed notebook is byte-identical
    run after run.
    """
    mapping: dict[str, str] = {}

    def stable(match: re.Match[str]) -> str:
        return mapping.setdefault(match.group(0), str(uuid.uuid5(uuid.NAMESPACE_URL, f"{name}#{len(mapping)}")))

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return RANDOM_UUID.sub(stable, value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return type(value)({k: walk(v) for k, v in value.items()})
        return value

    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"
        if "outputs" in cell:
            cell.outputs = [nbformat.from_dict(walk(output)) for output in cell.outputs]
    return nb


def parameter_sections(nb: nbformat.NotebookNode) -> list[str]:
    """Names the cell tagged ``parameters`` assigns (each is a params.yaml section)."""
    cell = parameters_cell(nb)
    return [t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)]


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The cell tagged ``parameters`` (Papermill's convention)."""
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            return cell
    raise ValueError("the notebook has no cell tagged 'parameters'")


def sync_parameters(nb: nbformat.NotebookNode, params: dict[str, Any]) -> nbformat.NotebookNode:
    """Rewrite the parameters cell so it mirrors ``params`` (the sections as :func:`parameters_for` gives them), in place."""
    cell = parameters_cell(nb)
    lines = [PARAMETERS_HEADER] + [f"{s} = {params[s]!r}" for s in parameter_sections(nb)]
    cell.source = "\n".join(lines)
    return nb


def copy_checked_outputs(source: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> int:
    """Copy the outputs of ``NBVAL_CHECK_OUTPUT`` cells from an executed copy into the source; returns how many."""
    by_source = {c.source: c for c in executed.cells if c.cell_type == "code"}
    copied = 0
    for cell in source.cells:
        if cell.cell_type == "code" and CHECK_MARK in cell.source and cell.source in by_source:
            executed_cell = by_source[cell.source]
            cell.outputs = [nbformat.from_dict(dict(o)) for o in executed_cell.outputs]
            cell.execution_count = executed_cell.execution_count  # nbval ignores outputs of "unrun" cells
            copied += 1
    return copied


def refresh_sources(params: dict[str, Any]) -> list[str]:
    """Sync every source notebook's parameters with params.yaml (as its stage receives them) and its checked
    outputs with the executed copy."""
    report = []
    for path in sorted(config.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nb = sync_parameters(nb, parameters_for(parameter_sections(nb), params, tracked_params(path)))
        executed = config.EXECUTED_NOTEBOOKS / path.name
        n = copy_checked_outputs(nb, nbformat.read(executed, as_version=4)) if executed.exists() else 0
        nbformat.write(nb, path)
        report.append(f"{path.relative_to(config.ROOT)}: parameters synced, {n} checked output(s) refreshed")
    return report


def tracked_params(notebook: Path, dvc_yaml: Path = config.ROOT / "dvc.yaml") -> list[str] | None:
    """The ``params`` entries (``section`` or ``section.key``) of the ``dvc.yaml`` stage whose command runs
    ``notebook``; None when no stage runs it (a notebook run outside the pipeline gets whole sections)."""
    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")).get("stages", {})
    for stage in stages.values():
        if any(Path(word).name == Path(notebook).name for word in str(stage.get("cmd", "")).split()):
            entries: list[str] = []
            for entry in stage.get("params", []):
                entries += [entry] if isinstance(entry, str) else entry.get("params.yaml", [])
            return entries
    return None


def _pick(value: Any, paths: list[list[str]]) -> Any:
    """``value`` reduced to the keys ``paths`` name (an empty path keeps it whole), in ``value``'s own order."""
    if [] in paths or not isinstance(value, dict):
        return value
    return {k: _pick(v, [p[1:] for p in paths if p[0] == k]) for k, v in value.items() if any(p[0] == k for p in paths)}


def parameters_for(sections: list[str], params: dict[str, Any], tracked: list[str] | None = None) -> dict[str, Any]:
    """The params.yaml sections a notebook takes, each as one dict parameter.

    With ``tracked`` (its stage's ``params`` in ``dvc.yaml``), each section holds only the keys DVC tracks for the
    stage: the executed notebook shows exactly what its outputs depend on, and a notebook that reads a key its
    stage does not track fails (``KeyError``) instead of going stale when that key changes.
    """
    missing = [s for s in sections if s not in params]
    if missing:
        raise KeyError(f"params.yaml has no section(s) {', '.join(missing)}")
    if tracked is None:
        return {s: params[s] for s in sections}
    paths = [entry.split(".") for entry in tracked]
    untracked = [s for s in sections if not any(p[0] == s for p in paths)]
    if untracked:
        raise KeyError(f"the notebook takes params.yaml section(s) {', '.join(untracked)}, which its dvc.yaml stage does not list under params")
    return {s: _pick(params[s], [p[1:] for p in paths if p[0] == s]) for s in sections}


def kernel_manager(sockets: Path, stderr: IO[bytes]) -> Any:
    """The ``jupyter_client`` kernel manager of one run.

    - Asynchronous, the kind nbclient expects: with a blocking one, nbclient waits for the kernel's output without a
      timeout, never runs its check that the kernel is alive, and a kernel that dies (killed, out of memory) hangs
      the stage for ever.
    - IPC (Unix sockets under ``sockets``) rather than loopback TCP between Papermill and its kernel, so the channels
      are private to this user.
    - The kernel process's own standard error goes to ``stderr`` rather than the terminal. That stream carries
      ipykernel's log, for example the ``ZMQError: Socket operation on non-socket`` traceback of a race in
      ipykernel's shutdown (7.4.0 publishes an idle status after its IOPub thread has closed), which a user would
      read as the stage's error. What a cell writes to file descriptor 2 also reaches the notebook.
    - Papermill leaves open the channels of the clients it opens on a manager it was given: ``close_clients()``.
    """
    from jupyter_client.manager import AsyncKernelManager

    class LoggedKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]  # declared sync, run as a coroutine
            await super().start_kernel(stderr=stderr, **kw)

        def client(self, **kw: Any) -> Any:
            opened.append(super().client(**kw))
            return opened[-1]

        def close_clients(self) -> None:
            while opened:
                opened.pop().stop_channels()

    opened: list[Any] = []
    return LoggedKernelManager(kernel_name="python3", transport="ipc", ip=str(sockets / "kernel"))


def cancel_pending() -> None:
    """Cancel the tasks that a Papermill run stopped by a signal leaves on this thread's event loop (its wait for the
    cell's reply, its check that the kernel is alive). Left pending, they would wake up when the kernel is shut down,
    report it dead and print a ``Task exception was never retrieved`` traceback at exit. A loop that is running
    (another library's, in this thread) is not Papermill's: ``jupyter_core`` then runs Papermill on a thread of its own,
    which a signal does not interrupt."""
    from jupyter_core.utils import ensure_event_loop

    loop = ensure_event_loop()
    if loop.is_running():
        return
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def kernel_log_of(notebook: Path) -> Path:
    """Where a stage's kernel messages (and the traceback of a failure that is not a cell's) go, replaced each run."""
    return STAGING / f"{notebook.stem}.log"


def run(notebook: Path, sections: list[str], output_dir: Path = config.EXECUTED_NOTEBOOKS,
        kernel_log: Path | None = None) -> Path:
    """Execute ``notebook`` with Papermill and return the path of the executed copy; the kernel process's own
    messages go to ``kernel_log`` (default ``STAGING/<notebook>.log``, replaced on each run)."""
    import papermill as pm
    from jupyter_core.utils import run_sync

    output_dir.mkdir(parents=True, exist_ok=True)
    out = output_dir / notebook.name
    parameters = parameters_for(sections, config.load_params(), tracked_params(notebook))
    kernel_log = kernel_log or kernel_log_of(notebook)
    kernel_log.parent.mkdir(parents=True, exist_ok=True)
    log = kernel_log.open("wb")
    sockets = tempfile.TemporaryDirectory(prefix="papermill-")
    km = kernel_manager(Path(sockets.name), log)
    stopped = False
    try:
        with numerics.pinned():  # the kernel starts with the same numeric kernels on every machine
            pm.execute_notebook(
                str(notebook), str(out), parameters=parameters, kernel_name="python3",
                cwd=str(config.ROOT), progress_bar=False, log_output=False, km=km,
            )
    except (KeyboardInterrupt, Stopped):
        stopped = True
        raise
    finally:
        if stopped:
            cancel_pending()
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=stopped)  # stopped: do not wait for the running cell
        km.close_clients()
        log.close()
        sockets.cleanup()
        if out.exists():
            nb = nbformat.read(out, as_version=4)
            nbformat.write(stable_ids(strip_timestamps(nb), notebook.name), out)
    return out


#: The folders a stage reads earlier stages' outputs from and writes its own to (relative to the output root).
STAGE_FOLDERS = (Path("data") / "processed", Path("ml"))
#: Where a stage runs before its outputs are published, and where a failed run's notebook is kept: git-ignored,
#: on the project's file system (so publishing is a rename), outside every DVC output.
STAGES_FOLDER = Path(".dvc", "tmp", "stages")
STAGING = config.ROOT / STAGES_FOLDER
#: Where DVC makes the temporary workspaces of `dvc exp run --temp` and of queued experiments (and deletes them after).
DVC_TEMP_WORKSPACES = (".dvc", "tmp", "exps")


def project_root(root: Path = config.ROOT) -> Path:
    """The project the user works in: ``root``, or the project that holds it when ``root`` is one of DVC's
    temporary experiment workspaces (``<project>/.dvc/tmp/exps/…/tmpXXXX``)."""
    parts, n = root.parts, len(DVC_TEMP_WORKSPACES)
    starts = [i for i in range(len(parts) - n) if parts[i : i + n] == DVC_TEMP_WORKSPACES]
    return Path(*parts[: starts[0]]) if starts else root


def kept_folder(root: Path = config.ROOT) -> Path:
    """Where a failed run's executed notebook (and kernel log) is kept for the user to open: ``STAGING``, or for a
    run in one of DVC's temporary workspaces, which DVC deletes when the experiment ends, a folder named after that
    workspace under the user's project (``.dvc/tmp/stages/exps/tmpXXXX/``)."""
    project = project_root(root)
    return project / STAGES_FOLDER if project == root else project / STAGES_FOLDER / "exps" / root.name


#: How many temporary workspaces' failures :func:`prune_kept` keeps (the most recent): a queue of failing experiments
#: would otherwise leave a folder each, for good.
KEPT_WORKSPACES = 20


def prune_kept(keep: Path, root: Path = config.ROOT) -> list[Path]:
    """When ``keep`` is a temporary workspace's folder (``.dvc/tmp/stages/exps/tmpXXXX``), remove all but the
    :data:`KEPT_WORKSPACES` most recently changed such folders, ``keep`` always among those kept; returns those
    removed. Another workspace's failure of the last few runs is what a researcher still opens."""
    if keep == project_root(root) / STAGES_FOLDER or not keep.parent.is_dir():
        return []
    others = sorted((d for d in keep.parent.iterdir() if d.is_dir() and d != keep), key=lambda d: (d.stat().st_mtime, d.name), reverse=True)
    gone = others[KEPT_WORKSPACES - 1 :]
    for folder in gone:
        shutil.rmtree(folder, ignore_errors=True)
    return gone


def shown(path: Path) -> str:
    """``path`` as the user's project sees it (relative to :func:`project_root`)."""
    project = project_root()
    return str(path.relative_to(project)) if path.is_relative_to(project) else str(path)


def seed(staging: Path, root: Path = config.ROOT) -> None:
    """Copy the current outputs a stage may read (``STAGE_FOLDERS``) from ``root`` into ``staging``."""
    for folder in STAGE_FOLDERS:
        if (root / folder).is_dir():
            shutil.copytree(root / folder, staging / folder, dirs_exist_ok=True)


def publish(staging: Path, root: Path = config.ROOT) -> list[Path]:
    """Move every file of ``staging`` that is new or differs from its counterpart under ``root`` into place (a
    rename each: a reader sees the old file or the new one, never half of one); returns their paths under root."""
    moved = []
    for staged in sorted(p for p in staging.rglob("*") if p.is_file()):
        target = root / staged.relative_to(staging)
        if target.is_file() and filecmp.cmp(staged, target, shallow=False):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
        moved.append(target)
    return moved


def run_stage(notebook: Path, sections: list[str]) -> Path:
    """Run a stage's notebook so that it changes nothing unless it succeeds.

    The notebook runs with ``SEGMENTATION_OUTPUT_ROOT`` set to a staging folder seeded with the current outputs;
    only when it has run to the end are its outputs (the executed copy included) moved into the project. A failure
    leaves every output as it was (dvc.yaml marks them ``persist``, so DVC does not delete them first either) and
    keeps the failed executed notebook in :func:`kept_folder` (raised as :class:`StageFailed`); the one an earlier
    failure kept is removed first, so the file is there only while its stage's last run failed.
    """
    STAGING.mkdir(parents=True, exist_ok=True)
    keep = kept_folder()
    kept = keep / f"{notebook.stem}.failed.ipynb"
    kept.unlink(missing_ok=True)
    for left in STAGING.glob(f"{notebook.stem}-*"):  # from a run killed outright (DVC runs one stage at a time)
        shutil.rmtree(left, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{notebook.stem}-", dir=STAGING))
    executed = staging / config.EXECUTED_NOTEBOOKS.relative_to(config.OUTPUT_ROOT)
    try:
        seed(staging)
        previous = os.environ.get("SEGMENTATION_OUTPUT_ROOT")
        os.environ["SEGMENTATION_OUTPUT_ROOT"] = str(staging)  # the kernel's stages.config writes there
        try:
            run(notebook, sections, executed)
        finally:
            if previous is None:
                os.environ.pop("SEGMENTATION_OUTPUT_ROOT")
            else:
                os.environ["SEGMENTATION_OUTPUT_ROOT"] = previous
    except BaseException as exc:
        failed, log = executed / notebook.name, kernel_log_of(notebook)
        keep.mkdir(parents=True, exist_ok=True)
        prune_kept(keep)
        if failed.exists():
            shutil.move(failed, kept)
        if keep != STAGING and log.exists():  # the temporary workspace's own goes with it
            log = Path(shutil.copy2(log, keep / log.name))
        shutil.rmtree(staging, ignore_errors=True)
        raise StageFailed(kept if kept.exists() else None, log) from exc
    publish(staging)
    shutil.rmtree(staging, ignore_errors=True)
    return config.EXECUTED_NOTEBOOKS / notebook.name


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: raised in the main thread, so the staging folder is removed like on Ctrl-C. A
    KeyboardInterrupt, because asyncio lets only that (and SystemExit) out of its callbacks: raised in one while
    Papermill waits (a plain BaseException), it was logged and dropped, and the stage ran on."""


def _stop(signum: int, frame: object) -> None:
    raise Stopped(signum)


class StageFailed(Exception):
    """A stage's notebook did not run to the end; ``notebook`` is the failed executed copy, when there is one, and
    ``log`` the kernel's log."""

    def __init__(self, notebook: Path | None, log: Path) -> None:
        super().__init__(notebook, log)
        self.notebook = notebook
        self.log = log


def main(argv: list[str] | None = None) -> int:
    """Command-line entry used by the stages of dvc.yaml."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path, nargs="?")
    parser.add_argument("sections", nargs="*", help="params.yaml sections to pass as parameters")
    parser.add_argument("--refresh-sources", action="store_true", help="sync notebook/*.ipynb parameters and checked outputs")
    args = parser.parse_args(argv)
    if args.refresh_sources:
        print("\n".join(refresh_sources(config.load_params())))
        return 0
    if args.notebook is None:
        parser.error("a notebook is needed")
    from papermill.exceptions import PapermillExecutionError

    try:  # before any work: a bad value stops the first stage that runs, naming its key
        check_params(config.load_params())
    except ParamsError as problem:
        print(f"error: {args.notebook.name}: {problem}", file=sys.stderr)
        print("nothing was changed: the stage's previous outputs are in place", file=sys.stderr)
        return 1
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        out = run_stage(args.notebook.resolve(), args.sections)
    except StageFailed as failed:
        exc = failed.__cause__
        if isinstance(exc, (KeyboardInterrupt, Stopped)):
            signum = exc.args[0] if isinstance(exc, Stopped) else signal.SIGINT
            print(f"error: {args.notebook.name} stopped by {signal.Signals(signum).name}", file=sys.stderr)
        elif isinstance(exc, PapermillExecutionError):
            print(f"error: {args.notebook.name} stopped: {exc.ename}: {exc.evalue}", file=sys.stderr)
        elif isinstance(exc, (KeyError, FileNotFoundError)):
            print(f"error: {args.notebook.name}: {exc}", file=sys.stderr)
        else:  # the kernel died or did not start, or a fault of the runner itself: its traceback goes to the log
            with failed.log.open("a") as fh:
                traceback.print_exception(exc, file=fh)
            print(f"error: {args.notebook.name} stopped: {type(exc).__name__}: {exc}".rstrip(), file=sys.stderr)
            print(f"(the kernel's messages and the traceback are in {shown(failed.log)})", file=sys.stderr)
        if failed.notebook is not None:
            print(f"(the executed notebook with the failing cell is {shown(failed.notebook)})", file=sys.stderr)
        print("nothing was changed: the stage's previous outputs are in place", file=sys.stderr)
        return 128 + exc.args[0] if isinstance(exc, Stopped) else 130 if isinstance(exc, KeyboardInterrupt) else 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"executed {args.notebook} → {out.relative_to(config.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
