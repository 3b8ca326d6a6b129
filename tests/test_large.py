"""Dask arrays filtered chunk by chunk (kernelfactor._large) equal the in-memory result."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

from kernelfactor._apply import _prepare_kernel  # noqa: E402
from kernelfactor._apply import convolve as kf_convolve  # noqa: E402
from kernelfactor._apply import correlate as kf_correlate  # noqa: E402
from kernelfactor._validation import MODES  # noqa: E402

RNG = np.random.default_rng(20240604)


@pytest.fixture(autouse=True)
def _synchronous(request):
    """Run graphs in the test's thread: these graphs are tiny, thread hand-offs
    would dominate.  Tests marked ``threads`` keep dask's default scheduler."""
    if "threads" in request.fixturenames:
        yield
        return
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.fixture
def threads():
    """Use dask's default (threaded) scheduler in this test."""
    return None
IMAGE = RNG.standard_normal((64, 80))
SHAPES = [(3, 3), (4, 6), (5, 2), (1, 7)]


def _kernel(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _origins(shape: tuple[int, int]) -> list[tuple[int, int]]:
    """0 and both mixed extremes of ndimage's rule (each axis sees its min and max)."""
    lo = [-(s // 2) for s in shape]
    hi = [(s - 1) // 2 for s in shape]
    return sorted({(0, 0), (lo[0], hi[1]), (hi[0], lo[1])})


def _filter(image, kernel, *, convolve=False, **kw):
    """kernelfactor's filter: lazy for a dask `image`, in memory for a NumPy one."""
    return (kf_convolve if convolve else kf_correlate)(image, kernel, **kw)


def _scipy(image, kernel, *, convolve=False, **kw):
    f = ndimage.convolve if convolve else ndimage.correlate
    return f(np.asarray(image, dtype=np.float64), np.asarray(kernel, dtype=np.float64), **kw)


# -- the halo -------------------------------------------------------------------------


def _halo(size: int, origin: int, convolve: bool) -> tuple[int, int]:
    """ndimage's reach along one axis, derived by hand (see the module notes)."""
    if convolve:  # ndimage: flip the weights, negate the origin, one more for even sizes
        origin = -origin - (1 - size % 2)
    return size // 2 + origin, (size - 1) // 2 - origin


def _measured_reach(shape, *, ndim, origin, convolve):
    """Cells read before and after each output along axes (0, 1), measured with ndimage.

    A delta filtered with an all-ones kernel lights up exactly the outputs
    that read it: output i reads input c iff c - after <= i <= c + before.
    """
    n = 2 * max(shape) + 3
    centre = n // 2
    f = ndimage.convolve if convolve else ndimage.correlate
    reach = {}
    for axis in (0, 1):
        delta_shape = [1] * ndim
        delta_shape[axis] = n
        delta = np.zeros(delta_shape)
        delta.reshape(-1)[centre] = 1.0
        full_origin = list(origin) + [0] * (ndim - 2)
        out = f(delta, np.ones(shape + (1,) * (ndim - 2)), mode="constant", origin=full_origin)
        hit = np.flatnonzero(out.reshape(-1) > 0.5)
        reach[axis] = (int(hit.max()) - centre, centre - int(hit.min()))
    return reach


@pytest.mark.parametrize("convolve", [False, True])
@pytest.mark.parametrize("shape", [(1, 2), (3, 4), (5, 8), (6, 1)])
def test_halo_of_the_prepared_kernel_is_what_ndimage_reads(shape, convolve):
    for origin in itertools.product(*(range(-(s // 2), (s - 1) // 2 + 1) for s in shape)):
        want = {a: _halo(s, o, convolve) for a, s, o in zip((0, 1), shape, origin, strict=True)}
        for ndim in (2, 3):  # (H, W) and (H, W, C)
            kern, ax = _prepare_kernel(np.ones(shape), origin, convolve, axes=(0, 1), ndim=ndim)
            assert {ax[k]: kern.halo(k) for k in (0, 1)} == want
            assert _measured_reach(shape, ndim=ndim, origin=origin, convolve=convolve) == want


# -- equality with the in-memory result -----------------------------------------------


@pytest.mark.parametrize("convolve", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_every_mode_origin_and_kernel_shape(mode, convolve):
    # 3 x 3 chunks of unequal sizes: the middle one has neighbours on every side.
    image = da.from_array(IMAGE, chunks=((20, 24, 20), (24, 32, 24)))
    cases = [(shape, origin) for shape in SHAPES for origin in _origins(shape)]
    lazy = []
    for shape, origin in cases:
        got = _filter(
            image, _kernel(shape), convolve=convolve, method="direct",
            mode=mode, cval=1.5, origin=origin,
        )  # fmt: skip
        assert isinstance(got, da.Array)
        assert got.chunks == image.chunks
        lazy.append(got)
    results = dask.compute(*lazy)  # one scheduler run for all cases: fast
    for (shape, origin), out in zip(cases, results, strict=True):
        k = _kernel(shape)
        kw = dict(mode=mode, cval=1.5, origin=origin)
        want = _filter(IMAGE, k, convolve=convolve, method="direct", **kw)
        # Each chunk computes the same sums as the whole image: bit-identical.
        np.testing.assert_array_equal(out, want, err_msg=f"{shape} origin={origin}")
        # ... and those are scipy.ndimage's numbers.
        np.testing.assert_allclose(
            out, _scipy(IMAGE, k, convolve=convolve, **kw), rtol=1e-12, atol=1e-12
        )


@pytest.mark.parametrize("method", ["direct", "separable", "fft", "auto"])
@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap", "mirror"])
def test_every_method(method, mode):
    # A rank-2 kernel: separable runs two terms in every chunk.
    k = np.outer([1.0, 2.0, 1.0, 0.5, 0.25], [1.0, 0.0, -1.0, 2.0, 3.0])
    k += np.outer([0.0, 1.0, -1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0, 2.0])
    image = da.from_array(IMAGE, chunks=(16, 24))
    kw = dict(mode=mode, cval=-0.5, origin=(1, -2), method=method)
    out = _filter(image, k, **kw).compute()
    want = _filter(IMAGE, k, **kw)
    if method in ("direct", "separable"):
        np.testing.assert_array_equal(out, want)
    else:  # FFT rounding depends on the transform length
        np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
    kw.pop("method")
    np.testing.assert_allclose(out, _scipy(IMAGE, k, **kw), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "chunks",
    [
        ((10, 30, 24), (7, 41, 32)),  # irregular
        ((1, 2, 3, 58), (5, 5, 70)),  # chunks smaller than the halo: merged
        (3, 4),  # every chunk smaller than the halo
        (64, 80),  # one chunk
        (64, 9),  # one chunk along the first axis only
    ],
    ids=["irregular", "tiny-first", "all-tiny", "one", "one-row-axis"],
)
def test_irregular_and_too_small_chunks(chunks):
    k = _kernel((9, 11), seed=3)
    image = da.from_array(IMAGE, chunks=chunks)
    lo = max(_halo(9, -4, False)) + 1, max(_halo(11, 3, False)) + 1
    lazy = []
    for mode in MODES:
        got = _filter(image, k, mode=mode, cval=2.0, origin=(-4, 3), method="direct")
        for axis_chunks, minimum, n in zip(got.chunks, lo, IMAGE.shape, strict=True):
            assert min(axis_chunks) >= minimum or axis_chunks == (n,)
        lazy.append(got)
    for mode, out in zip(MODES, dask.compute(*lazy), strict=True):
        want = _filter(IMAGE, k, mode=mode, cval=2.0, origin=(-4, 3), method="direct")
        np.testing.assert_array_equal(out, want, err_msg=mode)


@pytest.mark.parametrize("convolve", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_kernel_larger_than_image(mode, convolve):
    # 5 rows against a 9-row kernel: ndimage reflects/wraps several times.
    image_np = IMAGE[:5]
    k = _kernel((9, 13), seed=4)
    image = da.from_array(image_np, chunks=(2, 8))
    kw = dict(mode=mode, cval=0.25, origin=(2, -6))
    out = _filter(image, k, convolve=convolve, method="direct", **kw).compute()
    want = _filter(image_np, k, convolve=convolve, method="direct", **kw)
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint8, np.bool_])
@pytest.mark.parametrize("mode", ["constant", "reflect", "wrap"])
def test_dtype_policy(dtype, mode, threads):
    image_np = (RNG.standard_normal((40, 50)) * 50).astype(dtype)
    k = _kernel((5, 4), seed=5)
    kw = dict(mode=mode, cval=0.1, origin=(0, 1), method="separable")
    got = _filter(da.from_array(image_np, chunks=(12, 15)), k, **kw)
    want = _filter(image_np, k, **kw)
    expected_dtype = np.dtype(dtype)  # issue 13: ndimage's, the input's (was float64 for ints)
    assert got.dtype == expected_dtype and want.dtype == expected_dtype
    out = got.compute()
    assert out.dtype == expected_dtype
    np.testing.assert_array_equal(out, want)


def test_channels_and_batches_along_axes():
    rgb = RNG.standard_normal((30, 40, 3))
    k = _kernel((5, 3), seed=6)
    kw = dict(mode="mirror", origin=(1, 0), method="direct")
    got = _filter(da.from_array(rgb, chunks=(8, 11, 2)), k, axes=(0, 1), **kw)
    assert got.chunks == ((8, 8, 8, 6), (11, 11, 11, 7), (2, 1))
    want = _filter(rgb, k, axes=(0, 1), **kw)
    np.testing.assert_array_equal(got.compute(), want)
    for c in range(3):  # and each channel is a 2-D filter of that channel
        np.testing.assert_allclose(
            want[..., c], _scipy(rgb[..., c], k, mode="mirror", origin=(1, 0)), rtol=1e-12
        )

    batch = RNG.standard_normal((4, 20, 24)).astype(np.float32)
    got = _filter(da.from_array(batch, chunks=(1, 7, 10)), k, mode="wrap", method="direct",
                  axes=(-2, -1))
    want = _filter(batch, k, mode="wrap", method="direct", axes=(-2, -1))
    np.testing.assert_array_equal(got.compute(), want)
    # axes given in reverse order: as ndimage, the kernel's rows still run along axis 1
    got = _filter(
        da.from_array(batch, chunks=(2, 6, 9)), k, axes=(2, 1), mode="nearest", method="direct"
    )
    want = _filter(batch, k, axes=(2, 1), mode="nearest", method="direct")
    np.testing.assert_array_equal(got.compute(), want)


def test_lowrank_kernel_object_is_passed_to_every_chunk():
    from kernelfactor._lowrank import lowrank

    k = np.outer([1.0, 4.0, 6.0, 4.0, 1.0], [1.0, 2.0, 1.0]) + 0.01 * _kernel((5, 3), seed=7)
    approx = lowrank(k, 1)
    image = da.from_array(IMAGE, chunks=(16, 24))
    kw = dict(mode="reflect", origin=(0, 1), method="separable")
    out = _filter(image, approx, **kw).compute()
    np.testing.assert_array_equal(out, _filter(IMAGE, approx, **kw))
    # the rank-1 approximation, not the kernel
    np.testing.assert_allclose(
        out, _scipy(IMAGE, approx.to_array(), mode="reflect", origin=(0, 1)), rtol=1e-10
    )
    assert not np.allclose(out, _scipy(IMAGE, k, mode="reflect", origin=(0, 1)), rtol=1e-6)


# Hypothesis: random image shapes, chunkings, kernels, origins and modes.  40
# examples cover the 8 modes several times each (and shrink well) in ~2 s;
# the exhaustive sweeps above cover the rest.
@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    mode=st.sampled_from(MODES),
    convolve=st.booleans(),
    shape=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    image_shape=st.tuples(st.integers(1, 30), st.integers(1, 30)),
)
def test_property_equal_to_filter(data, mode, convolve, shape, image_shape):
    origin = tuple(data.draw(st.integers(-(s // 2), (s - 1) // 2)) for s in shape)
    chunks = tuple(data.draw(st.integers(min(2, n), n)) for n in image_shape)
    x = np.random.default_rng(sum(image_shape)).standard_normal(image_shape)
    k = _kernel(shape, seed=shape[0] * 10 + shape[1])
    kw = dict(mode=mode, cval=-1.25, origin=origin, method="direct")
    out = _filter(da.from_array(x, chunks=chunks), k, convolve=convolve, **kw).compute()
    np.testing.assert_array_equal(out, _filter(x, k, convolve=convolve, **kw))


# -- laziness -------------------------------------------------------------------------


def test_nothing_is_computed_before_compute(threads):
    reads = []
    lock = threading.Lock()

    def load(i, j):
        with lock:
            reads.append((i, j))
        return IMAGE[16 * i : 16 * (i + 1), 20 * j : 20 * (j + 1)]

    blocks = [
        [
            da.from_delayed(dask.delayed(load)(i, j), shape=(16, 20), dtype=IMAGE.dtype)
            for j in range(4)
        ]
        for i in range(4)
    ]
    image = da.block(blocks)
    got = _filter(image, _kernel((5, 5)), mode="nearest", method="direct")
    assert isinstance(got, da.Array)
    assert reads == []
    assert got.shape == IMAGE.shape and got.dtype == np.float64
    out = got.compute()
    assert sorted(set(reads)) == list(itertools.product(range(4), range(4)))
    np.testing.assert_array_equal(
        out, _filter(IMAGE, _kernel((5, 5)), mode="nearest", method="direct")
    )


# -- errors come at call time, not compute time ---------------------------------------


def test_numpy_arrays_stay_in_memory():
    assert isinstance(_filter(IMAGE, np.ones((3, 3))), np.ndarray)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mode": "reflekt"}, ValueError, r"`mode`.*'reflect'"),
        ({"origin": 2}, ValueError, r"`origin` must lie in \[-1, 1\]"),
        ({"origin": (0, 0, 0)}, ValueError, r"`origin` must be an integer or a pair"),
        ({"axes": (0, 0)}, ValueError, r"`axes`"),
        ({"axes": (0, 5)}, ValueError, r"`axes`"),
        ({"axes": 1}, ValueError, r"`axes` must be a pair"),
        ({"output": np.float64}, ValueError, r"`output` and `return_info`"),
        ({"return_info": True}, ValueError, r"`output` and `return_info`"),
        ({"method": "fastest"}, ValueError, r"`method`"),
        ({"cval": "x"}, TypeError, r"`cval`"),
    ],
)
def test_bad_arguments_raise_immediately(kwargs, error, match):
    image = da.from_array(IMAGE, chunks=(16, 24))
    with pytest.raises(error, match=match):
        _filter(image, np.ones((3, 4)), **kwargs)


def test_bad_kernel_and_image():
    image = da.from_array(IMAGE, chunks=(16, 24))
    with pytest.raises(ValueError, match=r"`weights` contains NaN"):
        _filter(image, np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match=r"at least 2 dimensions"):
        _filter(da.ones(10, chunks=5), np.ones((1, 3)))
    # issue 13: complex images are filtered (they used to be refused)
    z = (IMAGE * (1 + 2j))
    got = _filter(da.from_array(z, chunks=(16, 24)), np.ones((3, 3)) * 1j, method="direct")
    np.testing.assert_array_equal(got.compute(), _filter(z, np.ones((3, 3)) * 1j,
                                                            method="direct"))


def test_unknown_chunk_sizes():
    image = da.from_array(IMAGE, chunks=(16, 24))
    image = image[image[:, 0] > -10]  # rows kept is unknown until computed
    with pytest.raises(ValueError, match=r"compute_chunk_sizes"):
        _filter(image, np.ones((3, 3)))


# -- a real (if small) cluster --------------------------------------------------------


def test_on_a_local_cluster():
    distributed = pytest.importorskip("distributed")
    k = _kernel((7, 4), seed=8)
    image = da.from_array(IMAGE, chunks=(16, 24))
    kw = dict(mode="wrap", origin=(1, -2), method="separable")
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        got = _filter(image, k, **kw)
        out = client.compute(got).result()
        # the chunks really ran in the worker process
        ran = client.run(lambda: "kernelfactor._large" in __import__("sys").modules)
        assert list(ran.values()) == [True]
    np.testing.assert_array_equal(out, _filter(IMAGE, k, **kw))
