"""Reading kernels and images from files, and writing results atomically.

Everything here refuses what cannot be done before allocating: sizes come
from ``.npy`` headers and file sizes first.  Writes go to a temporary file in
the same folder and are renamed into place (:func:`atomic_write`), so a full
disk or a failed encoder never leaves a partial file behind.  Errors are
:class:`InputFileError` (a ``ValueError``) with one clear sentence.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import math
import os
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import numpy as np

from ._typing import ArrayLike

__all__ = [
    "KERNEL_SUFFIXES",
    "MAX_IMAGE_BYTES",
    "MAX_KERNEL_ELEMENTS",
    "MAX_TEXT_BYTES",
    "InputFileError",
    "atomic_write",
    "check_kernel_size",
    "check_output_path",
    "is_kernel_file",
    "read_image",
    "read_kernel_file",
    "save_factors",
    "write_image",
]

#: Largest kernel accepted, in entries: the catalogue's 4097 x 4097.
MAX_KERNEL_ELEMENTS = 4097 * 4097
#: Largest .csv / .txt / .json kernel file read.
MAX_TEXT_BYTES = 32 * 2**20
#: Largest image read, in bytes of float64 working memory.
MAX_IMAGE_BYTES = 2**30

KERNEL_SUFFIXES = (".csv", ".json", ".npy", ".npz", ".txt")
_TIFF_SUFFIXES = (".tif", ".tiff")


class InputFileError(ValueError):
    """A file that cannot be read or written as asked (one clear sentence)."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only on success.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     target = Path(d) / "out.txt"
    ...     with atomic_write(target) as tmp:
    ...         _ = tmp.write_text("done")
    ...     print(target.read_text(), sorted(p.name for p in Path(d).iterdir()))
    done ['out.txt']
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _pil_format(path: Path) -> str | None:
    """Pillow's format name for `path`'s extension (the temporary file has the same)."""
    from PIL import Image  # lazy: heavy

    return Image.registered_extensions().get(path.suffix.lower())


def is_kernel_file(spec: str) -> bool:
    path = Path(spec)
    return (
        path.suffix.lower() in KERNEL_SUFFIXES
        or "/" in spec
        or os.sep in spec
        or path.is_file()
        or ("." in spec and ":" not in spec)  # catalogue names have no dots
    )


def _too_large(shape: tuple[int, ...], what: str) -> None:
    size = math.prod(shape)
    if size > MAX_KERNEL_ELEMENTS:
        raise InputFileError(
            f"{what} has shape {tuple(shape)} ({size:,} entries); kernels are limited to "
            f"{MAX_KERNEL_ELEMENTS:,} entries (4097 x 4097). Use a smaller kernel."
        )


