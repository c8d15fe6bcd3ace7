"""A served Gaussian-mixture model for the API and page tests, where the most probable segment is not always the nearest.

The pipeline serves k-Means by default; ``cluster.algorithm=gmm`` serves a mixture. These helpers turn the committed
model into a mixture over the same centres whose segment 0 is wide and the others narrow, so a customer away from
every centre goes to segment 0 even where another centre is nearer, and write it as a complete artifact set (with
``dvc.lock`` recording its md5, as ``dvc repro`` would) that ``api.create_app`` accepts. :func:`copy_artifacts`
is that copy as the pipeline left it (the API tests damage it).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import yaml

from api.artifacts import FILES
from stages import artifacts, config
from stages.dataset import md5_of
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


def write_artifacts(root: Path, segmenter: Segmenter) -> Path:
    """Copy the API's artifacts into ``root`` with ``segmenter`` as ml/segmenter.json, recorded in the copy of dvc.lock."""
    copy_artifacts(root)
    target = root / FILES["segmenter"]
    artifacts.write_json(target, segmenter.to_dict())
    lock = yaml.safe_load((root / "dvc.lock").read_text(encoding="utf-8"))
    for stage in lock["stages"].values():
        for out in stage.get("outs", []):
            if out["path"] == FILES["segmenter"]:
                out.update(md5=md5_of(target), size=target.stat().st_size)
    (root / "dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False), encoding="utf-8")
    return root


def mixture_artifacts(root: Path) -> Path:
    """The artifact set of :func:`uneven_mixture` of the committed model, in ``root``."""
    return write_artifacts(root, uneven_mixture(Segmenter.load(config.SEGMENTER)))
