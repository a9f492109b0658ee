"""The build's own process stays light: its first and last steps wait for no heavy import.

A build's parent process lists the reports before the workers start and writes the index
after they finish: both steps are serial, so every second they spend importing is a second
of every build (issue 17: the index step took 2.8 s of a 30 s build when the plan check
imported scipy.stats and the tables' formatting imported every section, and 0.4 s more when
the tables' disclosure control imported scipy's solvers at the top of its module).
"""

import subprocess
import sys
import textwrap


def test_index_and_plan_check_import_no_section_nor_scipy(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        from evaluation.index_page import build_index
        from evaluation.plan import load_plan
        load_plan()
        build_index([], {str(tmp_path / "index.html")!r})
        heavy = [m for m in ("evaluation.report.registry", "evaluation.report.impact",
                             "scipy.stats", "scipy.optimize", "statsmodels", "matplotlib",
                             "seaborn")
                 if m in sys.modules]
        print(heavy)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_a_report_kernel_imports_numba_only_for_optimal_matching():
    """Every report kernel imports the package; numba (0.24 s) serves optimal matching only."""
    code = textwrap.dedent("""
        import sys
        import evaluation
        from evaluation.matching import match
        from evaluation.report import sections
        print([m for m in ("numba", "llvmlite") if m in sys.modules])
        import pandas as pd
        d = pd.DataFrame({"t": [1, 0, 0, 1, 0], "x": [0.1, 0.2, 0.5, 0.9, 0.7]})
        match(d, "t", ["x"], method="optimal", distance="mahalanobis")
        print("numba" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True"], out.stdout + out.stderr


def test_the_registry_is_still_reached_through_the_package():
    from evaluation import report
    from evaluation.report import REPORTS, sections, show

    assert "cluster" in REPORTS and callable(sections) and callable(show)
    assert report.index_record.__module__ == "evaluation.report.registry"


def test_a_build_worker_names_the_checker_s_folder_without_pandas():
    """A build's worker process only runs notebooks and exports pages: the modules it loads
    (the task, the pruning of old reports, the renderer, the checker's folder) import neither
    pandas nor scipy (issue 17: they once did, through the output checker's log, and each
    worker spent a second of the build's start importing them)."""
    code = textwrap.dedent("""
        import sys
        import evaluation.checker_folder
        import evaluation.engine.build
        import evaluation.engine.prune
        import evaluation.render
        print([m for m in ("pandas", "scipy", "evaluation.output_log") if m in sys.modules])
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
