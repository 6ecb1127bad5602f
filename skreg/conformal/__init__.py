"""Conformal risk control: calibration functions and meta-estimators."""

__all__ = []
