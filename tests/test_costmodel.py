"""Tests of kernelfactor._costmodel: operation counts, the timing model and its cache."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.fft import next_fast_len

from kernelfactor import _costmodel
from kernelfactor._costmodel import (
    FFT_PASSES,
    conv_cost,
    conv_output_shape,
    depthwise_separable_cost,
    fft_crossover,
    filter_cost,
    layer_costs,
    low_rank_channel_cost,
    rank_crossover,
    seed_example,
    separable_crossover,
    spatially_separable_cost,
)

# ---------------------------------------------------------------------------
# the seed example, exactly
# ---------------------------------------------------------------------------


def test_seed_counts_exact() -> None:
    t = seed_example()
    assert t.standard.output_shape == (8, 8, 256)
    assert t.standard.multiplications == 1_228_800
    dw, pw = t.depthwise_separable.stages
    assert (dw.name, dw.output_shape, dw.multiplications) == ("depthwise", (8, 8, 3), 4_800)
    assert (pw.name, pw.output_shape, pw.multiplications) == ("pointwise", (8, 8, 256), 49_152)
    assert t.depthwise_separable.multiplications == 53_952
    assert t.depthwise_separable.output_shape == (8, 8, 256)
    ratio = t.ratios["depthwise_separable"]["multiplications"]
    assert round(ratio, 4) == 0.0439
    assert ratio == pytest.approx(1 / 256 + 1 / 25, rel=1e-14)
    assert t.depthwise_separable_identity == pytest.approx(ratio, rel=1e-14)
    # each output costs 5 * 5 * 3 = 75 multiplications; 256 kernels -> 256 "transforms"
    assert t.standard.per_output_multiplications == 75
    assert t.standard.parameters == 5 * 5 * 3 * 256


def test_seed_same_padding_is_the_slip_shape() -> None:
    # the seed's "12 x 12 x 256" is the same-padding output
    assert conv_cost((12, 12, 3), 5, 256, padding="same").output_shape == (12, 12, 256)


def test_seed_example_matches_layer_costs_defaults() -> None:
    assert seed_example().to_dict() == layer_costs().to_dict()


def test_seed_slips_documented() -> None:
    doc = seed_example.__doc__ or ""
    module_doc = _costmodel.__doc__ or ""
    for text in (doc, module_doc):
        assert "49512" in text and "49,152" in text
        assert "245" in text and "256" in text
        assert "12 x 12 x 256" in text and "8 x 8 x 256" in text


def test_seed_table_text() -> None:
    text = str(seed_example())
    for token in ("1,228,800", "4,800", "49,152", "53,952", "0.0439", "8x8x256"):
        assert token in text
    assert "49512" not in text


def test_layer_costs_to_dict_json() -> None:
    d = layer_costs(channel_rank=4).to_dict()
    again = json.loads(json.dumps(d))
    assert again == d
    assert set(d["layers"]) == {
        "standard",
        "depthwise_separable",
        "spatially_separable",
        "low_rank_channel",
    }
    assert d["layers"]["depthwise_separable"]["stages"][1]["multiplications"] == 49_152
    assert d["ratios"]["standard"]["multiplications"] == 1.0


# ---------------------------------------------------------------------------
# CNN-layer identities
# ---------------------------------------------------------------------------


# 200 examples: each is a few integer multiplications; covers the grid well in < 1 s.
@settings(max_examples=200, deadline=None)
@given(
    h=st.integers(1, 64),
    w=st.integers(1, 64),
    c_in=st.integers(1, 64),
    c_out=st.integers(1, 512),
    k=st.integers(1, 11),
)
def test_depthwise_ratio_identity_valid_stride1(h: int, w: int, c_in: int, c_out: int, k: int):
    if k > min(h, w):
        h, w = h + k, w + k
    t = layer_costs((h, w, c_in), k, c_out)
    ratio = t.depthwise_separable.multiplications / t.standard.multiplications
    assert ratio == pytest.approx(1 / c_out + 1 / k**2, rel=1e-12)
    assert t.standard.output_shape == (h - k + 1, w - k + 1, c_out)


# 200 examples: the general identity m (1/N + 1/(Kh Kw)) over padding, stride, dilation.
@settings(max_examples=200, deadline=None)
@given(
    hw=st.tuples(st.integers(8, 40), st.integers(8, 40)),
    c_in=st.integers(1, 16),
    c_out=st.integers(1, 64),
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.integers(1, 3),
    dilation=st.integers(1, 2),
    padding=st.sampled_from(["same", "valid"]),
    m=st.integers(1, 4),
)
def test_depthwise_ratio_identity_general(hw, c_in, c_out, kernel, stride, dilation, padding, m):
    args = ((*hw, c_in), kernel, c_out)
    kw = {"stride": stride, "dilation": dilation, "padding": padding}
    std = conv_cost(*args, **kw)
    ds = depthwise_separable_cost(*args, multiplier=m, **kw)
    assert ds.output_shape == std.output_shape
    expected = m * (1 / c_out + 1 / (kernel[0] * kernel[1]))
    assert ds.multiplications / std.multiplications == pytest.approx(expected, rel=1e-12)
    assert ds.parameters == c_in * m * kernel[0] * kernel[1] + c_out * c_in * m


def _reference_out(size: int, k: int, s: int, d: int, padding: str) -> tuple[int, int]:
    """Output size and total padding by enumerating window positions."""
    eff = d * (k - 1) + 1
    if padding == "valid":
        return len(range(0, size - eff + 1, s)), 0
    out = math.ceil(size / s)
    total = max((out - 1) * s + eff - size, 0)
    assert len(range(0, size + total - eff + 1, s)) == out
    return out, total


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("size", [7, 12, 16])
def test_conv_output_shape(size: int, k: int, stride: int, dilation: int, padding: str) -> None:
    if padding == "valid" and dilation * (k - 1) + 1 > size:
        with pytest.raises(ValueError, match="`kernel`"):
            conv_output_shape((size, size + 1), k, stride=stride, dilation=dilation)
        return
    (ho, wo), ((top, bottom), (left, right)) = conv_output_shape(
        (size, size + 1), k, stride=stride, padding=padding, dilation=dilation
    )
    out_h, total_h = _reference_out(size, k, stride, dilation, padding)
    out_w, total_w = _reference_out(size + 1, k, stride, dilation, padding)
    assert (ho, wo) == (out_h, out_w)
    assert top + bottom == total_h and left + right == total_w
    assert bottom - top in (0, 1) and right - left in (0, 1)  # TensorFlow: extra at the end


def test_tensorflow_same_examples() -> None:
    # TF docs: input 5, kernel 3, stride 2 -> out 3, pad 1 + 1; input 4 -> out 2, pad 0 + 1
    assert conv_output_shape((5, 4), 3, stride=2, padding="same") == ((3, 2), ((1, 1), (0, 1)))


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("stride", [1, 2])
def test_spatially_separable_and_low_rank_formulas(padding: str, stride: int) -> None:
    h, w, c_in, c_out, kh, kw, r = 17, 13, 3, 8, 5, 3, 2
    (ho, wo), _ = conv_output_shape((h, w), (kh, kw), stride=stride, padding=padding)
    ss = spatially_separable_cost(
        (h, w, c_in), (kh, kw), c_out, rank=r, stride=stride, padding=padding
    )
    col, row = ss.stages
    assert col.output_shape == (ho, w, c_in * c_out * r)
    assert row.input_shape == col.output_shape and row.groups == c_out
    assert ss.output_shape == (ho, wo, c_out)
    assert ss.multiplications == r * c_out * c_in * (ho * w * kh + ho * wo * kw)
    assert ss.parameters == r * c_out * c_in * (kh + kw)
    # adds: column sums kh-1 per tap row; row stage sums all c_in * r * kw products
    assert ss.additions == ho * w * c_in * c_out * r * (kh - 1) + ho * wo * c_out * (
        c_in * r * kw - 1
    )
    lr = low_rank_channel_cost(
        (h, w, c_in), (kh, kw), c_out, rank=r, stride=stride, padding=padding
    )
    assert lr.multiplications == ho * w * r * c_in * kh + ho * wo * c_out * r * kw
    assert lr.parameters == r * c_in * kh + c_out * r * kw
    assert lr.output_shape == (ho, wo, c_out)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_standard_counts_padding_taps(padding: str) -> None:
    c = conv_cost((6, 6, 2), 3, 4, padding=padding)
    ho = 6 if padding == "same" else 4
    assert c.multiplications == ho * ho * 4 * 2 * 9  # padding taps included
    assert c.additions == ho * ho * 4 * (2 * 9 - 1)
    assert c.per_output_multiplications == 18


def test_bias_counts() -> None:
    plain, biased = conv_cost((8, 8, 3), 3, 5), conv_cost((8, 8, 3), 3, 5, bias=True)
    assert biased.additions - plain.additions == 6 * 6 * 5
    assert biased.parameters - plain.parameters == 5
    assert biased.multiplications == plain.multiplications


def test_composites_sum_their_stages() -> None:
    t = layer_costs((20, 18, 4), (3, 5), 7, stride=2, padding="same", channel_rank=3)
    for layer in t.layers[1:]:
        assert layer.multiplications == sum(s.multiplications for s in layer.stages)
        assert layer.additions == sum(s.additions for s in layer.stages)
        assert layer.parameters == sum(s.parameters for s in layer.stages)
    assert "ConvCost(depthwise_separable" in repr(t.depthwise_separable)


# ---------------------------------------------------------------------------
# image filters
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 1), (64, 48), (512, 512)])
@pytest.mark.parametrize("kernel", [(1, 1), (3, 3), (5, 7), (1, 9)])
def test_direct_and_separable_counts(shape, kernel) -> None:
    (h, w), (m, n) = shape, kernel
    d = filter_cost(shape, kernel)
    assert (d.multiplications, d.additions) == (h * w * m * n, h * w * (m * n - 1))
    assert isinstance(d.multiplications, int) and d.exact and d.rank is None and d.passes == 2
    for k in range(1, min(m, n, 3) + 1):  # ranks above min(m, n) are refused (issue 12)
        s = filter_cost(shape, kernel, method="separable", rank=k)
        assert s.per_output_multiplications == k * (m + n)
        assert s.per_output_additions == k * (m - 1 + n - 1) + k - 1
        assert s.multiplications == h * w * k * (m + n)
        assert (s.rank, s.passes, s.exact) == (k, 5 * k - 1, True)


def test_fft_estimate() -> None:
    f = filter_cost((100, 200), (5, 9), method="fft")
    ph, pw = next_fast_len(104, real=True), next_fast_len(208, real=True)
    p, spectrum = ph * pw, ph * (pw // 2 + 1)
    assert not f.exact and f.rank is None and f.passes == FFT_PASSES
    assert f.multiplications == pytest.approx(3 * p * math.log2(p) + 6 * spectrum)
    assert f.additions == pytest.approx(3 * 1.5 * p * math.log2(p) + 2 * spectrum)
    assert f.per_output_multiplications == pytest.approx(f.multiplications / 20_000)
    # the FFT cost barely depends on the kernel size, direct grows with it
    big = filter_cost((100, 200), (15, 15), method="fft")
    assert big.multiplications < 1.5 * f.multiplications
    assert "estimate" in repr(f)


@pytest.mark.parametrize(
    ("shape", "kernel"), [((8, 6, 5), (3, 3, 3)), ((4, 4, 4, 4), (3, 1, 5, 2))]
)
def test_volume_counts(shape, kernel) -> None:
    size, taps, d = math.prod(shape), math.prod(kernel), len(kernel)
    direct = filter_cost(shape, kernel, ndim=d)
    assert (direct.multiplications, direct.additions) == (size * taps, size * (taps - 1))
    assert direct.kernel_shape == kernel and direct.image_shape == shape
    top = taps // max(kernel)  # the fibre count: an upper bound on the tensor rank
    for r in (1, top):
        sep = filter_cost(shape, kernel, method="separable", rank=r, ndim=d)
        assert sep.multiplications == size * r * sum(kernel)
        assert sep.additions == size * (r * sum(k - 1 for k in kernel) + r - 1)
        assert sep.passes == 2 * d * r + r - 1
    with pytest.raises(ValueError, match="number of fibres"):
        filter_cost(shape, kernel, method="separable", rank=top + 1, ndim=d)
    fft = filter_cost(shape, kernel, method="fft", ndim=d)
    fast = [next_fast_len(s + k - 1, real=True) for s, k in zip(shape, kernel, strict=True)]
    p, spectrum = math.prod(fast), math.prod(fast[:-1]) * (fast[-1] // 2 + 1)
    assert fft.multiplications == pytest.approx(3 * p * math.log2(p) + 6 * spectrum)
    assert fft.passes == 2 + 3 * 2 * d + 3 + 2 and not fft.exact


def test_ndim_two_is_the_default_and_shapes_must_match() -> None:
    assert filter_cost((9, 7), (3, 5), ndim=2) == filter_cost((9, 7), (3, 5))
    assert filter_cost((9, 7), (3, 5), method="fft", ndim=2).passes == FFT_PASSES
    with pytest.raises(ValueError, match="`kernel_shape` must be a sequence of 3"):
        filter_cost((8, 8, 8), (3, 3), ndim=3)
    with pytest.raises(ValueError, match="`image_shape` must be a sequence of 3"):
        filter_cost((8, 8), (3, 3, 3), ndim=3)
    for bad in (1, 2.0, True, "3"):
        with pytest.raises(ValueError, match="`ndim` must be an integer >= 2"):
            filter_cost((8, 8), (3, 3), ndim=bad)


def test_filter_cost_to_dict_json() -> None:
    for method in ("direct", "fft", "separable"):
        d = filter_cost((32, 16), (3, 5), method=method, rank=2).to_dict()
        assert json.loads(json.dumps(d)) == d
        assert d["image_shape"] == [32, 16] and d["method"] == method


@pytest.mark.parametrize("rank", [1, 2, 3, 5])
def test_separable_crossover_multiplications(rank: int) -> None:
    n = separable_crossover(rank)
    assert n == 2 * rank + 1
    assert filter_cost((1, 1), (n, n), method="separable", rank=rank).multiplications < n * n
    assert (
        filter_cost((1, 1), (n - 1, n - 1), method="separable", rank=rank).multiplications
        >= (n - 1) ** 2
    )


@pytest.mark.parametrize("metric", ["additions", "operations"])
@pytest.mark.parametrize("rank", [1, 2, 4])
def test_separable_crossover_minimal(metric: str, rank: int) -> None:
    n = separable_crossover(rank, metric=metric)
    assert n is not None

    def value(c):
        return c.additions if metric == "additions" else c.operations

    def wins(size: int) -> bool:
        s = filter_cost((1, 1), (size, size), method="separable", rank=rank)
        return value(s) < value(filter_cost((1, 1), (size, size)))

    assert wins(n) and not any(wins(j) for j in range(rank, n))  # rank <= size (issue 12)


def test_separable_crossover_none_when_limited() -> None:
    assert separable_crossover(10, max_size=5) is None


@pytest.mark.parametrize("m", [1, 2, 3, 5, 7, 11])
@pytest.mark.parametrize("n", [1, 3, 4, 9])
def test_rank_crossover(m: int, n: int) -> None:
    k = rank_crossover((m, n))
    assert k == math.ceil(m * n / (m + n))
    assert 1 <= k <= min(m, n)
    assert k * (m + n) >= m * n
    if k > 1:
        assert (k - 1) * (m + n) < m * n


def test_fft_crossover_minimal() -> None:
    n = fft_crossover((256, 256), metric="operations")
    assert n is not None and n > 1

    def wins(size: int) -> bool:
        return (
            filter_cost((256, 256), (size, size), method="fft").operations
            < filter_cost((256, 256), (size, size)).operations
        )

    assert wins(n) and not wins(n - 1)
    sep = fft_crossover((256, 256), versus="separable")
    assert sep is not None and sep > n
    assert fft_crossover((256, 256), max_size=2) is None


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "exc", "pattern"),
    [
        (lambda: filter_cost((0, 5), (3, 3)), ValueError, "`image_shape`.*entry 0 is 0"),
        (lambda: filter_cost((5, 5, 5), (3, 3)), ValueError, "`image_shape`.*2 positive"),
        (lambda: filter_cost((5.0, 5), (3, 3)), TypeError, "`image_shape`.*integers"),
        (lambda: filter_cost((5, 5), (3, -1)), ValueError, "`kernel_shape`.*entry 1 is -1"),
        (lambda: filter_cost((5, 5), 3), ValueError, "`kernel_shape`"),
        (lambda: filter_cost((5, 5), (3, 3), method="sep"), ValueError, "`method`.*'direct'"),
        (lambda: filter_cost((5, 5), (3, 3), method="separable", rank=0), ValueError, "`rank`"),
        (lambda: separable_crossover(1, metric="flops"), ValueError, "`metric`"),
        (lambda: fft_crossover((8, 8), versus="fft"), ValueError, "`versus`"),
        (lambda: conv_cost((12, 12), 5, 256), ValueError, "`input_shape`.*3 positive"),
        (lambda: conv_cost((12, 12, 0), 5, 256), ValueError, "`input_shape`.*entry 2 is 0"),
        (lambda: conv_cost((12, 12, 3), 0, 256), ValueError, "`kernel`"),
        (lambda: conv_cost((12, 12, 3), 5, 0), ValueError, "`out_channels`"),
        (lambda: conv_cost((12, 12, 3), 5, 256, stride=0), ValueError, "`stride`"),
        (lambda: conv_cost((12, 12, 3), 5, 256, stride=(1, 0)), ValueError, "`stride`"),
        (lambda: conv_cost((12, 12, 3), 5, 256, dilation=0), ValueError, "`dilation`"),
        (lambda: conv_cost((12, 12, 3), 5, 8, padding="full"), ValueError, "`padding`"),
        (lambda: conv_cost((4, 12, 3), 5, 8), ValueError, "`kernel`.*larger.*`input_shape`"),
        (lambda: conv_cost((12, 12, 3), 5, 8, dilation=3), ValueError, "effective height 13"),
        (lambda: depthwise_separable_cost((12, 12, 3), 5, 8, multiplier=0), ValueError, "`multi"),
        (lambda: spatially_separable_cost((12, 12, 3), 5, 8, rank=0), ValueError, "`rank`"),
        (lambda: low_rank_channel_cost((12, 12, 3), 5, 8, rank=0), ValueError, "`rank`"),
        (lambda: layer_costs(multiplier=0), ValueError, "`multiplier`"),
        (lambda: layer_costs(stride=0), ValueError, "`stride`"),
        (lambda: layer_costs(out_channels=True), TypeError, "`out_channels`"),
    ],
)
def test_bad_input(call, exc, pattern) -> None:
    with pytest.raises(exc, match=pattern):
        call()


def test_same_padding_allows_kernel_larger_than_input() -> None:
    c = conv_cost((4, 4, 1), 7, 1, padding="same")
    assert c.output_shape == (4, 4, 1) and c.multiplications == 16 * 49


def test_method_typo_suggests() -> None:
    with pytest.raises(ValueError, match="Did you mean 'separable'"):
        filter_cost((5, 5), (3, 3), method="seperable")
