"""Catapult data: toy point, random data, digits subsets, and the MNIST/CIFAR-10 readers on synthetic files.

References: catapult.md §10 (two-class subsets of 128 images, labels ∓1).
"""

import gzip
import pickle
import struct

import numpy as np
import pytest
import torch

from relunet.constructions.catapult_data import (
    image_two_class,
    load_cifar10,
    load_digits,
    load_mnist,
    random_low_dim,
    read_idx,
    toy_point,
    two_class_subset,
)


def _idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}i", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_mnist(folder, rng, n_train=40, n_test=12, compress=True):
    folder.mkdir(parents=True, exist_ok=True)
    data = {}
    for split, n, prefix in (("train", n_train, "train"), ("test", n_test, "t10k")):
        images = rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        for name, arr in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
            raw = _idx_bytes(arr)
            if compress:
                (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
            else:
                (folder / name).write_bytes(raw)
        data[split] = (images, labels)
    return data


def _write_cifar(folder, rng, per_batch=7):
    folder.mkdir(parents=True, exist_ok=True)
    data = {"train": [], "test": []}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        images = rng.integers(0, 256, size=(per_batch, 3072)).astype(np.uint8)
        labels = rng.integers(0, 10, size=per_batch).tolist()
        with open(folder / name, "wb") as fh:
            pickle.dump({b"batch_label": name.encode(), b"labels": labels, b"data": images}, fh, protocol=2)
        data["test" if name == "test_batch" else "train"].append((images, labels))
    return data


def test_toy_point_and_random_data():
    x, y = toy_point()
    assert x.tolist() == [[1.0]] and y.tolist() == [[0.0]] and x.dtype == torch.float64
    x1, y1 = random_low_dim(32, 3, seed=5)
    x2, y2 = random_low_dim(32, 3, seed=5)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert bool((x1 >= -0.5).all() and (x1 <= 0.5).all()) and y1.std() > 0.3
    assert bool((random_low_dim(8, 1, seed=0, targets="zero")[1] == 0).all())
    for kwargs, match in (({"n": 0, "d": 1}, "n = 0"), ({"n": 2, "d": 1, "low": 1.0, "high": 0.0}, "low = 1.0"),
                          ({"n": 2, "d": 1, "targets": "uniform"}, "targets = 'uniform'")):
        with pytest.raises(ValueError, match=match):
            random_low_dim(seed=0, **kwargs)


def test_digits_two_class_subset():
    data = image_two_class("digits", classes=(0, 1), n_train=128)
    images, labels = load_digits()
    chosen = np.flatnonzero(np.isin(labels, (0, 1)))
    assert data.x_train.shape == (128, 64) and data.x_test.shape == (len(chosen) - 128, 64)
    np.testing.assert_array_equal(data.x_train.numpy(), images[chosen[:128]].reshape(128, 64) / 16.0)
    np.testing.assert_array_equal(data.y_train[:, 0].numpy(), np.where(labels[chosen[:128]] == 0, -1.0, 1.0))
    assert float(data.x_train.min()) >= 0 and float(data.x_train.max()) == 1.0
    unit = image_two_class("digits", classes=(3, 8), n_train=50, normalize="unit_norm")
    np.testing.assert_allclose(unit.x_train.norm(dim=1).numpy(), 1.0, rtol=1e-14)
    with pytest.raises(ValueError, match="n_train = 5000"):
        image_two_class("digits", n_train=5000)
    with pytest.raises(ValueError, match="source = 'svhn'"):
        image_two_class("svhn")
    with pytest.raises(ValueError, match="path = None"):
        image_two_class("mnist")
    with pytest.raises(ValueError, match="classes"):
        two_class_subset(images, labels, classes=(1, 1))
    with pytest.raises(ValueError, match="normalize = 'zscore'"):
        two_class_subset(images, labels, normalize="zscore")


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("layout", [".", "raw", "MNIST/raw"])
def test_load_mnist_reads_idx_files(tmp_path, compress, layout):
    rng = np.random.default_rng(0)
    written = _write_mnist(tmp_path / layout, rng, compress=compress)
    for split in ("train", "test"):
        images, labels = load_mnist(tmp_path, split)
        np.testing.assert_array_equal(images, written[split][0])
        np.testing.assert_array_equal(labels, written[split][1])
        assert images.dtype == np.uint8 and labels.dtype == np.int64
    data = image_two_class("mnist", tmp_path, classes=(2, 7), n_train=3)
    imgs, labs = written["train"]
    chosen = np.flatnonzero(np.isin(labs, (2, 7)))[:3]
    np.testing.assert_array_equal(data.x_train.numpy(), imgs[chosen].reshape(3, -1) / 255.0)
    test_labels = written["test"][1]
    assert data.x_test.shape[0] == int(np.isin(test_labels, (2, 7)).sum())


def test_mnist_reader_errors_name_the_path(tmp_path):
    with pytest.raises(ValueError, match=f"path = '{tmp_path}' has no MNIST train files"):
        load_mnist(tmp_path)
    bad = tmp_path / "labels"
    bad.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="is not an IDX file"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(struct.pack(">BBBBi", 0, 0, 8, 1, 5) + bytes([1, 2]))
    with pytest.raises(ValueError, match="truncated or padded"):
        read_idx(short)
    with pytest.raises(ValueError, match="split = 'val'"):
        load_mnist(tmp_path, "val")


@pytest.mark.parametrize("nested", [False, True])
def test_load_cifar10_reads_python_batches(tmp_path, nested):
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-10-batches-py" if nested else tmp_path
    written = _write_cifar(folder, rng)
    images, labels = load_cifar10(tmp_path, "train")
    assert images.shape == (35, 32, 32, 3) and labels.shape == (35,)
    first = written["train"][0][0][0].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(images[0], first)
    np.testing.assert_array_equal(labels, np.concatenate([b[1] for b in written["train"]]))
    test_images, _ = load_cifar10(tmp_path, "test")
    assert test_images.shape == (7, 32, 32, 3)
    labs = labels
    classes = tuple(int(c) for c in np.unique(labs)[:2])
    data = image_two_class("cifar10", tmp_path, classes=classes, n_train=2)
    assert data.x_train.shape == (2, 3072) and data.input_dim == 3072


def test_cifar_reader_rejects_missing_and_unsafe_batches(tmp_path):
    with pytest.raises(ValueError, match=f"path = '{tmp_path}' has no CIFAR-10 test batches"):
        load_cifar10(tmp_path, "test")

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": Evil(), b"labels": [0]}))
    with pytest.raises(ValueError, match="is not a CIFAR-10 python batch: global builtins.print is not allowed"):
        load_cifar10(tmp_path, "test")
    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": np.zeros((2, 10), dtype=np.uint8), b"labels": [0, 1]}))
    with pytest.raises(ValueError, match="expected \\(N, 3072\\)"):
        load_cifar10(tmp_path, "test")


# -- regressions from the API audit (U1, U2) -----------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"seed": 1.5}, r"seed = 1.5 is not an integer"),
    ({"seed": -1}, r"seed = -1 is out of range"),
    ({"seed": 2**63}, r"seed = 9223372036854775808 is out of range"),
    ({"seed": 0, "n": "8"}, r"n = '8'"),
    ({"seed": 0, "low": float("nan")}, r"low = nan"),
])
def test_random_low_dim_checks_its_seed(kwargs, match):
    with pytest.raises(ValueError, match=match):
        random_low_dim(**{"n": 8, "d": 2, **kwargs})


def test_numpy_scalars_count_as_numbers():
    x1, y1 = random_low_dim(np.int64(8), np.int32(2), np.uint64(5), low=np.float32(-0.5))
    x2, y2 = random_low_dim(8, 2, 5)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    a, b = image_two_class("digits", n_train=np.int64(64)), image_two_class("digits", n_train=64)
    assert torch.equal(a.x_train, b.x_train) and a.x_train.shape == (64, 64)
    assert toy_point(np.float32(2.0), np.int64(1))[0].tolist() == [[2.0]]
    with pytest.raises(ValueError, match="max_value = 0"):
        two_class_subset(np.ones((4, 2)), [0, 1, 0, 1], n_train=2, max_value=0)
