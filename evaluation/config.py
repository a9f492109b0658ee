"""Path constants derived from the package location; nothing happens at import."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
SYNTHETIC_DIR = DATA_DIR / "synthetic"
PUBLISHED_DIR = DATA_DIR / "published"  # default; see published_dir()
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
REPORTS_DIR = PROJECT_ROOT / "reports"
ANALYSIS_PLAN = PROJECT_ROOT / "analysis.yml"
DEFAULT_SEED = 7  # chosen by the rule in bench/default_seed.py (a typical draw)


#: Environment variable naming the folder of published DfE files (tests, CI).
PUBLISHED_ENV = "EVALUATION_PUBLISHED_DIR"


def published_dir() -> Path:
    """Folder of the published DfE files: ``$EVALUATION_PUBLISHED_DIR`` or ``data/published``.

    A relative value is taken from the repository root (CI sets ``../shared/data/real``).

    Examples
    --------
    >>> published_dir().is_absolute()
    True
    """
    value = os.environ.get(PUBLISHED_ENV, "")
    path = Path(value) if value else PUBLISHED_DIR
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()
