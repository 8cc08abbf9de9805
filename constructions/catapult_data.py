"""Data sets of the catapult experiments: the toy point, random low-dimensional data and two-class
image subsets.

MNIST, Fashion-MNIST and CIFAR-10 are read from the standard files when a user has them
(:func:`load_mnist`, :func:`load_cifar10`; nothing is downloaded); the scikit-learn digits
(8 × 8 images, shipped with scikit-learn) stand in for them in tests and the quick profile
(:func:`load_digits`).  :func:`two_class_subset` turns any of them into the 128-image two-class
problems of Meltzer and Liu (labels ∓1, flattened, normalised).

References
----------
D. Meltzer, J. Liu, "Catapult Dynamics and Phase Transitions in Quadratic Nets",
arXiv:2301.07737 (MNIST/FMNIST/CIFAR-10 classes 0/1, first 128 training images, labels ∓1).
Y. LeCun, C. Cortes, C. J. C. Burges, the MNIST database (the IDX file format).
A. Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009 (CIFAR-10 and its
python batches).
``shared/theory/catapult.md`` §10 (experiment table) and §13 (reference outcomes).
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .validation import check_int, check_positive, check_real, check_seed

__all__ = [
    "NORMALIZATIONS",
    "TwoClassData",
    "image_two_class",
    "load_cifar10",
    "load_digits",
    "load_mnist",
    "random_low_dim",
    "read_idx",
    "toy_point",
    "two_class_subset",
]

NORMALIZATIONS = ("unit_interval", "unit_norm", "none")
SOURCES = ("digits", "mnist", "fashion_mnist", "cifar10")


def toy_point(x: float = 1.0, y: float = 0.0, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """The single toy sample of the uv and one-point experiments: x (1, 1), y (1, 1).

    Examples
    --------
    >>> toy_point(4.0, 2.0)
    (tensor([[4.]], dtype=torch.float64), tensor([[2.]], dtype=torch.float64))
    """
    return torch.tensor([[check_real("x", x)]], dtype=dtype), torch.tensor([[check_real("y", y)]], dtype=dtype)


def random_low_dim(n: int, d: int, seed: int, *, low: float = -0.5, high: float = 0.5, targets: str = "gaussian",
                   dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """n points uniform on [low, high]^d with targets N(0, 1) ("gaussian") or 0 ("zero").

    Draws x then y from ``torch.Generator().manual_seed(seed)`` (`seed` an integer in
    [0, 2^63 - 1]; `n` and `d` integers >= 1, NumPy integers included).  Figures 4 and 9 of the
    experiment table use n = 32, [−½, ½], Gaussian targets.

    Examples
    --------
    >>> x, y = random_low_dim(32, 2, seed=0)
    >>> x.shape, y.shape, bool((x.abs() <= 0.5).all())
    (torch.Size([32, 2]), torch.Size([32, 1]), True)
    """
    n, d = check_int("n", n, 1), check_int("d", d, 1)
    low, high = check_real("low", low), check_real("high", high)
    if not low < high:
        raise ValueError(f"low = {low!r}, high = {high!r} are not allowed: need low < high")
    if targets not in ("gaussian", "zero"):
        raise ValueError(f"targets = {targets!r} is not allowed: use 'gaussian' or 'zero'")
    g = torch.Generator().manual_seed(check_seed(seed))
    x = low + (high - low) * torch.rand(n, d, generator=g, dtype=torch.float64)
    y = torch.randn(n, 1, generator=g, dtype=torch.float64) if targets == "gaussian" else torch.zeros(n, 1)
    return x.to(dtype), y.to(dtype)


@dataclass(frozen=True)
class TwoClassData:
    """A two-class problem: flattened inputs and labels −1 (first class) / +1 (second class).

    Attributes
    ----------
    x_train : Tensor (n, d); y_train : Tensor (n, 1)
    x_test : Tensor (n_test, d); y_test : Tensor (n_test, 1)
    classes : (int, int)
    source : str
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: tuple[int, int]
    source: str

    @property
    def input_dim(self) -> int:
        return self.x_train.shape[1]


def _normalize(images: np.ndarray, normalize: str, max_value: float) -> np.ndarray:
    flat = images.reshape(images.shape[0], -1).astype(np.float64)
    if normalize == "unit_interval":
        return flat / max_value
    if normalize == "unit_norm":
        norms = np.linalg.norm(flat, axis=1, keepdims=True)
        return flat / np.where(norms > 0, norms, 1.0)
    return flat


