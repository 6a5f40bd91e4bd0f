from __future__ import annotations

from pathlib import Path

import pytest

# CI and developers keep the project's shared folder beside the checkout.
FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "datasketches"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    assert FIXTURES.is_dir(), f"missing DataSketches fixtures at {FIXTURES}"
    return FIXTURES
