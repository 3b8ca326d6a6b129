"""Tests for kernelfactor._banks: shared separable bases of filter banks."""

from __future__ import annotations

import numpy as np
import pytest

import kernelfactor as kf


@pytest.mark.parametrize(("order", "size"), [(1, 2), (2, 3)])
def test_steerable_banks_have_exact_shared_bases(order: int, size: int) -> None:
    bank = kf.steerable_bank(order, 16)
    basis = kf.separable_basis(bank, size)
    np.testing.assert_allclose(basis.to_array(), bank, rtol=0, atol=1e-12 * np.abs(bank).max())
    assert basis.within_rounding and not basis.degenerate
    assert basis.fro_rel <= 1e-12
    assert "0 (below tol)" in repr(basis)
    # one filter fewer cannot do: the certified bound says so
    assert kf.separable_basis(bank, size - 1).lower_bound > 1e-3 * np.sqrt(np.sum(bank**2))
    assert kf.separable_basis_for_error(bank, 1e-9).size == size


@pytest.mark.parametrize("seed", range(6))
def test_achieved_error_never_below_the_certified_bound(seed: int) -> None:
    bank = np.random.default_rng(seed).standard_normal((5, 5, 5))
    for m in (1, 2, 3):
        basis = kf.separable_basis(bank, m)
        assert basis.fro >= basis.lower_bound * (1 - 1e-12)


@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap", "nearest"])
def test_apply_equals_filtering_with_each_approximated_kernel(mode: str) -> None:
    bank = kf.gabor_bank(4, (2.0,))
    basis = kf.separable_basis(bank, 3)
    image = np.random.default_rng(1).random((40, 36))
    got = basis.apply(image, mode=mode, cval=0.5)
    want = np.stack([kf.correlate(image, k, None, mode, 0.5, method="direct")
                     for k in basis.to_array()])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())
    cost = basis.cost((40, 36))
    assert cost["basis"] == 3 * (13 + 13) + 4 * 3 and cost["direct"] == 4 * 13 * 13


def test_svd_basis_is_optimal_and_reports_separable_ranks() -> None:
    bank = kf.steerable_bank(2, 8)
    svd = kf.svd_basis(bank, 3)
    assert svd.fro_rel < 1e-12 and len(svd.separable_ranks) == 3
    rng = np.random.default_rng(3).standard_normal((6, 4, 4))
    for m in (1, 2):
        # Perona's basis is the best of all bases; the separable one cannot beat it
        assert kf.separable_basis(rng, m).fro_rel >= kf.svd_basis(rng, m).fro_rel - 1e-12


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: kf.separable_basis(np.ones((3, 3)), 1), ValueError, "shape \\(N, h, w\\)"),
        (lambda: kf.separable_basis(np.full((2, 3, 3), np.nan), 1), ValueError, "NaN"),
        (lambda: kf.separable_basis(np.ones((2, 3, 3)), 0), ValueError, "`size`"),
        (lambda: kf.steerable_bank(3), ValueError, "`order` must be 1 or 2"),
        (lambda: kf.gabor_bank(4, ()), ValueError, "`scales` is empty"),
        (lambda: kf.separable_basis_for_error(np.random.default_rng(0).random((4, 6, 6)),
                                              0.0, max_size=1), ValueError, "raise `max_size`"),
    ],
)
def test_bad_input_is_refused(call, exc, match) -> None:
    with pytest.raises(exc, match=match):
        call()
