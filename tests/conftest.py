from __future__ import annotations

from pathlib import Path

import pytest

# The DataSketches cross-language corpus lives in the repository (see its README).
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "datasketches"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    assert FIXTURES.is_dir(), f"missing DataSketches fixtures at {FIXTURES}"
    return FIXTURES
