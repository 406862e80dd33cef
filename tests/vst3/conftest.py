"""Shared fixtures: the built Earstage.vst3, loaded fresh by pedalboard for every test."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def bundle_path() -> Path:
    bundle_dir = Path(os.environ.get("EARSTAGE_BUNDLE_DIR", ROOT / "target" / "bundled"))
    path = bundle_dir / "Earstage.vst3"
    if not path.exists():
        pytest.fail(f"{path} does not exist: run `cargo xtask bundle earstage --release` first")
    return path


@pytest.fixture
def plugin():
    import pedalboard

    return pedalboard.load_plugin(str(bundle_path()))