def two_class_subset(images, labels, classes: tuple[int, int] = (0, 1), n_train: int = 128, *,
                     test_images=None, test_labels=None, normalize: str = "unit_interval",
                     max_value: float | None = None, source: str = "arrays",
                     dtype: torch.dtype = torch.float64) -> TwoClassData:
    """The first `n_train` images of two classes (in file order), labels ∓1, flattened and normalised.

    Parameters
    ----------
    images : array_like (N, ...)
    labels : array_like (N,)
    classes : (int, int)
        The first class gets label −1, the second +1.
    n_train : int
    test_images, test_labels : optional
        The test split; without it the test set is the remaining images of the two classes.
    normalize : {"unit_interval", "unit_norm", "none"}
        Divide by `max_value` (default: the largest pixel value of `images`), scale each image to
        unit Euclidean norm, or leave as is.
    max_value : float, optional
    source : str
        A name for the data, kept in the result.

    Examples
    --------
    >>> imgs = np.arange(24, dtype=np.uint8).reshape(6, 2, 2)
    >>> data = two_class_subset(imgs, [0, 1, 2, 1, 0, 1], classes=(0, 1), n_train=3)
    >>> data.y_train.flatten().tolist(), data.x_test.shape
    ([-1.0, 1.0, 1.0], torch.Size([2, 4]))
    """
    images, labels = np.asarray(images), np.asarray(labels).reshape(-1)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"images has {images.shape[0]} rows and labels {labels.shape[0]}: they must match")
    if len(classes) != 2 or classes[0] == classes[1]:
        raise ValueError(f"classes = {classes!r} is not allowed: give two different labels")
    missing = [c for c in classes if not np.any(labels == c)]
    if missing:
        raise ValueError(f"classes = {classes!r} is not allowed: no image has label {missing[0]!r} (labels present: "
                         f"{sorted(np.unique(labels).tolist())})")
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"normalize = {normalize!r} is not allowed: use one of {NORMALIZATIONS}")
    n_train = check_int("n_train", n_train, 1)
    chosen = np.flatnonzero(np.isin(labels, classes))
    if chosen.size < n_train:
        raise ValueError(f"n_train = {n_train} is out of range: the data have only {chosen.size} images of "
                         f"classes {tuple(classes)}")
    scale = check_positive("max_value", max_value) if max_value is not None else float(max(np.max(images), 1))
    train, rest = chosen[:n_train], chosen[n_train:]
    if test_images is not None:
        test_images, test_labels = np.asarray(test_images), np.asarray(test_labels).reshape(-1)
        rest_images = test_images[np.isin(test_labels, classes)]
        rest_labels = test_labels[np.isin(test_labels, classes)]
    else:
        rest_images, rest_labels = images[rest], labels[rest]

    def tensors(imgs, labs):
        x = torch.as_tensor(_normalize(imgs, normalize, scale), dtype=dtype)
        y = torch.as_tensor(np.where(labs == classes[0], -1.0, 1.0), dtype=dtype).reshape(-1, 1)
        return x, y

    x_train, y_train = tensors(images[train], labels[train])
    x_test, y_test = tensors(rest_images, rest_labels)
    return TwoClassData(x_train, y_train, x_test, y_test, (int(classes[0]), int(classes[1])), source)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The scikit-learn digits: images (1797, 8, 8) with values 0..16 and labels (1797,).

    Examples
    --------
    >>> images, labels = load_digits()
    >>> images.shape, int(images.max())
    ((1797, 8, 8), 16)
    """
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    return bunch.images.astype(np.uint8), bunch.target.astype(np.int64)


# -- MNIST / Fashion-MNIST -----------------------------------------------------------------------------

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed or not.

    The header is two zero bytes, a type code (0x08 unsigned byte, ...), the number of
    dimensions and one big-endian int32 per dimension.

    Examples
    --------
    >>> import tempfile
    >>> body = struct.pack(">BBBBi", 0, 0, 8, 1, 3) + bytes([7, 8, 9])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = Path(tmp) / "labels-idx1-ubyte"
    ...     _ = p.write_bytes(body)
    ...     read_idx(p).tolist()
    [7, 8, 9]
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"path = {str(path)!r} is not an IDX file: its header {raw[:4]!r} is not "
                         "0x00 0x00 <type> <ndim>")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}i", raw[4:4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    count = int(np.prod(dims)) if dims else 1
    body = raw[4 + 4 * ndim:]
    if len(body) != count * dtype.itemsize:
        raise ValueError(f"path = {str(path)!r} is truncated or padded: its header says {dims} items of "
                         f"{dtype.itemsize} bytes, the file has {len(body)} bytes of data")
    return np.frombuffer(body, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


_MNIST_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def _find(path: Path, names: tuple[str, ...], subdirs: tuple[str, ...]) -> list[Path] | None:
    for folder in (path, *(path / s for s in subdirs)):
        found = []
        for name in names:
            hits = [folder / (name + ext) for ext in ("", ".gz") if (folder / (name + ext)).is_file()]
            if not hits:
                break
            found.append(hits[0])
        if len(found) == len(names):
            return found
    return None


def load_mnist(path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Read MNIST (or Fashion-MNIST, same files) from the standard IDX files in `path`.

    Looks for ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (``t10k-...`` for the
    test split), optionally ``.gz``, in `path`, `path`/raw, `path`/MNIST/raw or
    `path`/FashionMNIST/raw (torchvision's layouts).  Nothing is downloaded.

    Returns
    -------
    images : uint8 array (N, 28, 28); labels : int64 array (N,)

    Raises
    ------
    ValueError
        Naming the path when the files are not there or are not IDX files of matching length.
    """
    if split not in _MNIST_FILES:
        raise ValueError(f"split = {split!r} is not allowed: use 'train' or 'test'")
    root = Path(path)
    files = _find(root, _MNIST_FILES[split], ("raw", "MNIST/raw", "FashionMNIST/raw"))
    if files is None:
        raise ValueError(f"path = {str(root)!r} has no MNIST {split} files: expected "
                         f"{' and '.join(_MNIST_FILES[split])} (optionally .gz) there or in raw/; "
                         "relunet does not download data")
    images, labels = read_idx(files[0]), read_idx(files[1])
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"path = {str(root)!r}: images {images.shape} and labels {labels.shape} do not match "
                         "(expected (N, rows, cols) and (N,))")
    return images.astype(np.uint8), labels.astype(np.int64)


