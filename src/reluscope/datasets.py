"""Small image-classification data sets for examples, training and the reproductions.

Nothing is downloaded: :func:`load_digits` uses scikit-learn's bundled 8x8 digits,
and :func:`load_mnist` reads MNIST-style files the user points at — a folder with
the four IDX files (``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
``t10k-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte[.gz]``; LeCun et al.'s
format, also used by Fashion-MNIST) or one ``.npz`` with ``x_train``, ``y_train``,
``x_test``, ``y_test``. Pixels come back as floats in ``[0, 1]`` (the input box of
Serra et al. 2020 is ``[0, 1]^784``), labels as int64.

:func:`default_data_path` finds the project's shared copy (``../shared/data/<name>``
next to the repository) when it exists.
"""

from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import InvalidParameterError, ModelFileError
from ._validation import check_random_state

__all__ = ["Dataset", "read_idx", "load_mnist", "load_digits", "load_dataset", "default_data_path"]

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class Dataset:
    """A train/test split of flattened images.

    Attributes
    ----------
    name : str
    x_train : ndarray of shape (n_train, n_features), floats in [0, 1]
    y_train : ndarray of int64, shape (n_train,)
    x_test : ndarray of shape (n_test, n_features)
    y_test : ndarray of int64, shape (n_test,)
    image_shape : tuple of int
        Shape of one image before flattening, e.g. ``(28, 28)``.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, ...]

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(initial=0), self.y_test.max(initial=0)) + 1)

    def subset(self, n_train: int | None = None, n_test: int | None = None, seed: Any = 0) -> Dataset:
        """A random subset (for quick runs), reproducible from ``seed``.

        Examples
        --------
        >>> d = load_digits().subset(100, 50)
        >>> d.x_train.shape, d.x_test.shape
        ((100, 64), (50, 64))
        """
        rng = check_random_state(seed)

        def pick(n: int | None, total: int) -> np.ndarray:
            if n is None or n >= total:
                return np.arange(total)
            return np.sort(rng.choice(total, size=n, replace=False))

        i = pick(n_train, self.x_train.shape[0])
        j = pick(n_test, self.x_test.shape[0])
        return Dataset(self.name, self.x_train[i], self.y_train[i], self.x_test[j], self.y_test[j],
                       self.image_shape)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, train={self.x_train.shape[0]}, test={self.x_test.shape[0]}, "
                f"features={self.n_features}, classes={self.n_classes})")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed) into an array of the stored shape and type.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    ndarray, native byte order

    Raises
    ------
    ModelFileError
        Missing file, bad magic number, unknown type code, truncated or corrupt data.

    Examples
    --------
    >>> import tempfile, pathlib, struct
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.idx"
    >>> _ = p.write_bytes(bytes([0, 0, 0x08, 2]) + struct.pack(">II", 2, 3) + bytes(range(6)))
    >>> read_idx(p)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"No such IDX file: {os.fspath(path)!r}.")
    try:
        raw = gzip.decompress(path.read_bytes()) if _is_gzip(path) else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise ModelFileError(f"IDX file {os.fspath(path)!r} is not readable gzip data: {exc}.") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ModelFileError(
            f"{os.fspath(path)!r} is not an IDX file: it must start with two zero bytes "
            f"(magic number); got {raw[:4]!r}."
        )
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ModelFileError(f"IDX file {os.fspath(path)!r} has unknown type code 0x{code:02x}.")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ModelFileError(f"IDX file {os.fspath(path)!r} is truncated inside its header.")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    need = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != need:
        raise ModelFileError(
            f"IDX file {os.fspath(path)!r} declares shape {dims} ({need} data bytes) but holds "
            f"{len(raw) - header} data bytes: the file is truncated or corrupt."
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _scale(x: np.ndarray, what: str, dtype: Any) -> np.ndarray:
    if np.issubdtype(x.dtype, np.integer):
        if x.size and (x.min() < 0 or x.max() > 255):
            raise ModelFileError(f"{what}: integer pixels must lie in [0, 255]; got [{x.min()}, {x.max()}].")
        return (x.astype(dtype) / 255.0).astype(dtype)
    x = x.astype(dtype)
    if x.size and (not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1):
        raise ModelFileError(f"{what}: float pixels must be finite and lie in [0, 1].")
    return x


def _labels(y: np.ndarray, n: int, what: str) -> np.ndarray:
    y = np.asarray(y).reshape(-1)
    if y.shape[0] != n:
        raise ModelFileError(f"{what}: {y.shape[0]} labels for {n} images.")
    if not np.issubdtype(y.dtype, np.integer) or (y.size and y.min() < 0):
        raise ModelFileError(f"{what}: labels must be non-negative integers.")
    return y.astype(np.int64)


def _find(folder: Path, stem: str) -> Path:
    for cand in (folder / f"{stem}.gz", folder / stem):
        if cand.is_file():
            return cand
    alt = stem.replace("-idx", ".idx")  # some mirrors use "train-images.idx3-ubyte"
    for cand in (folder / f"{alt}.gz", folder / alt):
        if cand.is_file():
            return cand
    raise ModelFileError(f"Folder {os.fspath(folder)!r} has no {stem}[.gz]; expected the four MNIST IDX files.")


def load_mnist(path: str | os.PathLike | None = None, *, name: str | None = None,
               dtype: Any = np.float64) -> Dataset:
    """MNIST-style data from a folder of IDX(.gz) files or an ``.npz`` file.

    Parameters
    ----------
    path : path-like, optional
        A folder with the four IDX files, or an ``.npz`` with ``x_train``, ``y_train``,
        ``x_test``, ``y_test``. Default: :func:`default_data_path` ``("mnist")``.
    name : str, optional
        Name of the data set (default: the folder or file name).
    dtype : numpy dtype, default float64
        Type of the pixel arrays (float32 halves the memory of MNIST).

    Returns
    -------
    Dataset
        Images flattened to ``(n, 784)``, pixels divided by 255.

    Raises
    ------
    ModelFileError
        If the path or a file is missing, corrupt or inconsistent.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "tiny.npz"
    >>> np.savez(p, x_train=np.zeros((3, 2, 2), np.uint8), y_train=[0, 1, 2],
    ...          x_test=np.full((1, 2, 2), 255, np.uint8), y_test=[1])
    >>> d = load_mnist(p)
    >>> d.x_train.shape, float(d.x_test.max()), d.image_shape
    ((3, 4), 1.0, (2, 2))
    """
    if path is None:
        path = default_data_path("mnist")
        if path is None:
            raise ModelFileError(
                "No 'path' given and no shared MNIST copy was found (../shared/data/mnist next to "
                "the repository); pass the folder of the IDX files or an .npz file."
            )
    path = Path(path)
    if path.is_dir():
        arrays = {k: read_idx(_find(path, stem)) for k, stem in _MNIST_FILES.items()}
    elif path.is_file() and path.suffix.lower() == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                missing = [k for k in _MNIST_FILES if k not in z.files]
                if missing:
                    raise ModelFileError(
                        f"{os.fspath(path)!r} lacks array(s) {missing}; expected x_train, y_train, x_test, y_test."
                    )
                arrays = {k: z[k] for k in _MNIST_FILES}
        except (OSError, ValueError, EOFError, zlib.error) as exc:
            raise ModelFileError(f"{os.fspath(path)!r} is not a readable .npz file: {exc}.") from exc
    else:
        raise ModelFileError(
            f"'path' must be a folder of MNIST IDX files or an .npz file; got {os.fspath(path)!r}."
        )
    what = os.fspath(path)
    xs = {}
    for k in ("x_train", "x_test"):
        x = np.asarray(arrays[k])
        if x.ndim < 2:
            raise ModelFileError(f"{what}: {k} must hold images (at least 2-D); got shape {x.shape}.")
        xs[k] = x
    if xs["x_train"].shape[1:] != xs["x_test"].shape[1:]:
        raise ModelFileError(f"{what}: train and test images differ in shape.")
    shape = tuple(int(s) for s in xs["x_train"].shape[1:])
    out = {k: _scale(x.reshape(x.shape[0], -1), f"{what} {k}", dtype) for k, x in xs.items()}
    return Dataset(
        name or path.stem,
        out["x_train"], _labels(arrays["y_train"], out["x_train"].shape[0], f"{what} y_train"),
        out["x_test"], _labels(arrays["y_test"], out["x_test"].shape[0], f"{what} y_test"),
        shape,
    )


def load_digits(test_size: float = 0.25, seed: Any = 0, dtype: Any = np.float64) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1,797 images), pixels ``/ 16``, stratified split.

    Needs scikit-learn (the ``sklearn`` extra).

    Examples
    --------
    >>> d = load_digits()
    >>> d.x_train.shape, d.x_test.shape, float(d.x_train.max())
    ((1347, 64), (450, 64), 1.0)
    """
    if not 0 < test_size < 1:
        raise InvalidParameterError(f"'test_size' must be in (0, 1); got {test_size!r}.")
    try:
        from sklearn.datasets import load_digits as _sk_digits
        from sklearn.model_selection import train_test_split
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("load_digits needs scikit-learn: pip install 'reluscope[sklearn]'.") from exc
    x, y = _sk_digits(return_X_y=True)
    x = (x / 16.0).astype(dtype)
    rs = seed if isinstance(seed, (int, np.integer)) or seed is None else int(check_random_state(seed).integers(2**31))
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_size, random_state=rs, stratify=y)
    return Dataset("digits", xtr, ytr.astype(np.int64), xte, yte.astype(np.int64), (8, 8))


