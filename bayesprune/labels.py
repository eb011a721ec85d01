"""How figures and tables name and order things: stages, criteria, method-B methods, rates.

One vocabulary for :mod:`bayesprune.figures` and :mod:`bayesprune.tables`, so a figure's
legend and a table's row say the same (no plotting here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

STAGES = ("full", "pruned", "resampled")
CRITERION_LABELS = {
    "stn": "STN (signal-to-noise)",
    "spn": "SPN (signal-plus-noise)",
    "rnd": "RND (random)",
    "mag": "MAG (magnitude)",
}
METHOD_LABELS = {
    "unpruned": "unpruned",
    "bayes_random": "Bayes-factor random",
    "bayes_magnitude": "Bayes-factor magnitude",
    "random": "random (no gate)",
    "magnitude": "magnitude (no gate)",
    "gradual_magnitude": "gradual magnitude",
    "oneshot_magnitude": "one-shot magnitude + fine-tuning",
}


def criterion_label(criterion: str) -> str:
    """``'stn'`` -> ``'STN (signal-to-noise)'``; unknown criteria in capitals."""
    return CRITERION_LABELS.get(str(criterion), str(criterion).upper())


def method_label(method: str) -> str:
    """A method-B training method in words (``bayes_random`` -> ``Bayes-factor random``)."""
    return METHOD_LABELS.get(str(method), str(method))


def rate_text(rate: float) -> str:
    """``0.5`` -> ``'50%'``."""
    return f"{100 * float(rate):g}%"


def task_of(frame: pd.DataFrame) -> str:
    """``regression`` when the frame has test RMSE values, else ``classification``."""
    for col in ("point_rmse_test", "rmse_test"):
        if col in frame.columns and frame[col].notna().any():
            return "regression"
    return "classification"


def ordered(values: Sequence, preferred: Sequence) -> list:
    """The distinct ``values``: those in ``preferred`` first, in its order, then the rest."""
    seen = list(dict.fromkeys(values))
    return [v for v in preferred if v in seen] + [v for v in seen if v not in preferred]


def ordered_methods(frame: pd.DataFrame) -> list[str]:
    """The methods of a method-B frame in :data:`METHOD_LABELS` order."""
    return ordered(frame["method"], list(METHOD_LABELS))


def gate_text(settings: Mapping[str, Any], effective_n: float | None = None) -> str:
    """The gate's settings in words, e.g. ``r = 0.75 > 0.5, beta = 3, likelihood x 0.1 (N_eff
    135), prior variance 1``."""
    rates = settings.get("rates", [settings.get("rate")])
    rates_text = " > ".join(f"{float(r):g}" for r in rates if r is not None)
    scale = settings.get("likelihood_scale")
    if scale is None:
        lik = f"{settings.get('likelihood_reduction', 'sum')} likelihood"
    else:
        lik = f"likelihood x {float(scale):g}"
    if effective_n is not None and not pd.isna(effective_n):
        lik += f" (N_eff {float(effective_n):.4g})"
    text = f"r = {rates_text}, beta = {float(settings.get('beta', 3.0)):g}, {lik}"
    if "prior_sigma2" in settings:
        text += f", prior variance {float(settings['prior_sigma2']):g}"
    return text
