from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

# The DataSketches cross-language corpus lives in the repository (see its README).
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "datasketches"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    assert FIXTURES.is_dir(), f"missing DataSketches fixtures at {FIXTURES}"
    return FIXTURES


def require_engine(name: str, problem: str | None) -> None:
    """Skips a real-engine test where the engine cannot start on this machine, with the
    reason, but fails in CI (CI=true): there the engine must run, never be skipped."""
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{name} must run in CI: {problem}")
    pytest.skip(f"{name} unavailable here: {problem}")


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local SparkSession (local[2]) for the whole run: Spark SQL's own DataSketches
    functions are the oracle of the Spark tests."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:
        require_engine("Spark", f"pyspark is not installed ({e}); pip install '.[spark]'")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        require_engine("Spark", "no Java runtime (Debian: openjdk-17-jre-headless)")
    # Executors run this interpreter, where sketchbox is installed.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    # Spark's Python workers start in the JVM's working directory with it first on their
    # path: started from the checkout, they would import its source folder (which has no
    # compiled module) instead of the installed package.
    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("spark"))
    try:
        session = (
            SparkSession.builder.master("local[2]")
            .appName("sketchbox-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate()
        )
    finally:
        os.chdir(here)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
