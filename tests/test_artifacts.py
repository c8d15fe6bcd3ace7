"""Tests of stages.artifacts: atomic, stable writes of pipeline outputs."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from stages.artifacts import dump_model, read_json, write_csv, write_json, write_text


def test_json_layout_is_stable_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "m.json"
    write_json(path, {"b": 1, "a": [1.5, 2]})
    assert path.read_text() == '{\n  "b": 1,\n  "a": [\n    1.5,\n    2\n  ]\n}\n'
    assert read_json(path) == {"b": 1, "a": [1.5, 2]}


def test_nan_is_refused_rather_than_written_as_invalid_json(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_json(tmp_path / "m.json", {"x": float("nan")})


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    dump_model(path, {"good": True})
    before = path.read_bytes()
    with pytest.raises(Exception, match="(?i)pickl"):
        dump_model(path, {"bad": lambda: None})  # fails half-way through writing the temporary file
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.joblib"]


def test_csv_has_no_index_and_lf_endings(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    write_csv(path, pd.DataFrame({"row": [1, 2], "x": [0.5, 1.0]}))
    assert path.read_bytes() == b"row,x\n1,0.5\n2,1.0\n"


def test_text_and_model_files(tmp_path: Path) -> None:
    write_text(tmp_path / "a.md", "é\n")
    assert (tmp_path / "a.md").read_bytes() == "é\n".encode()
    dump_model(tmp_path / "m.joblib", {"k": 3})
    import joblib

    assert joblib.load(tmp_path / "m.joblib") == {"k": 3}


def test_outputs_are_readable_like_any_new_file(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_json(tmp_path / "m.json", {"a": 1})
    finally:
        os.umask(old)
    assert (tmp_path / "m.json").stat().st_mode & 0o777 == 0o644
