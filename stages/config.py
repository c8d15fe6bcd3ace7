"""All project paths hang off this module, so the working directory never matters."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ROOT / "params.yaml"
DVC_LOCK = ROOT / "dvc.lock"

#: Where the pipeline writes its outputs: the project itself, unless SEGMENTATION_OUTPUT_ROOT names another folder
#: (`make test` runs the source notebooks under nbval that way, so a check never overwrites the DVC outputs).
OUTPUT_ROOT = Path(os.environ.get("SEGMENTATION_OUTPUT_ROOT") or ROOT)

DATA = ROOT / "data"
PROCESSED = OUTPUT_ROOT / "data" / "processed"
CUSTOMERS = PROCESSED / "customers.csv"
FEATURES = PROCESSED / "features.csv"

ML = OUTPUT_ROOT / "ml"
MODELS = ML / "models"
PLOTS = ML / "plots"
DATA_REPORT = ML / "data_report.json"
PREPROCESS_MODEL = MODELS / "preprocess.joblib"
FEATURES_REPORT = ML / "features.json"
K_SWEEP = PLOTS / "k_sweep.csv"
SELECT_K = ML / "select_k.json"
PCA_MAP = PLOTS / "pca_map.csv"
SEGMENTER = ML / "segmenter.json"
ASSIGNMENTS = ML / "assignments.csv"
METRICS = ML / "metrics.json"
PERSONAS = ML / "personas.json"
PERSONAS_MD = ML / "personas.md"

NOTEBOOKS = ROOT / "notebook"
EXECUTED_NOTEBOOKS = OUTPUT_ROOT / "site" / "notebooks"


def model_path(algorithm: str) -> Path:
    """Path of the joblib pipeline fitted for one clustering algorithm."""
    return MODELS / f"{algorithm}.joblib"


def load_params(path: Path = PARAMS) -> dict[str, Any]:
    """Read params.yaml as a plain dict."""
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)
