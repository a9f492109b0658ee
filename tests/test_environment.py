"""conda users get exactly pip users' pins: environment.yml is generated from constraints.txt.

Regenerate after changing the pins:
``.venv/bin/python tests/test_environment.py > environment.yml``.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = "3.11"

HEADER = """\
# Conda environment: GENERATED from constraints.txt by tests/test_environment.py (do not edit;
# regenerate with `.venv/bin/python tests/test_environment.py > environment.yml`).
# conda supplies Python {python} and pip; every package is then installed by pip at exactly the
# version pip users get (constraints.txt), so both environments have the same `pip freeze`.
# conda env create -f environment.yml && conda activate extra-mile  (then `make` uses it)
name: extra-mile
channels:
  - conda-forge
dependencies:
  - python={python}
  - pip
  - pip:
"""


def pins(text: str) -> dict[str, str]:
    """Name -> version of every ``name==version`` line (comments and blanks skipped)."""
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            m = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)", line)
            assert m, f"constraints.txt: {line!r} is not a `name==version` pin"
            out[m.group(1)] = m.group(2)
    return out


def render() -> str:
    """The environment.yml that constraints.txt implies."""
    lines = [HEADER.format(python=PYTHON)]
    lines += [f"      - {name}=={version}\n" for name, version in
              pins((ROOT / "constraints.txt").read_text()).items()]
    lines.append("      - -e .[dev]\n")
    return "".join(lines)


def test_environment_yml_is_generated_from_the_pins():
    assert (ROOT / "environment.yml").read_text() == render(), (
        "environment.yml is out of date: run "
        "`.venv/bin/python tests/test_environment.py > environment.yml`")


def test_pins_cover_every_declared_dependency_and_python():
    pinned = {re.sub(r"[-_.]+", "-", k).lower()
              for k in pins((ROOT / "constraints.txt").read_text())}
    text = (ROOT / "pyproject.toml").read_text()
    declared = re.findall(r'^\s+"([A-Za-z0-9_.\-]+)[<>=!~ ]', text, flags=re.M)
    missing = {d for d in declared if re.sub(r"[-_.]+", "-", d).lower() not in pinned}
    assert not missing, f"constraints.txt pins none of {sorted(missing)}"
    assert re.search(r'requires-python = ">=3\.11"', text) and PYTHON == "3.11"


def test_this_environment_has_the_pinned_versions():
    """The environment running the tests (pip's .venv or conda's) matches constraints.txt."""
    wrong = {}
    for name, version in pins((ROOT / "constraints.txt").read_text()).items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # platform-specific pins (e.g. a Windows-only package)
        if have != version:
            wrong[name] = (have, version)
    assert not wrong, f"installed (have, pinned): {wrong}"


if __name__ == "__main__":
    sys.stdout.write(render())


def test_make_lab_passes_allow_root_exactly_when_run_as_root():
    import os
    import subprocess

    lines = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.strip().splitlines()
    # on a fresh clone the environment and data steps come first: take the lab command itself
    out = next(line for line in reversed(lines) if "jupyterlab" in line)
    assert "jupyterlab" in out
    args = subprocess.run(["bash", "-c", f"echo {out.split('--notebook-dir=notebooks', 1)[1]}"],
                          capture_output=True, text=True, check=True).stdout.split()
    assert ("--allow-root" in args) == (os.getuid() == 0)