def _npy_header(fp: IO[bytes], what: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from an .npy header, without reading the data."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(fp)
        else:
            shape, _, dtype = fmt.read_array_header_2_0(fp)
    except (ValueError, OSError, EOFError) as exc:
        raise InputFileError(f"{what} is not a valid .npy array ({_one_line(str(exc))})") from None
    return tuple(int(s) for s in shape), np.dtype(dtype)


def _check_header(shape: tuple[int, ...], dtype: np.dtype, what: str) -> None:
    if dtype.hasobject:
        raise InputFileError(
            f"{what} holds Python objects (dtype {dtype}), which are not loaded for safety; "
            "save a numeric array instead"
        )
    _too_large(shape, what)


def _load_npy(path: Path) -> np.ndarray:
    with path.open("rb") as fp:
        shape, dtype = _npy_header(fp, str(path))
    _check_header(shape, dtype, str(path))
    return np.asarray(np.load(path, allow_pickle=False))


def _choose_key(keys: Sequence[str], key: str | None, what: str) -> str:
    listed = ", ".join(repr(k) for k in sorted(keys)) or "none"
    if key is None:
        if len(keys) == 1:
            return keys[0]
        raise InputFileError(f"{what} holds several arrays ({listed}); choose one with --key")
    if key not in keys:
        close = difflib.get_close_matches(key, list(keys), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise InputFileError(f"--key {key!r} is not in {what}; it holds {listed}.{hint}")
    return key


def _open_npz(path: Path) -> np.lib.npyio.NpzFile:
    """np.load of a .npz, or one clear line when the file is empty or not a zip archive."""
    try:
        npz = np.load(path, allow_pickle=False)
    except (EOFError, zipfile.BadZipFile, ValueError, OSError) as exc:
        why = "it is empty" if path.stat().st_size == 0 else "it is not a zip archive"
        raise InputFileError(
            f"{path} is not a .npz file ({why}: {type(exc).__name__}); save kernels with "
            "np.savez(path, name=array), or pass a .npy, .csv or .json file"
        ) from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        npz_type = type(npz).__name__
        raise InputFileError(f"{path} is not a .npz archive (np.load gave {npz_type})")
    return npz


def _load_npz(path: Path, key: str | None) -> tuple[np.ndarray, str]:
    with _open_npz(path) as npz:
        keys = list(npz.files)
        if not keys:
            raise InputFileError(f"{path} is empty (no arrays)")
        name = _choose_key(keys, key, str(path))
        with npz.zip.open(f"{name}.npy") as fp:
            shape, dtype = _npy_header(fp, f"{path}[{name!r}]")
        _check_header(shape, dtype, f"{path}[{name!r}]")
        return np.asarray(npz[name]), name


def _read_text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise InputFileError(
            f"{path} is {size:,} bytes; text kernel files are limited to {MAX_TEXT_BYTES:,} "
            "bytes. Save large kernels as .npy."
        )
    try:
        return path.read_text(encoding="utf-8-sig")  # a byte-order mark is not data
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path} is not a UTF-8 text file ({exc.reason})") from None


def _load_text(path: Path) -> np.ndarray:
    text = _read_text(path)
    lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise InputFileError(f"{path} is empty: no numbers found")
    delimiter = "," if any("," in ln for ln in lines) else None
    counts = [len(ln.split(delimiter)) for ln in lines]
    for i, c in enumerate(counts):
        if c != counts[0]:
            raise InputFileError(
                f"{path}: row {i + 1} has {c} values but row 1 has {counts[0]}; "
                "every row of a kernel needs the same number of values"
            )
    try:
        arr = np.loadtxt(io.StringIO("\n".join(lines)), delimiter=delimiter, ndmin=2,
                         dtype=np.float64)
    except ValueError as exc:
        raise InputFileError(f"{path}: {_one_line(str(exc))} (expected numbers only)") from None
    # integers as written (exact beyond 2**53, for --exact); other numbers as floats
    given = np.empty(arr.shape, dtype=object)
    given[:, :] = [[_text_number(v) for v in ln.split(delimiter)] for ln in lines]
    return given


def _text_number(token: str) -> int | float:
    token = token.strip()
    try:
        return int(token)
    except ValueError:
        return float(token)


def _load_json(path: Path, key: str | None) -> tuple[np.ndarray, str | None]:
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path} is not valid JSON ({exc})") from None
    except RecursionError:
        raise InputFileError(
            f"{path} is nested too deeply; a kernel is a list of rows such as [[1, 2], [3, 4]]"
        ) from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise InputFileError(f"{path}: {_one_line(str(exc))[:200]}") from None
    used = None
    if isinstance(data, dict):
        used = _choose_key(list(data), key, str(path))
        data = data[used]
    elif key is not None:
        raise InputFileError(f"--key {key!r} given but {path} holds a list, not an object")
    if not isinstance(data, list) or not data:
        raise InputFileError(
            f"{path} must hold a non-empty list of rows such as [[1, 2, 1], [2, 4, 2]]; "
            f"got {type(data).__name__}"
        )
    if not all(isinstance(row, list) for row in data):
        raise InputFileError(f"{path} must hold a list of rows (lists of numbers), a 2-D kernel")
    for i, row in enumerate(data):
        if len(row) != len(data[0]):
            raise InputFileError(
                f"{path}: row {i + 1} has {len(row)} values but row 1 has {len(data[0])}; "
                "every row of a kernel needs the same number of values"
            )
        for j, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise InputFileError(
                    f"{path}: entry [{i}][{j}] is {json.dumps(v)}, not a number"
                )
    given = np.empty((len(data), len(data[0])), dtype=object)
    given[:, :] = data  # Python ints stay exact (beyond 2**53)
    return given, used


