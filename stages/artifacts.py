"""Writing pipeline outputs atomically, so a failed run never leaves a half-written file."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the mode any new file would have
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str) -> None:
    """Write text (UTF-8, LF) atomically."""
    _atomic(path, lambda p: p.write_text(text, encoding="utf-8", newline="\n"))


def write_json(path: Path, data: Any) -> None:
    """Write JSON with a stable layout (indent 2, insertion order, trailing newline)."""
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def read_json(path: Path) -> Any:
    """Read a JSON file."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """Write a CSV without the index, with LF line endings."""
    _atomic(path, lambda p: frame.to_csv(p, index=False, lineterminator="\n"))


def dump_model(path: Path, obj: Any) -> None:
    """Pickle a fitted model with joblib."""
    import joblib  # here, so that readers of JSON artifacts (the API's scorer) do not pay for it

    _atomic(path, lambda p: joblib.dump(obj, p))
