"""``import skreg`` stays light: numba and the compiled kernels load on the first fit."""

import subprocess
import sys


def _modules_after(statement):
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return set(out.stdout.split())


def test_import_skreg_does_not_load_numba():
    assert "numba" not in _modules_after("import skreg")


def test_first_fit_loads_numba():
    # The check above would also pass if the lazy imports were broken in a
    # way that never loads the kernels; a fit must load them.
    mods = _modules_after(
        "import numpy as np, skreg; rng = np.random.default_rng(0); "
        "skreg.WeightedLasso(alpha=0.1).fit(rng.normal(size=(20, 5)), rng.normal(size=20))")
    assert "numba" in mods
