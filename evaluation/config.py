"""Path constants derived from the package location; nothing happens at import."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
SYNTHETIC_DIR = DATA_DIR / "synthetic"
PUBLISHED_DIR = DATA_DIR / "published"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
REPORTS_DIR = PROJECT_ROOT / "reports"
ANALYSIS_PLAN = PROJECT_ROOT / "analysis.yml"
DEFAULT_SEED = 4  # chosen by the rule in bench/default_seed.py (a typical draw)