def read_kernel_file(spec: str, key: str | None = None) -> tuple[np.ndarray, str | None]:
    """A kernel as written in a file: ``(array, key used)``.

    ``.npy``/``.npz`` arrays are checked from their headers (size, no Python
    objects) before any data is read; integers in ``.csv``/``.txt``/``.json``
    stay exact Python ints (an object array), other numbers are floats.
    """
    path = Path(spec)
    if not path.exists():
        raise InputFileError(f"kernel file {spec!r} does not exist")
    if not path.is_file():
        raise InputFileError(f"kernel file {spec!r} is not a regular file")
    suffix = path.suffix.lower()
    used = None
    if suffix == ".npy":
        arr = _load_npy(path)
    elif suffix == ".npz":
        arr, used = _load_npz(path, key)
    elif suffix in (".csv", ".txt"):
        arr = _load_text(path)
    elif suffix == ".json":
        arr, used = _load_json(path, key)
    else:
        raise InputFileError(
            f"kernel file {spec!r} has an unsupported extension {suffix!r}; use one of "
            + ", ".join(KERNEL_SUFFIXES)
        )
    if arr.size == 0:
        raise InputFileError(f"{spec} holds an empty array (shape {arr.shape})")
    return arr, used


def check_kernel_size(shape: tuple[int, ...], what: str) -> None:
    """Refuse a kernel of more than :data:`MAX_KERNEL_ELEMENTS` entries."""
    _too_large(shape, what)


_EIGHT_BIT = ("L", "LA", "RGB", "RGBA")
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N")
_IMAGE_MODES = (*_EIGHT_BIT, *_SIXTEEN_BIT, "1", "F", "I", "P", "PA")


def _check_image_size(shape: tuple[int, ...], what: str) -> None:
    need = math.prod(shape) * 8
    if need > MAX_IMAGE_BYTES:
        dims = "x".join(str(s) for s in shape)
        raise InputFileError(
            f"{what} is {dims}: filtering it needs {need / 2**30:.1f} GiB of float64 working "
            f"memory, over the {MAX_IMAGE_BYTES / 2**30:.0f} GiB limit; crop or downsample it "
            "first (or filter it chunk by chunk with kernelfactor and dask)"
        )


def read_image(path: str) -> np.ndarray:
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"input image {path!r} does not exist")
    if p.suffix.lower() == ".npy":
        with p.open("rb") as fp:
            shape, dtype = _npy_header(fp, path)
        if dtype.hasobject:
            raise InputFileError(f"{path} holds Python objects; save a numeric array")
        _check_image_size(shape, path)
        arr = np.load(p, allow_pickle=False)
        if arr.ndim not in (2, 3):
            raise InputFileError(f"{path} has shape {arr.shape}; images are (H, W) or (H, W, C)")
        return arr

    from PIL import Image, UnidentifiedImageError  # lazy: heavy

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(p)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise InputFileError(
                f"{path} is too large to decode safely (Pillow's decompression-bomb limit)"
            ) from None
        except UnidentifiedImageError:
            raise InputFileError(f"{path} is not an image Pillow can read") from None
    with img:
        if img.mode not in _IMAGE_MODES:
            raise InputFileError(
                f"{path} has image mode {img.mode!r}, which is not supported; convert it to "
                "8-bit or 16-bit grayscale, RGB(A) or 32-bit float first"
            )
        bands = len(img.getbands())
        if img.mode == "P":
            bands = 4 if "transparency" in img.info else 3
        w, h = img.size
        _check_image_size((h, w, bands) if bands > 1 else (h, w), path)
        try:
            if img.mode == "1":
                arr = np.asarray(img.convert("L"))
            elif img.mode in ("P", "PA"):
                arr = np.asarray(img.convert("RGBA" if bands == 4 or img.mode == "PA" else "RGB"))
            else:
                arr = np.asarray(img)
        except (OSError, SyntaxError, ValueError) as exc:
            raise InputFileError(f"{path} could not be decoded ({_one_line(str(exc))})") from None
    if arr.dtype.byteorder not in ("=", "|"):
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.size == 0:
        raise InputFileError(f"{path} is an empty image")
    return arr


