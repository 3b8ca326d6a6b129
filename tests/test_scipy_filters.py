"""scipy's own filter tests, with ndimage.correlate / convolve routed to kernelfactor.

The installed scipy's ``scipy.ndimage.tests.test_filters`` (shipped in the
wheel; nothing is copied here) runs in a pytest subprocess under scipy's own
configuration, with the plugin ``tests/scipy_route.py`` sending every
``scipy.ndimage.correlate`` / ``convolve`` call with 2-D weights to kernelfactor
with one ``method``.  Every test that reached kernelfactor must pass, except
the deliberate differences in ``EXPECTED_DIFFERENCES`` (none today).  The
whole module runs (about 10 s per method): no ``-k`` selection is needed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: test node id -> reason, per method, for differences from ndimage that are
#: deliberate and better.  Empty: the routed suite passes in full.
EXPECTED_DIFFERENCES: dict[str, dict[str, str]] = {
    "auto": {},
    "direct": {},
    "fft": {},
    "separable": {},
}


def _run_scipy_suite(method: str, tmp_path: Path) -> dict:
    # shipped in scipy's wheels; not imported here (its marks belong to scipy's config)
    assert importlib.util.find_spec("scipy.ndimage.tests.test_filters") is not None
    report = tmp_path / f"{method}.json"
    env = dict(os.environ)
    env.update(
        KF_ROUTE_METHOD=method,
        KF_ROUTE_REPORT=str(report),
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
    )
    env.pop("PYTEST_ADDOPTS", None)
    cmd = [
        sys.executable, "-m", "pytest", "--pyargs", "scipy.ndimage.tests.test_filters",
        "-p", "tests.scipy_route", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
    ]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=900)
    assert report.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(report.read_text())
    data["tail"] = proc.stdout[-3000:]
    return data


@pytest.mark.slow
@pytest.mark.parametrize("method", ["auto", "direct", "fft", "separable"])
def test_scipy_filter_suite_routed_to_kernelfactor(method, tmp_path):
    data = _run_scipy_suite(method, tmp_path)
    results = data["results"]
    reached = [r for r in results if r["calls"] > 0]
    failed = {r["test"] for r in results if r["outcome"] == "failed"}
    expected = EXPECTED_DIFFERENCES[method]
    passed = sum(r["outcome"] == "passed" for r in reached)
    print(
        f"\nscipy test_filters, method={method!r}: {data['calls']} calls reached kernelfactor "
        f"in {len(reached)} tests; {passed} passed, {len(failed & set(expected))} listed "
        f"differences; {len(results)} tests in all"
    )
    assert data["calls"] > 0 and len(reached) > 100
    assert failed <= set(expected), (sorted(failed - set(expected)), data["tail"])
    # a listed difference that no longer fails should leave the list
    assert not set(expected) - failed, sorted(set(expected) - failed)