# -- CIFAR-10 ------------------------------------------------------------------------------------------

_ALLOWED_GLOBALS = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                    ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}  # bytes in protocol-2 pickles


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that builds only dicts, lists, strings, numbers and numpy arrays (no code)."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR batch")


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        batch = _ArrayUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise ValueError(f"path = {str(path)!r} is not a CIFAR-10 python batch: {exc}") from None
    if not isinstance(batch, dict):
        raise ValueError(f"path = {str(path)!r} is not a CIFAR-10 python batch: it holds a {type(batch).__name__}")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"path = {str(path)!r} is not a CIFAR-10 python batch: no 'data' and 'labels' entries")
    data, labels = np.asarray(data, dtype=np.uint8), np.asarray(labels, dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or data.shape[0] != labels.shape[0]:
        raise ValueError(f"path = {str(path)!r}: data {data.shape} and labels {labels.shape} do not match "
                         "(expected (N, 3072) and (N,))")
    return data, labels


def load_cifar10(path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Read CIFAR-10 from its python batches in `path` (or `path`/cifar-10-batches-py).

    The training split is ``data_batch_1`` ... ``data_batch_5`` in order, the test split
    ``test_batch``.  The pickles are read by a restricted unpickler that builds only plain
    containers and numpy arrays.  Nothing is downloaded.

    Returns
    -------
    images : uint8 array (N, 32, 32, 3); labels : int64 array (N,)

    Raises
    ------
    ValueError
        Naming the path when a batch is missing or malformed.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split = {split!r} is not allowed: use 'train' or 'test'")
    names = tuple(f"data_batch_{i}" for i in range(1, 6)) if split == "train" else ("test_batch",)
    root = Path(path)
    folder = next((f for f in (root, root / "cifar-10-batches-py") if all((f / n).is_file() for n in names)), None)
    if folder is None:
        raise ValueError(f"path = {str(root)!r} has no CIFAR-10 {split} batches: expected {', '.join(names)} there "
                         "or in cifar-10-batches-py/; relunet does not download data")
    parts = [_read_batch(folder / n) for n in names]
    data = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def image_two_class(source: str = "digits", path=None, classes: tuple[int, int] = (0, 1), n_train: int = 128,
                    normalize: str = "unit_interval", dtype: torch.dtype = torch.float64) -> TwoClassData:
    """The 128-image two-class problems of the experiment table.

    Parameters
    ----------
    source : {"digits", "mnist", "fashion_mnist", "cifar10"}
        "digits" needs no files (scikit-learn's 8 × 8 digits, values 0..16; the test set is the
        rest of the two classes); the others read `path` (:func:`load_mnist`,
        :func:`load_cifar10`) and test on the test split's images of the two classes.
    path : str or Path, optional
    classes, n_train, normalize
        As in :func:`two_class_subset` ("unit_interval" divides by 16 for digits, 255 otherwise).

    Examples
    --------
    >>> data = image_two_class("digits")
    >>> data.x_train.shape, sorted(set(data.y_train.flatten().tolist())), float(data.x_train.max())
    (torch.Size([128, 64]), [-1.0, 1.0], 1.0)
    """
    if source not in SOURCES:
        raise ValueError(f"source = {source!r} is not allowed: use one of {SOURCES}")
    if source == "digits":
        images, labels = load_digits()
        return two_class_subset(images, labels, classes, n_train, normalize=normalize, max_value=16.0,
                                source="sklearn digits", dtype=dtype)
    if path is None:
        raise ValueError(f"path = None is not allowed for source = {source!r}: give the folder with its files")
    loader = load_cifar10 if source == "cifar10" else load_mnist
    images, labels = loader(path, "train")
    test_images, test_labels = loader(path, "test")
    return two_class_subset(images, labels, classes, n_train, test_images=test_images, test_labels=test_labels,
                            normalize=normalize, max_value=255.0, source=f"{source} ({path})", dtype=dtype)