def check_output_path(path: str, image: np.ndarray, as_float: bool) -> None:
    """Refuse an output the policy cannot write, before any filtering is done."""
    p = Path(path)
    suffix = p.suffix.lower()
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputFileError(f"the folder of the output image {path!r} does not exist")
    if suffix == ".npy":
        return
    from PIL import Image  # lazy: heavy

    if suffix not in Image.registered_extensions():
        raise InputFileError(
            f"output {path!r} has no image extension Pillow can write; use .png, .tif "
            "or .npy"
        )
    if as_float or image.dtype.kind == "f":
        if suffix not in _TIFF_SUFFIXES:
            raise InputFileError(f"float output needs a .tif/.tiff file (or .npy); got {path!r}")
        if image.ndim != 2:
            raise InputFileError(
                "float TIFF output supports grayscale images only; write a .npy file to keep "
                "the float result of a colour image"
            )
    elif image.dtype.kind not in "ui":
        raise InputFileError(f"images of dtype {image.dtype} cannot be written as {suffix}")
    elif image.ndim == 3 and image.shape[2] not in (2, 3, 4):
        raise InputFileError(
            f"an image with {image.shape[2]} channels cannot be written as {suffix}; use .npy"
        )


def write_image(path: str, result: np.ndarray, source_dtype: np.dtype,
                 as_float: bool) -> tuple[str, int]:
    """Write `result` by the output policy; returns (description, clipped count)."""
    p = Path(path)
    if p.suffix.lower() == ".npy":
        with atomic_write(p) as tmp:
            np.save(tmp, result)
        return f"float64 array {result.shape}", 0
    from PIL import Image  # lazy: heavy

    if as_float or source_dtype.kind == "f":
        with atomic_write(p) as tmp:
            Image.fromarray(result.astype(np.float32)).save(tmp, format=_pil_format(p))
        return "32-bit float", 0
    info = np.iinfo(source_dtype)
    rounded = np.rint(result)
    clipped = int(np.count_nonzero((rounded < info.min) | (rounded > info.max)))
    out = np.clip(rounded, info.min, info.max).astype(source_dtype)
    with atomic_write(p) as tmp:
        Image.fromarray(out).save(tmp, format=_pil_format(p))
    return f"{info.bits}-bit", clipped


def save_factors(
    path: str,
    *,
    columns: ArrayLike,
    rows: ArrayLike,
    singular_values: np.ndarray,
    tol: float,
    rank: int,
    kernel: np.ndarray,
) -> str:
    """Write factors to ``path`` (``.npz`` added if missing), atomically; returns the name.

    ``columns`` (k, m) and ``rows`` (k, n) rebuild the kernel as ``columns.T @ rows``.
    """
    m, n = kernel.shape[-2:]
    target = Path(path if path.endswith(".npz") else path + ".npz")
    with atomic_write(target) as tmp, open(tmp, "wb") as fp:
        np.savez(
            fp,
            columns=np.asarray(columns, dtype=np.float64).reshape(rank, m),
            rows=np.asarray(rows, dtype=np.float64).reshape(rank, n),
            singular_values=singular_values,
            tol=np.float64(tol),
            rank=np.int64(rank),
            kernel=kernel,
        )
    return str(target)
