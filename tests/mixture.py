"""Artifact sets for the API and page tests that the shipped data do not give: a served Gaussian mixture, where the
most probable segment is not always the nearest, and personas of data where most customers buy no frozen food.

The pipeline serves k-Means by default; ``cluster.algorithm=gmm`` serves a mixture. These helpers turn the committed
model into a mixture over the same centres whose segment 0 is wide and the others narrow, so a customer away from
every centre goes to segment 0 even where another centre is nearer, and write it as a complete artifact set (with
``dvc.lock`` recording its md5, as ``dvc repro`` would) that ``api.create_app`` accepts. :func:`copy_artifacts`
is that copy as the pipeline left it (the API tests damage it). :func:`unbought_artifacts` is the committed model
with the personas of the same customers but no frozen food bought outside segment 0 (a base median of 0).
:func:`impute_artifacts` is the committed model as ``data.impute: mean`` or ``error`` would serve it.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from typing import Any

import numpy as np
import pandas as pd
import yaml

from api.artifacts import FILES
from stages import artifacts, config
from stages.dataset import md5_of
from stages.features import space_columns
from stages.personas import build_personas
from stages.prepare import impute_values
from stages.segmenter import Segmenter

#: Cholesky factors of the precisions: segment 0 has a standard deviation of 2 in every direction, the others of 1.25.
WIDE, NARROW = 0.5, 0.8


def uneven_mixture(served: Segmenter) -> Segmenter:
    """The served centres as a Gaussian mixture with equal weights, segment 0 wide and the others narrow."""
    k, d = served.centroids.shape
    scales = np.array([WIDE] + [NARROW] * (k - 1))
    return dataclasses.replace(
        served, kind="gaussian_mixture", algorithm="gmm", weights=np.full(k, 1 / k), precisions_cholesky=scales[:, None, None] * np.eye(d)
    )


def copy_artifacts(root: Path) -> Path:
    """A copy of the artifacts the API reads, with dvc.lock, in ``root``."""
    for rel in FILES.values():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(config.ROOT / rel, root / rel)
    shutil.copyfile(config.DVC_LOCK, root / "dvc.lock")
    return root


def record(root: Path, rel: str) -> None:
    """Record the md5 and size of ``root / rel`` in the copy of dvc.lock in ``root``, as ``dvc repro`` would."""
    target = root / rel
    lock = yaml.safe_load((root / "dvc.lock").read_text(encoding="utf-8"))
    for stage in lock["stages"].values():
        for out in stage.get("outs", []):
            if out["path"] == rel:
                out.update(md5=md5_of(target), size=target.stat().st_size)
    (root / "dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False), encoding="utf-8")


def write_artifacts(root: Path, segmenter: Segmenter) -> Path:
    """Copy the API's artifacts into ``root`` with ``segmenter`` as ml/segmenter.json, recorded in the copy of dvc.lock."""
    copy_artifacts(root)
    artifacts.write_json(root / FILES["segmenter"], segmenter.to_dict())
    record(root, FILES["segmenter"])
    return root


#: The segment of :func:`unbought_personas` that buys frozen food: under half the customers, so the base median is 0.
BUYS_FROZEN = 0


def unbought_personas() -> list[dict[str, Any]]:
    """The personas of the committed segments, built as the personas stage builds them, from the customers with their
    frozen food spending set to 0 outside segment :data:`BUYS_FROZEN`: most customers buy none of it."""
    params = config.load_params()
    features, n_components = params["data"]["features"], params["features"]["pca"]["n_components"]
    customers = pd.read_csv(config.CUSTOMERS)
    rows = customers[["row"]]
    segments = rows.merge(pd.read_csv(config.ASSIGNMENTS), on="row", validate="1:1")[params["cluster"]["algorithm"]].to_numpy()
    S = rows.merge(pd.read_csv(config.FEATURES), on="row", validate="1:1")[space_columns(features, n_components)].to_numpy()
    customers["Frozen"] = np.where(segments == BUYS_FROZEN, customers["Frozen"], 0.0)
    return build_personas(customers, segments, S, features, params["personas"])


def unbought_artifacts(root: Path) -> Path:
    """The committed artifacts with :func:`unbought_personas` as ml/personas.json, in ``root``."""
    copy_artifacts(root)
    artifacts.write_json(root / FILES["personas"], unbought_personas())
    record(root, FILES["personas"])
    return root


def mixture_artifacts(root: Path) -> Path:
    """The artifact set of :func:`uneven_mixture` of the committed model, in ``root``."""
    return write_artifacts(root, uneven_mixture(Segmenter.load(config.SEGMENTER)))


def impute_artifacts(root: Path, method: str) -> Path:
    """The committed artifacts as ``data.impute: method`` (median, mean or error) gives them, in ``root``: the
    prepare stage's record of it in ml/data_report.json and the values ml/segmenter.json fills in (none under error),
    both computed as the pipeline computes them from the same customers; the segments stay the committed ones."""
    copy_artifacts(root)
    features = config.load_params()["data"]["features"]
    values = impute_values(pd.read_csv(config.CUSTOMERS), features, method)
    report = artifacts.read_json(root / FILES["data_report"])
    report["impute"].update(strategy=method, values=values)
    artifacts.write_json(root / FILES["data_report"], report)
    served = Segmenter.load(config.SEGMENTER)
    artifacts.write_json(root / FILES["segmenter"], dataclasses.replace(served, impute=[values[f] for f in features] if values else None).to_dict())
    for rel in (FILES["data_report"], FILES["segmenter"]):
        record(root, rel)
    return root
