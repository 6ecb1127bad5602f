import sys
from pathlib import Path

import pytest

# Make the shared test helpers (``reference_models``) importable from every
# test sub-folder.
sys.path.insert(0, str(Path(__file__).parent))


def pytest_addoption(parser):
    parser.addoption(
        "--run-slow", action="store_true", default=False,
        help="also run the long statistical-validity tests marked 'slow' "
             "(their reduced versions always run)",
    )


def pytest_collection_modifyitems(config, items):
    # Long statistical runs are opt-in so the default suite (and CI) stays
    # fast; each has a reduced, unmarked counterpart that always runs.
    if config.getoption("--run-slow") or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="long statistical run: use --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
