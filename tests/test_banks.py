"""Tests for kernelfactor._banks: shared separable bases of filter banks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi

import kernelfactor as kf
from kernelfactor import _banks, _compiled


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


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("mode", kf.MODES)
def test_apply_equals_filtering_with_each_approximated_kernel(mode, compiled, monkeypatch):
    if compiled:
        pytest.importorskip("numba")
    monkeypatch.setattr(_compiled, "ENABLED", compiled)
    monkeypatch.setattr(_banks, "_BAND_BYTES", 3 * 8 * 36 * 20)  # bands of 8 rows, not 40
    bank = kf.gabor_bank(4, (2.0,))
    basis = kf.separable_basis(bank, 3)
    image = np.random.default_rng(1).random((40, 36))
    got = basis.apply(image, mode=mode, cval=0.5, workers=2)
    want = np.stack([kf.correlate(image, k, None, mode, 0.5, method="direct")
                     for k in basis.to_array()])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap"])
@pytest.mark.parametrize(("shape", "scale"), [((5, 4, 6), 1.0), ((5, 5, 3), 1e-60)])
def test_apply_with_even_sizes_and_tiny_kernels_follows_ndimage(shape, scale, mode, compiled,
                                                                monkeypatch):
    # even sizes: ndimage's centre h // 2; factors below 2**-52: the 1-D symmetry test
    # is absolute, so the factors must be scaled (exactly, by powers of two) first
    if compiled:
        pytest.importorskip("numba")
    monkeypatch.setattr(_compiled, "ENABLED", compiled)
    bank = np.random.default_rng(2).standard_normal(shape) * scale
    basis = kf.separable_basis(bank, 2)
    image = np.random.default_rng(3).random((9, 7))
    got = basis.apply(image, mode=mode, cval=-1.0)
    want = np.stack([ndi.correlate(image, k / scale, mode=mode, cval=-1.0) * scale
                     for k in basis.to_array()])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())


def test_gabor_bank_reaches_one_percent_at_the_certified_smallest_size() -> None:
    # 32 Gabor kernels: CP-ALS from the SVD/random start alone stalls above 1% up to 48
    # filters; the greedy start (the kernels' own separable terms) reaches it at M = 30,
    # and the certified bound proves M = 29 cannot
    bank = kf.gabor_bank(8, (1.5, 2.0, 2.5, 3.0))
    norm = np.sqrt(np.sum(bank**2))
    basis = kf.separable_basis_for_error(bank, 0.01)
    assert basis.size == 30 and basis.fro_rel <= 0.01 and not basis.degenerate
    assert kf.unfolding_lower_bound(bank, 29) / norm > 0.01
    np.testing.assert_allclose(np.sqrt(np.sum((bank - basis.to_array()) ** 2)), basis.fro,
                               rtol=1e-9)
    assert basis.filter_ranks == (1, 2, 2, 2, 1, 2, 2, 2) * 4
    cost = basis.cost((1024, 1024))
    assert cost["direct"] == 32 * 19 * 19 and cost["separable"] == 56 * (19 + 19)
    assert cost["basis"] == 30 * (19 + 19) + np.count_nonzero(basis.coefficients)
    assert cost["basis_total"] == cost["basis"] * 1024**2
    assert cost["basis"] < cost["separable"] < cost["direct"]


def test_bank_of_separable_pairs_is_spanned_exactly_by_its_own_terms() -> None:
    # Gabor kernels at t and pi - t share their two separable terms: 4 scales x 8
    # orientations need exactly 32 shared filters, which the greedy start finds
    bank = kf.gabor_bank(8, (1.5, 2.0, 2.5, 3.0))
    basis = kf.separable_basis_for_error(bank, 0.0)
    assert basis.size == 32 and basis.within_rounding
    assert kf.separable_basis(bank, 31).lower_bound > 1e-3


def test_zero_bank_and_rounding_level_coefficients() -> None:
    zero = kf.separable_basis(np.zeros((3, 4, 4)), 2)
    assert zero.fro == 0 and zero.within_rounding and not zero.coefficients.any()
    np.testing.assert_array_equal(zero.apply(np.ones((5, 5))), np.zeros((3, 5, 5)))
    # a bank of one separable kernel repeated: the coefficient of the spare filter is
    # rounding noise, and is dropped (the combination counts what it multiplies)
    k = np.outer([1.0, 2, 1], [1.0, 0, -1])
    basis = kf.separable_basis(np.stack([k, 2 * k]), 2)
    assert basis.within_rounding
    assert basis.cost()["basis"] == 2 * 6 + np.count_nonzero(basis.coefficients)


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
        (lambda: kf.separable_basis(kf.steerable_bank(1, 2), 2).apply(np.ones((2, 3, 3))),
         ValueError, "real 2-D array"),
        (lambda: kf.separable_basis(kf.steerable_bank(1, 2), 2).apply(np.ones((3, 3)),
                                                                       mode="edge"),
         ValueError, "`mode`"),
        (lambda: kf.separable_basis(kf.steerable_bank(1, 2), 2).apply(np.ones((3, 3)),
                                                                       cval=np.nan),
         ValueError, "`cval` must be finite"),
        (lambda: kf.gabor_bank(4, ()), ValueError, "`scales` is empty"),
        (lambda: kf.steerable_bank(True), ValueError, "`order` must be 1 or 2"),
        (lambda: kf.steerable_bank(1, sigma=-1.0), ValueError, "`sigma` must be > 0"),
        (lambda: kf.steerable_bank(1, sigma=0.0), ValueError, "`sigma` must be > 0"),
        (lambda: kf.gabor_bank(4, (2.0,), cycles=float("nan")), ValueError, "`cycles`"),
        (lambda: kf.gabor_bank(4, (0.0,)), ValueError, "`scales` must be > 0"),
        (lambda: kf.steerable_bank(1, sigma=1000.0), ValueError, "limit is 4097 taps"),
        (lambda: kf.steerable_bank(1, 10**6), ValueError, "limit is 16,777,216"),
        (lambda: kf.gabor_bank(8, (200.0, 300.0)), ValueError, "limit is 16,777,216"),
        (lambda: kf.gabor_bank(8, (2.0,), size=10**5), ValueError, "4097 taps"),
        (lambda: kf.separable_basis_for_error(np.random.default_rng(0).random((4, 6, 6)),
                                              0.0, max_size=1), ValueError, "raise `max_size`"),
    ],
)
def test_bad_input_is_refused(call, exc, match) -> None:
    with pytest.raises(exc, match=match):
        call()


def test_more_filters_than_the_bank_needs_keep_the_exact_start() -> None:
    # past the 32 filters that span the Gabor bank, ALS from the greedy start wanders
    # (a degenerate fit); the start itself, closer, is kept
    bank = kf.gabor_bank(8, (1.5, 2.0, 2.5, 3.0))
    basis = kf.separable_basis(bank, 33)
    assert basis.fro_rel <= 1e-9 and not basis.degenerate


def test_for_error_at_zero_finds_the_exact_basis_not_a_noise_excluded_one() -> None:
    """A lower bound at the rounding level is noise: it must not exclude the exact size."""
    bank = kf.gabor_bank(orientations=2, scales=(1.0, 1.0))
    assert kf.separable_basis(bank, 2).within_rounding
    basis = kf.separable_basis_for_error(bank, 0.0)
    assert basis.size == 2 and basis.within_rounding and not basis.degenerate
