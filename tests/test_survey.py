"""Tests for kernelfactor.paper._survey: the numbers behind the figures and tables."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kernelfactor as kf
from kernelfactor import paper
from kernelfactor.paper import kernel_label, pareto_mask, timing_key


@pytest.fixture(scope="module")
def rows() -> dict[str, paper.KernelSurvey]:
    return {r.name: r for r in paper.survey()}


def test_survey_covers_the_catalogue(rows):
    assert sorted(rows) == kf.list_kernels()


@pytest.mark.parametrize(
    ("name", "shape", "rank", "exact_rank", "full", "sep"),
    [
        ("sobel_x", (3, 3), 1, 1, 9.0, 6.0),
        ("laplacian4", (3, 3), 2, 2, 9.0, 12.0),
        ("emboss", (3, 3), 3, 3, 9.0, 18.0),
        ("roberts_x", (2, 2), 2, 2, 4.0, 8.0),
        ("motion_blur", (1, 9), 1, 1, 9.0, 10.0),
        ("gaussian", (9, 9), 1, None, 81.0, 18.0),  # irrational: no exact rank
        ("log", (9, 9), 2, None, 81.0, 36.0),
    ],
)
def test_survey_rows(rows, name, shape, rank, exact_rank, full, sep):
    r = rows[name]
    assert r.shape == shape
    assert r.rank == rank
    assert r.exact_rank == exact_rank
    assert r.full_mults == full
    assert r.separable_mults == sep
    assert r.speedup == pytest.approx(full / sep)


def test_rank1_error_and_sigma_ratio_match_the_spectrum(rows):
    for name in ("laplacian8", "disk", "dog", "sharpen"):
        s = np.linalg.svd(kf.get_kernel(name), compute_uv=False)
        r = rows[name]
        # 6 significant digits (the noise policy)
        assert r.sigma_ratio == pytest.approx(s[1] / s[0], rel=1e-5)
        assert r.rank1_error == pytest.approx(np.sqrt(np.sum(s[1:] ** 2) / np.sum(s**2)), rel=1e-5)
        assert r.raw["sigma_ratio"] == pytest.approx(s[1] / s[0], rel=1e-12)


def test_rounding_noise_is_stored_as_zero(rows):
    for name in ("binomial", "sobel_x", "prewitt_x", "identity", "gaussian"):
        assert rows[name].sigma_ratio == 0.0 and rows[name].rank1_error == 0.0
        assert "rank-1 error 0 (below tol)" in repr(rows[name])


def test_sigma_ratio_is_none_for_a_single_row(rows):
    assert rows["motion_blur"].sigma_ratio is None
    assert rows["motion_blur"].rank1_error == 0.0


def test_separable_kernels_have_rank1_error_at_rounding(rows):
    for name in ("sobel_x", "gaussian", "binomial", "box"):
        assert rows[name].rank1_error <= rows[name].rounding


@pytest.mark.parametrize("max_rel_error", [0.3, 0.1, 1e-2, 1e-6])
def test_tolerance_rank_is_the_smallest_meeting_the_target(max_rel_error):
    (r,) = paper.survey(["disk"], max_rel_error=max_rel_error)
    errs = [kf.lowrank("disk", k).error.fro_rel for k in range(12)]
    assert errs[r.tol_rank] <= max_rel_error
    assert r.tol_rank == 0 or errs[r.tol_rank - 1] > max_rel_error
    assert r.tol_mults == (r.tol_rank * 22 if r.tol_rank else 0.0)


def test_survey_with_params_and_rtol():
    (r,) = paper.survey([("gaussian", {"sigma": 2.0})], rtol=1e-3)
    assert r.label == "gaussian(sigma=2)"
    assert r.shape == (17, 17)
    assert r.params["sigma"] == 2.0
    (loose,) = paper.survey(["disk"], rtol=0.1)
    assert loose.rank == 2  # sigma_3 / sigma_1 = 0.084 < 0.1 < sigma_2 / sigma_1


def test_survey_to_dict_is_json(rows):
    for r in rows.values():
        d = r.to_dict()
        assert json.loads(json.dumps(d)) == d
    assert "sobel_x" in repr(rows["sobel_x"])


@pytest.mark.parametrize(
    ("kernels", "exc", "match"),
    [
        ("sobel_x", TypeError, "Wrap it in a list"),
        ([3], TypeError, "`kernels`"),
        ([], ValueError, "empty"),
        (["nope"], ValueError, "nope"),
    ],
)
def test_survey_bad_kernels(kernels, exc, match):
    with pytest.raises(exc, match=match):
        paper.survey(kernels)


def test_survey_bad_tolerance():
    with pytest.raises(ValueError, match="`max_rel_error`"):
        paper.survey(["sobel_x"], max_rel_error=-1.0)


def test_kernel_label():
    assert kernel_label("disk", {"radius": 5.0, "antialias": True}) == (
        "disk(antialias=True, radius=5)"
    )


# --- trade-off points ------------------------------------------------------------


def test_tradeoff_points_and_pareto():
    pts = paper.tradeoff([("disk", {"radius": 5.0})])
    sep = [p for p in pts if p.method == "separable"]
    assert [p.rank for p in sep] == [1, 2, 3, 4, 5]
    assert [p.multiplications for p in sep] == [22.0, 44.0, 66.0, 88.0, 110.0]
    errs = [p.error for p in sep]
    assert errs == sorted(errs, reverse=True)
    direct = next(p for p in pts if p.method == "direct")
    assert direct.multiplications == 121.0 and direct.error == 0.0
    fft = next(p for p in pts if p.method == "fft")
    # rank 5 is exact up to rounding, and so is the FFT; both are cheaper than direct,
    # which is dominated; a separable rank is on the front iff it is cheaper than the FFT.
    assert sep[-1].error <= sep[-1].rounding
    assert not direct.pareto
    assert fft.pareto == (fft.multiplications <= sep[-1].multiplications)
    for p in sep:
        cheaper = p.multiplications < fft.multiplications
        tie = p is sep[-1] and p.multiplications == fft.multiplications
        assert p.pareto == (cheaper or tie)


def test_tradeoff_direct_dominated_when_separable_is_exact_and_cheaper():
    pts = paper.tradeoff(["gaussian"])
    by = {(p.method, p.rank): p for p in pts}
    assert by[("separable", 1)].pareto
    assert not by[("direct", None)].pareto  # 81 mults for the same (exact) answer


def test_tradeoff_ranks_are_clipped_and_deduplicated():
    pts = paper.tradeoff(["sobel_x"], ranks=[1, 3, 7])
    assert [p.rank for p in pts if p.method == "separable"] == [1, 3]


def test_tradeoff_timings():
    key = timing_key("sobel_x", "separable", 1)
    timings = {key: 0.5, timing_key("sobel_x", "direct", None): 1.0}
    pts = paper.tradeoff(["sobel_x"], timings=timings)
    by = {p.key: p for p in pts}
    assert by[key].seconds == 0.5 and by[key].pareto_seconds
    assert not by["sobel_x|direct|"].pareto_seconds
    assert by["sobel_x|fft|"].seconds is None and by["sobel_x|fft|"].pareto_seconds is None
    d = by[key].to_dict()
    assert json.loads(json.dumps(d)) == d


def test_pareto_mask_examples():
    assert pareto_mask([1, 1], [0.5, 0.5]).tolist() == [True, True]  # ties: neither dominates
    assert pareto_mask([1, 2], [0.1, 0.1]).tolist() == [True, False]


# Property: the front is exactly the set of points nobody dominates; 60 random clouds
# of up to 12 points cover ties and singletons while keeping the test well under a second.
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=12))
def test_pareto_mask_property(points):
    c = [p[0] for p in points]
    e = [p[1] for p in points]
    mask = pareto_mask(c, e)
    for i, (ci, ei) in enumerate(points):
        dominated = any(
            cj <= ci and ej <= ei and (cj < ci or ej < ei) for cj, ej in points
        )
        assert mask[i] == (not dominated)
    assert mask.any()


# --- error curves, residual comparison, depthwise grid ----------------------------------


def test_error_curve_matches_lowrank():
    c = paper.error_curve("dog")
    assert c.ranks == tuple(range(14))
    assert c.fro_rel[0] == 1.0 and c.spectral_rel[0] == 1.0 and c.l1_rel[0] == 1.0
    lr = kf.lowrank("dog", 1)
    assert c.fro_rel[1] == pytest.approx(lr.error.fro_rel)
    assert c.l1_rel[1] == pytest.approx(lr.error.l1 / np.abs(kf.get_kernel("dog")).sum())
    assert c.rank == 2
    assert max(c.fro_rel[2:]) <= c.rounding
    assert json.loads(json.dumps(c.to_dict()))["label"] == "dog"


@pytest.mark.parametrize(("kernel", "rank"), [("disk", 1), ("disk", 3), ("log", 1), ("dog", 0)])
def test_residual_comparison_respects_the_bound(rng, kernel, rank):
    x = rng.random((40, 50))
    r = paper.residual_comparison(x, kernel, rank)
    assert r.rank == rank
    assert np.array_equal(r.difference, r.exact - r.approx)
    assert 0.0 < r.max_abs_difference <= r.bound * (1 + 1e-12)
    assert "bound" in repr(r)
    assert json.loads(json.dumps(r.to_dict()))["rank"] == rank


def test_residual_comparison_of_exact_rank_is_rounding(rng):
    r = paper.residual_comparison(rng.random((30, 30)), "log", 2)
    assert r.max_abs_difference < 1e-14


def test_residual_comparison_rejects_colour_images(rng):
    with pytest.raises(ValueError, match="`image` must be 2-D"):
        paper.residual_comparison(rng.random((8, 8, 3)), "disk", 1)


def test_depthwise_grid_ratio_identity():
    g = paper.depthwise_cost_grid((3, 5, 7), (1, 16, 256))
    k = np.array([3, 5, 7])[:, None]
    n = np.array([1, 16, 256])[None, :]
    np.testing.assert_allclose(g.ratio, 1 / n + 1 / k**2, rtol=1e-12)
    assert g.seed == {
        "K": 5.0, "N": 256.0, "standard": 1228800.0, "depthwise": 53952.0,
        "ratio": pytest.approx(53952 / 1228800),
    }
    d = g.to_dict()
    assert json.loads(json.dumps(d))["standard"][1][2] == g.standard[1][2]
    assert math.isclose(d["ratio"][1][2], 0.0439, abs_tol=1e-4)


# --- filter banks ----------------------------------------------------------------------


def test_bank_curve_stops_at_the_exact_size():
    bank = kf.steerable_bank(2, 8)
    c = paper.bank_curve(bank, "steerable")
    assert c.shape == (8, 13, 13) and c.sizes == (1, 2, 3) and c.exact_size == 3
    for m, err, low in zip(c.sizes, c.errors, c.lower_bounds, strict=True):
        basis = kf.separable_basis(bank, m)
        assert err == pytest.approx(basis.fro_rel, rel=1e-2, abs=c.rounding)
        assert low == pytest.approx(basis.lower_bound / np.linalg.norm(bank), rel=1e-2,
                                    abs=c.rounding)
        assert err >= low  # the lower bound is certified
    # exact up to rounding: stored as 0.0, never as rounding digits
    assert c.errors[-1] == 0.0 and c.lower_bounds[-1] == 0.0
    # three significant digits: CP fits differ in their last bits between LAPACK builds
    assert all(float(f"{v:.3g}") == v for v in (*c.errors, *c.lower_bounds))
    # M (13 + 13) + the non-zero coefficients: the kernels at 0 and 90 degrees need fewer
    # terms (their dropped coefficients are below 1% of the rounding level, the kept ones
    # above 1e12 times it: no machine's last bits move a coefficient across)
    assert c.multiplications == (34.0, 66.0, 98.0) and c.direct == 8 * 13 * 13
    assert c.degenerate == (False, False, False)
    assert json.loads(json.dumps(c.to_dict()))["exact_size"] == 3


def test_bank_curve_max_size_and_gabor_needs_more():
    c = paper.bank_curve(kf.gabor_bank(8, (2.0,)), "gabor", max_size=3)
    assert c.sizes == (1, 2, 3) and c.exact_size is None
    assert all(e > 0.5 for e in c.errors)  # 3 shared filters are far from enough
    with pytest.raises(ValueError, match="`max_size` must be >= 1"):
        paper.bank_curve(kf.gabor_bank(2, (2.0,)), "gabor", max_size=0)
    with pytest.raises(ValueError, match="`bank` must be a real stack"):
        paper.bank_curve(np.ones((3, 3)), "not a bank")