def default_data_path(name: str = "mnist") -> Path | None:
    """The shared copy ``../shared/data/<name>`` next to the repository, if it exists.

    ``$RELUSCOPE_DATA/<name>`` is tried first when that variable is set.

    Examples
    --------
    >>> p = default_data_path("mnist")
    >>> p is None or p.is_dir()
    True
    """
    candidates = []
    env = os.environ.get("RELUSCOPE_DATA")
    if env:
        candidates.append(Path(env) / name)
    repo = Path(__file__).resolve().parents[2]
    candidates.append(repo.parent / "shared" / "data" / name)
    for c in candidates:
        if c.exists():
            return c
    return None


def load_dataset(name: str = "digits", path: str | os.PathLike | None = None, **kwargs: Any) -> Dataset:
    """Load by name: ``"digits"``, ``"mnist"`` or ``"fashion-mnist"`` (from ``path`` or the shared copy).

    Examples
    --------
    >>> load_dataset("digits").name
    'digits'
    """
    if name == "digits":
        return load_digits(**kwargs)
    if name in ("mnist", "fashion-mnist"):
        p = path if path is not None else default_data_path(name)
        if p is None:
            raise ModelFileError(
                f"No {name} data found: pass 'path' (a folder of IDX files or an .npz), or place the "
                f"files in ../shared/data/{name} next to the repository."
            )
        return load_mnist(p, name=name, **kwargs)
    raise InvalidParameterError(f"'name' must be 'digits', 'mnist' or 'fashion-mnist'; got {name!r}.")
