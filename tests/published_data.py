"""Where the tests find the real published DfE files (never in the repository)."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_VALUE = os.environ.get("EVALUATION_PUBLISHED_DIR", "") or "../shared/data/real"
#: $EVALUATION_PUBLISHED_DIR, else ../shared/data/real (relative to the repository root).
REAL = Path(_VALUE) if Path(_VALUE).is_absolute() else (ROOT / _VALUE).resolve()


def real_dir() -> Path:
    """The published-files folder, or skip the test saying where it was looked for."""
    if not (REAL.is_dir() and any(REAL.iterdir())):
        pytest.skip(f"real DfE files not found at {REAL}: set EVALUATION_PUBLISHED_DIR to the "
                    "folder holding them (CI: ../shared/data/real; see data/published/README.md)")
    return REAL


def real_file(slug: str, name: str) -> Path:
    """One real file, or skip naming it."""
    path = real_dir() / slug / name
    if not path.is_file():
        pytest.skip(f"real DfE file {path} not found (see data/published/README.md)")
    return path
