"""skreg: fast scikit-learn compatible sparse regression, regularised optimal
transport and conformal risk control."""

from .linear_model import *
from .linear_model import __all__ as _linear_all

__version__ = "0.1.0.dev0"

__all__ = list(_linear_all)
