"""Shared fixtures: tiny frames and the project's parameters."""

from __future__ import annotations

import socket
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest

from stages import config


def free_port() -> int:
    """A loopback port free now (the system's pick), for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gunicorn_command(port: int) -> list[str]:
    """gunicorn serving the app with `make serve`'s settings (api/gunicorn_conf.py) on loopback ``port``."""
    return [sys.executable, "-m", "gunicorn", "-c", "python:api.gunicorn_conf", "--bind", f"127.0.0.1:{port}", "api:create_app()"]

FEATURES = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]
LABELS = ["Channel", "Region"]
HEADER = ",".join(LABELS + FEATURES)


@pytest.fixture
def params() -> dict[str, Any]:
    """The shipped params.yaml."""
    return config.load_params()


@pytest.fixture
def good_csv() -> str:
    """Three valid customers as raw CSV text."""
    return "\n".join([HEADER, "2,3,12669,9656,7561,214,2674,1338", "2,3,7057,9810,9568,1762,3293,1776", "1,3,13265,1196,4221,6404,507,1788"]) + "\n"


def synthetic_customers(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Three well-separated synthetic buying patterns, log-normal like the real data."""
    rng = np.random.default_rng(seed)
    centres = np.log([[20000, 1500, 2000, 4000, 300, 900], [4000, 9000, 15000, 800, 6000, 1200], [3000, 1000, 1500, 700, 300, 300]])
    labels = rng.integers(0, 3, size=n)
    X = np.exp(centres[labels] + rng.normal(0, 0.25, size=(n, 6))).round()
    frame = pd.DataFrame(X, columns=FEATURES)
    frame.insert(0, "Region", rng.integers(1, 4, size=n))
    frame.insert(0, "Channel", np.where(labels == 1, 2, 1))
    frame.insert(0, "row", np.arange(1, n + 1))
    return frame


@pytest.fixture
def customers() -> pd.DataFrame:
    """120 synthetic customers in the prepared layout (row, labels, six categories)."""
    return synthetic_customers()
