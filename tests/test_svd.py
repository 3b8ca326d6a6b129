import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import kernelfactor as kf
from kernelfactor._svd import _symmetrize

SOBEL_X = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])


def test_sobel_is_rank_one_with_known_factors():
    a = kf.analyze(SOBEL_X)
    assert a.rank == 1 and a.is_separable
    (col, row), = a.factors
    np.testing.assert_allclose(col / col[0], [1, 2, 1], rtol=1e-14)
    np.testing.assert_allclose(row / row[0], [1, 0, -1], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(np.outer(col, row), SOBEL_X, atol=1e-14)
    # scaled by sqrt(sigma) on each side
    assert np.linalg.norm(col) == pytest.approx(np.sqrt(a.singular_values[0]))
    assert np.linalg.norm(row) == pytest.approx(np.sqrt(a.singular_values[0]))


def test_factors_exactly_symmetric_when_kernel_symmetry_is_exact():
    g = np.exp(-0.5 * (np.arange(-7, 8) / 2.0) ** 2)
    a = kf.analyze(np.outer(g, g))
    (col, row), = a.factors
    assert np.array_equal(col, col[::-1]) and np.array_equal(row, row[::-1])
    (col, row), = kf.analyze(SOBEL_X).factors
    assert np.array_equal(col, col[::-1]) and np.array_equal(row, -row[::-1])


def test_symmetrize_leaves_mixed_vectors_alone():
    v = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(_symmetrize(v), v)


def test_signs_are_deterministic_and_largest_entry_positive():
    a = kf.analyze(-SOBEL_X)
    (col, row), = a.factors
    assert col[1] > 0 and np.argmax(np.abs(col)) == 1
    np.testing.assert_allclose(np.outer(col, row), -SOBEL_X, atol=1e-14)


def test_default_tolerance_policy_and_overrides():
    k = np.diag([1.0, 1e-3, 1e-17])
    a = kf.analyze(k)
    assert a.tol == pytest.approx(3 * np.finfo(float).eps)
    assert a.rank == 2 and "eps" in a.policy
    assert kf.analyze(k, rtol=1e-2).rank == 1
    assert kf.analyze(k, atol=2.0).rank == 0
    b = kf.analyze(k, rtol=1e-2, atol=1e-4)
    assert b.tol == 1e-2 and b.rank == 1
    assert "rtol" in b.policy and "atol" in b.policy


def test_margin_fields():
    a = kf.analyze(np.diag([4.0, 2.0, 1e-20]))
    assert a.rank == 2
    assert a.margin.radius == 2.0
    assert a.margin.distance == 1e-20
    assert a.margin.gap == pytest.approx(2e20)
    assert a.margin.above_tol == pytest.approx(2.0 / a.tol)
    assert a.margin.below_tol == pytest.approx(a.tol / 1e-20)
    full = kf.analyze(np.eye(2))
    assert full.margin.gap == np.inf and full.margin.distance == 0.0


def test_zero_kernel_is_rank_zero():
    a = kf.analyze(np.zeros((3, 4)))
    assert a.rank == 0 and a.is_separable and a.factors == ()
    assert a.margin.radius == 0.0


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (2, 2), (4, 6), (6, 3), (8, 8)])
def test_any_shape(shape, rng):
    k = rng.standard_normal(shape)
    a = kf.analyze(k)
    assert a.rank == min(shape)
    np.testing.assert_allclose(a.to_array(), k, atol=1e-13)
    assert a.singular_values.shape == (min(shape),)


def test_repr_and_to_dict():
    a = kf.analyze(SOBEL_X)
    text = repr(a)
    assert "rank 1" in text and "separable" in text and "tol=" in text
    d = json.loads(json.dumps(a.to_dict()))
    assert d["rank"] == 1 and d["is_separable"] is True and len(d["factors"]) == 1
    assert set(d) >= {"rank", "singular_values", "tol", "factors", "margin"}


def test_names_are_accepted():
    a = kf.analyze("sobel_x")
    assert a.rank == 1
    np.testing.assert_allclose(a.to_array(), kf.get_kernel("sobel_x"), atol=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"rtol": -1.0}, ValueError, "`rtol`"),
        ({"atol": float("nan")}, ValueError, "`atol`"),
        ({"rtol": "big"}, TypeError, "`rtol`"),
        ({"verify": "yes"}, ValueError, "`verify`"),
    ],
)
def test_bad_options(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        kf.analyze(SOBEL_X, **kwargs)


# --- batches -------------------------------------------------------------------------


def test_batch_matches_single(rng):
    stack = rng.standard_normal((4, 3, 5, 5))
    stack[0, 0] = np.outer(rng.standard_normal(5), rng.standard_normal(5))
    stack[1, 2] = stack[1, 2, :, :2] @ rng.standard_normal((2, 5))
    b = kf.analyze(stack)
    assert isinstance(b, kf.BatchAnalysis)
    assert b.rank.shape == (4, 3) and b.rank.dtype.kind == "i"
    assert b.rank[0, 0] == 1 and b.rank[1, 2] == 2 and b.is_separable[0, 0]
    for idx in [(0, 0), (1, 2), (3, 1)]:
        single = kf.analyze(stack[idx])
        one = b[idx]
        assert one.rank == single.rank
        np.testing.assert_allclose(one.singular_values, single.singular_values, rtol=1e-12)
        np.testing.assert_allclose(one.to_array(), single.to_array(), atol=1e-12)
    assert "12 kernels" in repr(b)
    json.dumps(b.to_dict())


def test_batch_rejects_verify(rng):
    with pytest.raises(ValueError, match="one kernel at a time"):
        kf.analyze(rng.standard_normal((2, 3, 3)), verify="exact")


# --- properties ----------------------------------------------------------------------

int_vectors = st.integers(2, 8).flatmap(
    lambda n: hnp.arrays(np.int64, n, elements=st.integers(-9, 9)).filter(lambda v: v.any())
)


# 60 examples: each draws a random shape and rank; more adds little beyond the fixed cases.
@settings(max_examples=60, deadline=None)
@given(st.data())
def test_sum_of_r_integer_outer_products_has_rank_r(data):
    m = data.draw(st.integers(1, 8), label="m")
    n = data.draw(st.integers(1, 8), label="n")
    r = data.draw(st.integers(0, min(m, n)), label="r")
    elems = st.integers(-9, 9)
    cols = data.draw(hnp.arrays(np.int64, (m, r), elements=elems), label="cols")
    rows = data.draw(hnp.arrays(np.int64, (r, n), elements=elems), label="rows")
    k = cols @ rows
    true_rank = int(np.linalg.matrix_rank(k.astype(object).astype(float)))
    # the integer product's true rank can be < r (dependent draws); compare with exact rank
    import sympy

    exact = sympy.Matrix(k.tolist()).rank()
    assert true_rank == exact
    assert kf.analyze(k).rank == exact


# 40 examples: the monotonicity check is cheap and has few distinct behaviours.
@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(np.float64, (5, 6), elements=st.floats(-10, 10)),
    st.lists(st.floats(0, 1), min_size=2, max_size=6),
)
def test_rank_is_monotone_in_the_tolerance(k, rtols):
    ranks = [kf.analyze(k, rtol=t).rank for t in sorted(rtols)]
    assert ranks == sorted(ranks, reverse=True)


