"""The raw data file is the one documented in data/README.md and recorded in dvc.lock."""

from __future__ import annotations

import re

import yaml

from stages import config
from stages.dataset import md5_of


def test_raw_md5_matches_the_readme_and_dvc_lock() -> None:
    md5 = md5_of(config.RAW)
    readme = (config.DATA / "README.md").read_text()
    assert re.search(r"md5\*\*: `([0-9a-f]{32})`", readme).group(1) == md5
    lock = yaml.safe_load(config.DVC_LOCK.read_text())
    deps = {d["path"]: d["md5"] for d in lock["stages"]["prepare"]["deps"]}
    assert deps["data/raw/wholesale_customers.csv"] == md5
