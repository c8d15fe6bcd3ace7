"""The pipeline's artifacts, checked against dvc.lock and loaded once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import yaml

from api.fields import FEATURES, MAX_SPEND
from stages import config
from stages.artifacts import read_json
from stages.dataset import CATEGORY_NAMES, md5_of
from stages.names import algorithm_name, axis_meaning
from stages.segmenter import Segmenter

if TYPE_CHECKING:
    import pandas as pd

#: What the API reads, as paths relative to the project root (the way dvc.lock names them).
FILES = {
    name: path.relative_to(config.ROOT).as_posix()
    for name, path in {
        "segmenter": config.SEGMENTER,
        "personas": config.PERSONAS,
        "pca_map": config.PCA_MAP,
        "k_sweep": config.K_SWEEP,
        "select_k": config.SELECT_K,
        "metrics": config.METRICS,
        "data_report": config.DATA_REPORT,
    }.items()
}
REBUILD = "Run `dvc repro` to rebuild the pipeline's artifacts, then start the API again."


class ArtifactError(SystemExit):
    """An artifact is missing or differs from dvc.lock: start-up stops with a message (no traceback)."""

    def __init__(self, message: str):
        super().__init__(f"error: cannot start the API: {message}\n{REBUILD}")
        self.message = message


#: libyaml's parser where PyYAML was built with it (ten times faster on dvc.lock), the pure-Python one otherwise.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def locked_md5(lock_path: Path) -> dict[str, str]:
    """md5 of every stage output recorded in dvc.lock, by path."""
    if not lock_path.is_file():
        raise ArtifactError(f"{lock_path.name} is missing, so the artifacts cannot be checked")
    try:
        lock = yaml.load(lock_path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
        return {out["path"]: out["md5"] for stage in lock.get("stages", {}).values() for out in stage.get("outs", [])}
    except (yaml.YAMLError, AttributeError, KeyError, TypeError) as exc:
        raise ArtifactError(f"{lock_path.name} cannot be read ({exc})") from None


def verify(root: Path, recorded: dict[str, str], lock_name: str, files: dict[str, str] = FILES) -> dict[str, Path]:
    """Check each file exists and matches its md5 in dvc.lock; return their paths. Raises :class:`ArtifactError`."""
    paths = {}
    for name, rel in files.items():
        path = root / rel
        if not path.is_file():
            raise ArtifactError(f"{rel} is missing")
        if rel not in recorded:
            raise ArtifactError(f"{rel} is not recorded in {lock_name}")
        found = md5_of(path)
        if found != recorded[rel]:
            raise ArtifactError(f"{rel} does not match {lock_name} (md5 {found}, recorded {recorded[rel]}): it was changed outside the pipeline")
        paths[name] = path
    return paths


@dataclass(frozen=True)
class Artifacts:
    """Everything the API serves, loaded once."""

    segmenter: Segmenter
    model_version: str
    personas: list[dict[str, Any]]
    #: The answers of the GET endpoints (empty when loaded with ``pages=False``, as ``python -m api.score`` does).
    clusters: dict[str, Any] = field(default_factory=dict)
    pca: dict[str, Any] = field(default_factory=dict)
    elbow: dict[str, Any] = field(default_factory=dict)
    features: list[dict[str, Any]] = field(default_factory=list)
    #: ``impute`` of ``GET /api/fields`` (:func:`impute_info`): how a category left out is filled in; None: it is refused.
    impute: dict[str, Any] | None = None

    @cached_property
    def persona_names(self) -> list[str]:
        """Persona name of each segment id."""
        return [p["name"] for p in self.personas]

    @cached_property
    def health(self) -> dict[str, Any]:
        """The answer of ``GET /api/health``: the same for the served model's whole life."""
        algorithm = self.segmenter.algorithm
        return {"status": "ok", "model_version": self.model_version, "k": self.segmenter.k, "algorithm": algorithm,
                "algorithm_name": algorithm_name(algorithm)}

    @cached_property
    def briefs(self) -> list[dict[str, Any]]:
        """The persona of each segment as shown with an answer (``PersonaBrief``)."""
        from api.schemas import PersonaBrief  # pydantic: not needed by the command-line scorer
        return [PersonaBrief.model_validate(p).model_dump() for p in self.personas]

    @cached_property
    def brief_fragments(self) -> list[orjson.Fragment]:
        """:attr:`briefs` serialised once: orjson embeds them in each answer as they are."""
        return [orjson.Fragment(orjson.dumps(b)) for b in self.briefs]


def _nan_to_none(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]


def feature_info(pca_map: pd.DataFrame) -> list[dict[str, Any]]:
    """Label, 5th percentile, median and 95th percentile of each category over the training customers."""
    from api.schemas import FeatureInfo
    q = pca_map[list(FEATURES)].quantile([0.05, 0.5, 0.95])
    return [
        FeatureInfo(
            name=f,
            label=CATEGORY_NAMES[f].capitalize(),
            unit="monetary units per year",
            p5=float(q.loc[0.05, f]),
            median=float(q.loc[0.5, f]),
            p95=float(q.loc[0.95, f]),
            max_allowed=MAX_SPEND,
        ).model_dump()
        for f in FEATURES
    ]


