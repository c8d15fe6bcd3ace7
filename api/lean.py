"""Start-up of the command-line scorer without modules it does not use."""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType


class _HidePandas(importlib.abc.MetaPathFinder):
    """An import finder under which pandas looks not installed."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {fullname!r} (hidden from pyarrow)", name=fullname)
        return None


def pyarrow_without_pandas() -> bool:
    """Let pyarrow run in this process as it does where pandas is not installed; True when that took effect.

    pyarrow imports pandas the first time it builds any array (about 0.3 s on the development machine, a third of
    scoring 1,000,000 rows), only to recognise pandas objects among its inputs, and remembers the answer. pandas
    is an optional dependency of pyarrow and ``python -m api.score`` never hands it pandas objects, so pandas is
    hidden during that first check. Does nothing when pandas or pyarrow is already loaded; an ``import pandas``
    afterwards works as usual.
    """
    if "pandas" in sys.modules or "pyarrow" in sys.modules:
        return False
    finder = _HidePandas()
    sys.meta_path.insert(0, finder)
    try:
        import pyarrow as pa

        pa.array([0])  # pyarrow looks for pandas here, once
    finally:
        sys.meta_path.remove(finder)
    return "pandas" not in sys.modules
