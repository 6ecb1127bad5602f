"""Fixtures shared by the OT tests."""

import pytest


@pytest.fixture
def failing_newton(monkeypatch):
    """Make every sparse Newton step of ``sns`` point downhill, so its line search fails."""
    from skreg.ot import _sns

    newton_direction = _sns.newton_direction

    def descent(*args):
        df, dg, n_cg = newton_direction(*args)
        return -df, -dg, n_cg

    monkeypatch.setattr(_sns, "newton_direction", descent)
