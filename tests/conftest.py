"""Shared test parameters: dtypes, boundary modes and the catalogue."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

from kernelfactor import MODES

# CI runs are reproducible: the same examples on every run (set CI=1 locally to replay them).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

#: Every boundary mode scipy.ndimage supports.
ALL_MODES = list(MODES)

#: Image dtypes the dtype policy distinguishes, with the dtype a filtered image gets.
IMAGE_DTYPES = [
    (np.float64, np.float64),
    (np.float32, np.float32),
    (np.float16, np.float32),
    (np.int16, np.int16),
    (np.uint8, np.uint8),
    (np.int64, np.int64),
    (np.bool_, np.bool_),
    (np.dtype(">f8"), np.float64),
    (np.complex64, np.complex64),
]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261129)
