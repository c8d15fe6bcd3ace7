"""The raw data file (params.yaml ``data.raw``) is the one documented in data/README.md and recorded in dvc.lock."""

from __future__ import annotations

import re

import yaml

from stages import config
from stages.dataset import md5_of


def test_raw_md5_matches_the_readme_and_dvc_lock() -> None:
    raw = config.load_params()["data"]["raw"]
    md5 = md5_of(config.ROOT / raw)
    readme = (config.DATA / "README.md").read_text()
    found = re.search(r"md5\*\*: `([0-9a-f]{32})`", readme)
    assert found is not None, "data/README.md records no md5"
    documented = found.group(1)
    assert documented == md5, f"data/README.md documents md5 {documented}, but {raw} (params data.raw) has {md5}: describe the new file there (source, licence, md5)"
    lock = yaml.safe_load(config.DVC_LOCK.read_text())
    deps = {d["path"]: d["md5"] for d in lock["stages"]["prepare"]["deps"]}
    assert deps.get(raw) == md5, f"dvc.lock's prepare stage does not record {raw} with md5 {md5}: run dvc repro"
