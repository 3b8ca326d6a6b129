import numpy as np
import pytest

import kernelfactor as kf


def test_eckart_young_values():
    assert kf.eckart_young([3.0, 2.0, 1.0], 0) == pytest.approx((np.sqrt(14), 3.0))
    assert kf.eckart_young([3.0, 2.0, 1.0], 3) == (0.0, 0.0)
    fro, spec = kf.eckart_young(np.array([[3.0, 2.0], [1.0, 0.5]]), 1)
    np.testing.assert_allclose(fro, [2.0, 0.5])
    np.testing.assert_allclose(spec, [2.0, 0.5])


def test_frequency_bound_exact_for_simple_kernels():
    # |sum| is attained at w = 0 for nonnegative kernels: bound equals l1.
    assert kf.frequency_bound(np.ones((3, 3))) == pytest.approx(9.0)
    assert kf.frequency_bound(np.zeros((2, 2))) == 0.0
    # [1, -1]: |1 - e^{-iw}| peaks at 2 (w = pi), a grid point
    assert kf.frequency_bound([[1.0, -1.0]]) == pytest.approx(2.0)


def test_frequency_bound_is_an_upper_bound(rng):
    for _ in range(20):
        r = rng.standard_normal((3, 4))
        w1 = rng.uniform(-np.pi, np.pi, 2000)
        w2 = rng.uniform(-np.pi, np.pi, 2000)
        p, q = np.arange(3)[:, None, None], np.arange(4)[None, :, None]
        vals = np.abs(np.sum(r[..., None] * np.exp(-1j * (w1 * p + w2 * q)), axis=(0, 1)))
        bound = kf.frequency_bound(r)
        assert vals.max() <= bound + 1e-12
        assert bound <= kf.l1_norm(r) + 1e-12


def test_frequency_bound_stack_matches_single(rng):
    stack = rng.standard_normal((5, 3, 3))
    np.testing.assert_allclose(kf.frequency_bound(stack), [kf.frequency_bound(s) for s in stack])


def test_worst_case_image():
    r = np.array([[0.5, -2.0], [0.0, 1.0]])
    np.testing.assert_array_equal(kf.worst_case_image(r), [[1, -1], [0, 1]])
    assert kf.l1_norm(r) == 3.5
