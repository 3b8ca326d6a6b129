"""Tests for kernelfactor._results: ``plain`` and ``to_dict`` give JSON-ready plain Python."""

from __future__ import annotations

import decimal
import json
from fractions import Fraction

import numpy as np
import sympy

import kernelfactor as kf
from kernelfactor._results import plain


def test_plain_numbers_beyond_python_and_numpy():
    # other integers become ints, other numbers their exact text (as Fractions do)
    out = plain([sympy.Integer(3), sympy.Rational(1, 3), decimal.Decimal("1.5"),
                 Fraction(2, 1), np.int64(4), True, None])
    assert out == [3, "1/3", "1.5", 2, 4, True, None]
    assert type(out[0]) is int and type(out[4]) is int
    json.dumps(out)


def test_to_dict_is_json():
    for result in (kf.kernel_info("box", shape=(3, 5)), kf.analyze("sobel_x"),
                   kf.lowrank("gaussian", 1), kf.volume_kernel("sobel3d")):
        d = result.to_dict()
        assert json.loads(json.dumps(d)) == d