def impute_info(report: dict[str, Any], segmenter: Segmenter) -> dict[str, Any] | None:
    """How a category left out is filled in: the method ml/data_report.json records (params data.impute when the
    pipeline ran) with the values ml/segmenter.json fills in, or None when it fills in none; ValueError if they disagree."""
    from api.schemas import ImputeInfo

    method = report["impute"]["strategy"]
    values = None if segmenter.impute is None else dict(zip(segmenter.features, segmenter.impute, strict=True))
    if (method == "error") != (values is None) or (values is not None and values != report["impute"]["values"]):
        raise ValueError(f"{FILES['data_report']} records data.impute {method!r} with values {report['impute']['values']}, "
                         f"but {FILES['segmenter']} fills in {values}")
    return None if values is None else ImputeInfo(method=method, values=values).model_dump()


def load(root: Path = config.ROOT, lock_path: Path | None = None, *, pages: bool = True) -> Artifacts:
    """Verify and load the artifacts under ``root``; raises :class:`ArtifactError` naming the file at fault.

    ``pages=False`` skips building the GET endpoints' answers (and importing scikit-learn for them).
    """
    lock_path = lock_path or root / "dvc.lock"
    recorded = locked_md5(lock_path)  # dvc.lock is large: parsed once
    paths = verify(root, recorded, lock_path.name)
    version = recorded[FILES["segmenter"]]
    try:
        segmenter = Segmenter.load(paths["segmenter"])
        personas = read_json(paths["personas"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"an artifact cannot be read ({exc})") from None
    if tuple(segmenter.features) != FEATURES:
        raise ArtifactError(
            f"{FILES['segmenter']} segments on {', '.join(segmenter.features)} (params data.features), but the API and "
            f"`api.score` take a customer's six categories, {', '.join(FEATURES)}, in that order: serve a model fitted on "
            f"all six (data.features as shipped in params.yaml; an experiment's model is not applied until `dvc exp apply`), "
            f"then run `dvc repro`")
    if not isinstance(personas, list) or [p.get("id") for p in personas] != list(range(segmenter.k)):
        raise ArtifactError(f"{FILES['personas']} does not describe segments 0..{segmenter.k - 1} in order")
    art = Artifacts(segmenter=segmenter, model_version=version, personas=personas)
    try:  # every persona has what an answer shows (the API), or at least a name (the command-line scorer)
        if pages:
            art.brief_fragments  # noqa: B018
        elif not all(isinstance(name, str) and name for name in art.persona_names):
            raise ValueError("a persona has no name")
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"{FILES['personas']} does not have the expected content ({exc})") from None
    return _with_pages(art, paths) if pages else art


def _with_pages(art: Artifacts, paths: dict[str, Path]) -> Artifacts:
    """Add the answers of the GET endpoints, checked against their response models."""
    # Imported here: pandas and these stage modules (scikit-learn) are not needed by the command-line scorer.
    import pandas as pd

    from api.schemas import ClustersOut, ElbowOut, PcaOut
    from stages.cluster import map_centres
    from stages.select_k import long as sweep_long
    from stages.select_k import swept_algorithms

    try:
        metrics = read_json(paths["metrics"])
        chosen = read_json(paths["select_k"])
        pca_map = pd.read_csv(paths["pca_map"])
        sweep = pd.read_csv(paths["k_sweep"])
        centres = map_centres(pca_map)
        algorithms = swept_algorithms(sweep)
        # model_validate: the plain data read from the files, checked against the response models
        clusters = ClustersOut.model_validate(dict(model_version=art.model_version, k=art.segmenter.k, algorithm=art.segmenter.algorithm, personas=art.personas))
        pca = PcaOut.model_validate(dict(
            model_version=art.model_version,
            explained_variance=metrics["pca_explained_variance"],
            axes={"x": "PC1", "y": "PC2"},
            axis_meaning={axis: axis_meaning(dict(zip(FEATURES, art.segmenter.pca_components[i].tolist(), strict=True)))
                          for i, axis in enumerate(("x", "y"))},
            points=[
                {"x": x, "y": y, "segment": s, "clustered": bool(c)}
                for x, y, s, c in pca_map[["PC1", "PC2", "segment", "clustered"]].itertuples(index=False)
            ],
            centres=[{"segment": i, "x": float(x), "y": float(y)} for i, (x, y) in enumerate(centres)],
        ))
        elbow = ElbowOut.model_validate(dict(
            algorithm=chosen["algorithm"],
            criterion=chosen["criterion"],
            chosen_k=chosen["chosen_k"],
            k_used=art.segmenter.k,
            rows=_nan_to_none(sweep_long(sweep, algorithms)),
        ))
        features = feature_info(pca_map)
        impute = impute_info(read_json(paths["data_report"]), art.segmenter)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"an artifact does not have the expected content ({exc})") from None
    return replace(art, clusters=clusters.model_dump(), pca=pca.model_dump(), elbow=elbow.model_dump(), features=features,
                   impute=impute)
