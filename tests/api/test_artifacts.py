"""Start-up integrity: artifacts are checked against dvc.lock, and a bad one stops start-up with a clear message."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from api import create_app
from api.artifacts import FILES, ArtifactError, load, locked_md5
from stages.dataset import md5_of


def test_loads_the_real_artifacts_with_model_version_from_dvc_lock(artifact_copy: Path) -> None:
    art = load(artifact_copy)
    lock = yaml.safe_load((artifact_copy / "dvc.lock").read_text())
    recorded = [o["md5"] for s in lock["stages"].values() for o in s.get("outs", []) if o["path"] == "ml/segmenter.json"]
    assert art.model_version == recorded[0]
    assert len(art.personas) == art.segmenter.k == len(art.pca["centres"])


@pytest.mark.parametrize("rel", sorted(FILES.values()))
def test_one_changed_byte_stops_start_up_naming_the_file(artifact_copy: Path, rel: str) -> None:
    path = artifact_copy / rel
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError) as info:
        create_app({"ARTIFACTS_ROOT": artifact_copy})
    message = str(info.value)
    assert rel in message and "dvc repro" in message and "does not match" in message


@pytest.mark.parametrize("rel", sorted(FILES.values()))
def test_a_missing_file_stops_start_up_naming_it(artifact_copy: Path, rel: str) -> None:
    (artifact_copy / rel).unlink()
    with pytest.raises(ArtifactError, match=rf"{rel} is missing[\s\S]*dvc repro"):
        create_app({"ARTIFACTS_ROOT": artifact_copy})


def test_missing_dvc_lock_stops_start_up(artifact_copy: Path) -> None:
    (artifact_copy / "dvc.lock").unlink()
    with pytest.raises(ArtifactError, match="dvc.lock is missing"):
        load(artifact_copy)


def test_artifact_error_ends_the_process_without_a_traceback(artifact_copy: Path) -> None:
    (artifact_copy / FILES["segmenter"]).unlink()
    with pytest.raises(SystemExit) as info:
        load(artifact_copy)
    assert str(info.value.code).startswith("error: cannot start the API: ml/segmenter.json is missing")


def test_locked_md5_reads_every_stage_output(artifact_copy: Path) -> None:
    recorded = locked_md5(artifact_copy / "dvc.lock")
    assert set(FILES.values()) <= set(recorded)


@pytest.mark.parametrize("pages", [True, False])
def test_a_persona_without_a_name_stops_start_up_even_when_dvc_lock_agrees(artifact_copy: Path, pages: bool) -> None:
    """Content is checked too (the API and `api.score` both show persona names), not only the checksum."""
    path = artifact_copy / FILES["personas"]
    old = md5_of(path)
    personas = json.loads(path.read_text())
    personas[0]["name"] = 7
    path.write_text(json.dumps(personas))
    lock = artifact_copy / "dvc.lock"
    lock.write_text(lock.read_text().replace(old, md5_of(path)))  # as if the pipeline had written it
    with pytest.raises(ArtifactError, match=r"ml/personas.json does not have the expected content"):
        load(artifact_copy, pages=pages)


def _truncate_centroids(model: dict) -> None:
    model["centroids"] = [c[:-1] for c in model["centroids"]]


def _nan_in_pca(model: dict) -> None:
    model["pca"]["components"][1][2] = math.nan  # json.dumps writes NaN, which Python's json reads back


def _four_categories(model: dict) -> None:
    """A model as `dvc exp run -S 'data.features=[Fresh,Milk,Grocery,Frozen]'` fits it (all components kept)."""
    model["features"], model["impute"] = model["features"][:4], model["impute"][:4]
    model["scaler"] = {k: v[:4] for k, v in model["scaler"].items()}
    model["pca"] = {"mean": model["pca"]["mean"][:4], "components": [row[:4] for row in model["pca"]["components"][:4]]}
    model["centroids"] = [c[:4] for c in model["centroids"]]


@pytest.mark.parametrize(("spoil", "message"), [
    (_truncate_centroids, r"segmenter centroids: shape \(5,\) does not fit 6 features"),
    (_nan_in_pca, r"segmenter pca.components: holds a number that is not finite"),
    # it said "has features ['Fresh', …], the API expects [...]", not why nor what to do
    (_four_categories, r"ml/segmenter.json segments on Fresh, Milk, Grocery, Frozen \(params data.features\), but the API and `api.score` "
                       r"take a customer's six categories, .*: serve a model fitted on all six .* `dvc repro`"),
])
def test_a_faulty_model_stops_start_up_naming_the_field_even_when_dvc_lock_agrees(artifact_copy: Path, spoil, message: str) -> None:
    path = artifact_copy / FILES["segmenter"]
    old = md5_of(path)
    model = json.loads(path.read_text())
    spoil(model)
    path.write_text(json.dumps(model))
    lock = artifact_copy / "dvc.lock"
    lock.write_text(lock.read_text().replace(old, md5_of(path)))  # as if the pipeline had written it
    with pytest.raises(ArtifactError, match=message):
        load(artifact_copy)


@pytest.mark.parametrize(("recorded", "values"), [("error", "same"), ("median", None), ("median", "other")])
def test_a_data_report_that_disagrees_with_the_model_on_imputing_stops_start_up(artifact_copy: Path, recorded: str, values: str | None) -> None:
    """GET /api/fields says how a blank is filled in from ml/data_report.json's data.impute and ml/segmenter.json's
    values: a pair of files that disagree (a hand edit, files of two runs) would have the page say one thing while
    the model does another, so start-up stops naming both."""
    import dataclasses

    from stages.artifacts import read_json, write_json
    from stages.segmenter import Segmenter
    from tests.mixture import record

    report_path, model_path = artifact_copy / FILES["data_report"], artifact_copy / FILES["segmenter"]
    report = read_json(report_path)
    report["impute"]["strategy"] = recorded
    write_json(report_path, report)
    served = Segmenter.load(model_path)
    assert served.impute is not None  # the real model has imputation values, which "other" changes
    impute = {"same": served.impute, None: None, "other": [v + 1 for v in served.impute]}[values]
    write_json(model_path, dataclasses.replace(served, impute=impute).to_dict())
    for rel in (FILES["data_report"], FILES["segmenter"]):
        record(artifact_copy, rel)
    with pytest.raises(ArtifactError, match=rf"{FILES['data_report']} records data.impute '{recorded}'.* but {FILES['segmenter']} fills in"):
        load(artifact_copy)
