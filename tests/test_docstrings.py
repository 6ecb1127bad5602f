"""The examples in the docstrings run and print what they show."""

import doctest
import importlib
import pkgutil

import pytest

import skreg

# __main__ runs the demo when imported.
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(skreg.__path__, prefix="skreg.")
    if not info.name.endswith("__main__")
)


def test_modules_are_found():
    assert "skreg.linear_model._lasso" in MODULES
    assert "skreg.ot._sinkhorn" in MODULES
    assert "skreg.conformal" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        # Only the objects defined in this module (re-exports are tested where
        # they are defined).
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