def test_perturbation_below_and_above_tolerance(rng):
    k = np.outer(rng.standard_normal(7), rng.standard_normal(7))
    a = kf.analyze(k)
    assert a.rank == 1
    noise = rng.standard_normal((7, 7))
    noise /= np.linalg.norm(noise, 2)
    small = kf.analyze(k + 0.01 * a.tol * noise)
    assert small.rank == 1
    # the margin says why: sigma_2 sits well under the tolerance
    assert small.margin.below_tol > 10
    big = kf.analyze(k + 100 * a.tol * noise)
    assert big.rank > 1
    # ... and here the second singular value clears the tolerance
    assert big.singular_values[1] > big.tol
    assert big.margin.above_tol > 1


def test_margins_overflow_to_inf_without_warnings():
    # one singular value: nothing is dropped, so no rounding noise is involved
    a = kf.analyze(np.ones((1, 3)), rtol=5e-324)
    assert a.rank == 1 and a.margin.above_tol == np.inf and a.margin.gap == np.inf


def test_a_tolerance_below_the_rounding_level_flags_the_noise_it_counts():
    # sigma_2 of ones((3, 3)) is 0 with some LAPACK builds and ~1e-17 with others:
    # with rtol=5e-324 the rank is 1 or 3 depending on the machine, and says so.
    a = kf.analyze(np.ones((3, 3)), rtol=5e-324)
    assert a.rank in (1, 3)
    assert a.noise_floor == pytest.approx(3 * np.finfo(float).eps * 3.0)
    d = a.to_dict()
    assert d["singular_values"] == [3.0, None, None]
    if a.rank == 3:
        assert a.margin.kept_is_noise and d["margin"]["radius"] is None
        assert d["factors"][1:] == [None, None]
        assert "rounding level (noise)" in repr(a)
    else:
        assert a.margin.dropped_is_noise and d["margin"]["gap"] is None


def test_verify_exact_explains_a_disagreement():
    k = np.array([[1e8, 1e8 + 1], [1e8 - 1, 1e8]])  # integers; det = 1
    a = kf.analyze(k, verify="exact")
    assert a.rank == 1 and a.exact_rank == 2
    assert "exactly rank 2" in a.note and "numerically rank 1" in a.note
    b = kf.analyze(SOBEL_X, verify="exact")
    assert b.exact_rank == b.rank == 1
    assert "exact_rank=1" in repr(b)


# --------------------------------------------------------------------- complex kernels (issue 16)


def _complex_gabor(theta, sigma=2.0, frequency=0.2, radius=6):
    """exp(i (u x + v y)) g(x) g(y): x columns, y rows (isotropic envelope)."""
    t = np.arange(-radius, radius + 1.0)
    g = np.exp(-t * t / (2 * sigma * sigma))
    u, v = 2 * np.pi * frequency * np.cos(theta), 2 * np.pi * frequency * np.sin(theta)
    return np.exp(1j * (u * t[None, :] + v * t[:, None])) * np.outer(g, g)


@pytest.mark.parametrize("k", range(8))
def test_complex_gabor_is_rank_one_at_every_orientation_its_real_part_rank_two_oblique(k):
    theta = k * np.pi / 8
    a = kf.analyze(_complex_gabor(theta))
    assert a.rank == 1 and a.is_separable
    np.testing.assert_allclose(a.to_array(), _complex_gabor(theta), atol=1e-13)
    oblique = k % 4 != 0  # 0 and pi/2: one cosine factor
    assert kf.analyze(_complex_gabor(theta).real).rank == (2 if oblique else 1)


def test_complex_factors_are_deterministic_and_json_ready():
    a = kf.analyze(_complex_gabor(0.3))
    (col, _row), = a.factors
    top = np.argmax(np.abs(col))
    assert col[top].imag == 0 and col[top].real > 0  # the pivot's phase moved to the row
    d = json.loads(json.dumps(a.to_dict()))
    assert d["rank"] == 1 and len(d["factors"][0][0][0]) == 2  # [re, im] pairs
    assert "j" in repr(a)
