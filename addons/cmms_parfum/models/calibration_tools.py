# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Calibration computations, free of the ORM (tested against hand-worked values)."""

import math
from statistics import NormalDist, mean, stdev

RESULTS = [
    ("pass", "Pass"),
    ("adjusted", "Adjusted (between the limits)"),
    ("fail", "Fail"),
]
RESULT_RANK = {"pass": 0, "adjusted": 1, "fail": 2}


def point_result(error, adjust_limit, fail_limit):
    """pass / adjusted / fail for one error against the two tolerance tiers."""
    size = round(abs(error), 9)
    if size <= adjust_limit:
        return "pass"
    if size <= fail_limit:
        return "adjusted"
    return "fail"


def worst(results):
    results = [r for r in results if r]
    return max(results, key=RESULT_RANK.__getitem__) if results else False


def suggest_interval(history, current_days, reliability, telemetry_rate=None):
    """Suggest a calibration interval from the as-found history.

    Parameters
    ----------
    history : list of (float, float)
        ``(days in service since the previous calibration, as-found ratio)``
        per calibration, oldest first; the ratio is the largest as-found
        error divided by the fail limit (1.0 = at the limit).
    current_days : int
        The interval in force.
    reliability : float
        Target probability (0-1) of being in tolerance at the end of the
        interval.
    telemetry_rate : float or None
        Drift rate measured by telemetry, in fail limits per day.

    Returns
    -------
    dict
        ``rates`` (per day), ``mean``, ``sd``, ``z``, ``rate`` (the upper
        bound used), ``days_to_limit``, ``suggested`` (whole days, between
        half and twice ``current_days``).

    Examples
    --------
    >>> s = suggest_interval([(180, 0.3), (180, 0.6), (180, 0.9)], 180, 0.95)
    >>> round(s["rate"], 6), s["suggested"]
    (0.006075, 164)
    """
    rates = [ratio / days for days, ratio in history if days > 0]
    if len(rates) < 2:
        raise ValueError("at least two as-found results with their interval are needed")
    z = NormalDist().inv_cdf(reliability)
    rate_mean, rate_sd = mean(rates), stdev(rates)
    rate = rate_mean + z * rate_sd
    if telemetry_rate is not None:
        rate = max(rate, telemetry_rate)
    low, high = math.ceil(current_days / 2), current_days * 2
    days_to_limit = 1.0 / rate if rate > 0 else math.inf
    suggested = high if math.isinf(days_to_limit) else int(days_to_limit)
    return {
        "rates": rates,
        "mean": rate_mean,
        "sd": rate_sd,
        "z": z,
        "rate": rate,
        "days_to_limit": days_to_limit,
        "suggested": min(high, max(low, suggested)),
    }
