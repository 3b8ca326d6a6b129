"""A pytest plugin: scipy.ndimage.correlate / convolve with 2-D weights run kernelfactor's.

Loaded by ``tests/test_scipy_filters.py`` into a pytest subprocess that runs the
installed scipy's own ``scipy.ndimage.tests.test_filters``::

    KF_ROUTE_METHOD=fft KF_ROUTE_REPORT=out.json \\
        python -m pytest --pyargs scipy.ndimage.tests.test_filters -p tests.scipy_route

Nothing happens unless ``KF_ROUTE_METHOD`` is set (this module is also imported
by the doctest collection of this repository's own test run).  Calls with
weights of any other dimension, and every other ndimage function (including
ndimage's internal uses of correlate), go to scipy's own code.  The report
lists, per test, the calls that reached kernelfactor and the outcome.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from typing import Any

_STATE: dict[str, Any] = {"calls": 0, "current": 0, "results": []}


def _route(name: str, method: str) -> None:
    import numpy as np
    from scipy import ndimage

    import kernelfactor

    theirs = getattr(ndimage, name)
    ours = getattr(kernelfactor, name)

    @functools.wraps(theirs)
    def routed(*args: Any, **kwargs: Any) -> Any:
        weights = args[1] if len(args) > 1 else kwargs.get("weights")
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller.startswith("kernelfactor"):  # kernelfactor's own direct method
            return theirs(*args, **kwargs)
        if weights is not None and not isinstance(weights, str) and np.ndim(weights) == 2:
            _STATE["calls"] += 1
            _STATE["current"] += 1
            return ours(*args, method=method, **kwargs)
        return theirs(*args, **kwargs)

    try:  # scipy's test marks look the function up by identity
        from scipy._lib._array_api import xp_capabilities_table

        if theirs in xp_capabilities_table:
            xp_capabilities_table[routed] = xp_capabilities_table[theirs]
    except ImportError:  # pragma: no cover - older scipy
        pass
    setattr(ndimage, name, routed)


def pytest_configure(config: Any) -> None:
    method = os.environ.get("KF_ROUTE_METHOD")
    if not method:
        return
    for name in ("correlate", "convolve"):
        _route(name, method)


def pytest_runtest_setup(item: Any) -> None:
    _STATE["current"] = 0


def pytest_runtest_logreport(report: Any) -> None:
    if not os.environ.get("KF_ROUTE_METHOD"):
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        outcome = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.outcome == "skipped" else "xpassed"
        _STATE["results"].append(
            {"test": report.nodeid, "outcome": outcome, "calls": _STATE["current"]}
        )


def pytest_unconfigure(config: Any) -> None:
    path = os.environ.get("KF_ROUTE_REPORT")
    if os.environ.get("KF_ROUTE_METHOD") and path:
        with open(path, "w") as fh:
            json.dump({"calls": _STATE["calls"], "results": _STATE["results"]}, fh)
