"""Tests for kernelfactor._coerce: one coercion point for kernels, one spec parser."""

from __future__ import annotations

import numpy as np
import pytest

import kernelfactor as kf
from kernelfactor._coerce import (
    KernelSpecError,
    _as_kernel,
    as_kernel_spec,
    format_kernel_spec,
    parse_kernel_spec,
)

GAUSS = kf.get_kernel("gaussian", sigma=2.0, size=15)


@pytest.mark.parametrize(
    "given",
    [
        GAUSS,
        "gaussian:sigma=2.0,size=15",
        ("gaussian", {"sigma": 2.0, "size": 15}),
        kf.lowrank(GAUSS),
    ],
    ids=["array", "spec", "pair", "result"],
)
def test_every_form_of_a_kernel_gives_the_same_array(given):
    np.testing.assert_allclose(_as_kernel(given), GAUSS, atol=1e-15)
    assert kf.analyze(given).rank == 1


@pytest.mark.parametrize(
    "spec",
    ["gaussian", "gaussian:sigma=2.5,size=15", "box:shape=3x5", "disk:antialias=false,radius=4"],
)
def test_format_inverts_parse(spec):
    name, params = parse_kernel_spec(spec)
    assert format_kernel_spec(name, params) == spec
    assert as_kernel_spec(spec) == (name, params)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (":sigma=2", "has no name"),
        ("gaussian:sigma", "key=value"),
        ("gaussian:sigma=1,,size=3", "empty parameter"),
        ("gaussian:sigma=1,sigma=2", "given twice"),
    ],
)
def test_malformed_specs_are_refused_with_the_parameter_name(spec, match):
    with pytest.raises(KernelSpecError, match=match):
        _as_kernel(spec)
    with pytest.raises(ValueError, match="`kernel`"):
        kf.analyze(spec)


def test_unknown_names_and_bad_pairs():
    with pytest.raises(ValueError, match="Did you mean"):
        kf.analyze("gausian:sigma=2")
    with pytest.raises(TypeError, match="spec strings or \\(name, params\\) pairs"):
        as_kernel_spec(("gaussian", 2.0))
