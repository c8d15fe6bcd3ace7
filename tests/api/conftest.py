"""Fixtures in the flaskr style: ``app`` and ``client`` on the real artifacts, and a private copy of the artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from tests.mixture import copy_artifacts, mixture_artifacts, unbought_artifacts

GOOD = {"Fresh": 12669, "Milk": 9656, "Grocery": 7561, "Frozen": 214, "Detergents_Paper": 2674, "Delicassen": 1338}
HEADER = "Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen,Channel,Region"
#: A customers' CSV marking values not known as files do: NA as R's write.csv writes it (any case, spaces around it), an
#: empty cell; then NaN and n/a, which are no such marks.
MARKED = "\n".join([
    HEADER,
    "12669,NA,7561,214,2674,1338,2,3",
    "12669,na,7561, nA ,2674,1338,NA,3",
    "12669,,7561,214,2674,1338,2,3",
    "12669,NaN,7561,214,2674,1338,2,3",
    "12669,n/a,7561,214,2674,1338,2,3",
]) + "\n"
#: Each row of :data:`MARKED`: the categories it imputes, or the error of its Milk cell.
MARKED_RESULTS = [
    ["Milk"],
    ["Milk", "Frozen"],
    ["Milk"],
    "must be a finite number: NaN, Infinity and numbers too large to represent are not allowed; leave the cell empty when the amount is not known",
    "must be a number (yearly spending), not text 'n/a': leave the cell empty when the amount is not known",
]


@pytest.fixture(scope="session")
def app() -> Flask:
    """The app on the pipeline's real artifacts (loaded once for the session)."""
    app = create_app({"TESTING": True, "BATCH_MAX_ROWS": 50, "MAX_CONTENT_LENGTH": 256 * 1024})
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of ``app``."""
    return app.test_client()


@pytest.fixture
def artifact_copy(tmp_path: Path) -> Path:
    """A private copy of the artifacts the API reads, with dvc.lock, to damage in a test."""
    return copy_artifacts(tmp_path)


@pytest.fixture(scope="session")
def gmm_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The app serving a Gaussian mixture (``tests.mixture.uneven_mixture`` of the real model) from its own artifacts."""
    return create_app({"TESTING": True, "ARTIFACTS_ROOT": mixture_artifacts(tmp_path_factory.mktemp("gmm"))})


@pytest.fixture(scope="session")
def unbought_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The app serving the real model with personas of data where most customers buy no frozen food
    (``tests.mixture.unbought_artifacts``)."""
    return create_app({"TESTING": True, "ARTIFACTS_ROOT": unbought_artifacts(tmp_path_factory.mktemp("unbought"))})
