"""``python -m skreg``, the demo the README's first command runs."""

import subprocess
import sys


def test_demo_runs_and_prints_its_summary():
    proc = subprocess.run([sys.executable, "-m", "skreg"], capture_output=True, text=True,
                          check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for name in ("WeightedLassoCV", "SqrtLassoCV", "LADLassoCV", "SLOPECV",
                 "Conformal risk control"):
        assert name in out
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr, proc.stderr
