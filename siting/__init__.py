"""postal-siting's entry points: plan a district, export its candidates, run scenario batches.

``siting.plan``, ``siting.export_candidates`` and ``siting.run_batch`` are the Python face of
``siting plan``, ``siting candidates`` and ``siting batch``; ``siting.run_plan`` runs the same
district pipeline on a :class:`~siting.options.PlanOptions` value (``siting.PlanOptions``);
``siting.Options`` declares every option once (:mod:`siting.options`).
They are imported on first use, so ``import siting`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["Options", "PlanOptions", "export_candidates", "plan", "run_batch", "run_plan"]

_HOMES = {"plan": "siting.pipeline", "export_candidates": "siting.pipeline",
          "run_plan": "siting.pipeline", "PlanOptions": "siting.options",
          "Options": "siting.options",
          "run_batch": "siting.batch"}


def __getattr__(name: str) -> Any:
    """Import an entry point of :data:`__all__` from its module on first use."""
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'siting' has no attribute {name!r}")
