"""COB-ODT, circle and breast-cancer data (dlgn.md §9, check D15)."""

import math

import numpy as np
import pytest

from relunet.constructions.dlgn_data import CIRCLE_RADIUS, ObliqueTree, breast_cancer_data, circle_data, cob_odt, sphere


def test_cob_odt_tree_is_complete_orthonormal_and_siblings_differ():
    x, y, tree = cob_odt(500, 20, seed=3)
    assert tree.vectors.shape == (15, 20) and tree.depth == 4
    np.testing.assert_allclose(tree.vectors @ tree.vectors.T, np.eye(15), atol=1e-12)
    assert np.all(tree.leaf_labels[0::2] == -tree.leaf_labels[1::2])
    assert tree.node_depths.tolist() == [1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4]
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0)
    assert set(np.unique(y)) == {-1, 1}
    assert np.array_equal(tree.predict(x), y)


def test_cob_odt_is_reproducible_and_the_tree_seed_is_separate():
    a = cob_odt(100, 16, seed=1)
    b = cob_odt(100, 16, seed=1)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    c = cob_odt(100, 16, seed=2, tree_seed=1)
    assert np.array_equal(c[2].vectors, a[2].vectors) and not np.array_equal(c[0], a[0])


def test_cob_odt_balance_and_purity():
    """D15: depth 1-3 splits balanced (3 binomial SE); depth-4 splits pure in their node, marginally 9/16 or 7/16."""
    n = 60_000
    x, y, tree = cob_odt(n, 20, seed=0)
    route = tree.route(x)
    for node, depth in enumerate(tree.node_depths):
        side = x @ tree.vectors[node] >= 0
        reach = np.any(route == node, axis=1)
        if depth <= 3:
            for s in (side, ~side):  # labels balanced on each side, marginally
                p = np.mean(y[s] == 1)
                assert abs(p - 0.5) <= 3 * math.sqrt(0.25 / s.sum()), (node, p)
            assert abs(np.mean(y[reach] == 1) - 0.5) <= 3 * math.sqrt(0.25 / reach.sum())
        else:
            labels_right = np.unique(y[reach & side])
            labels_left = np.unique(y[reach & ~side])
            assert len(labels_right) == 1 and len(labels_left) == 1 and labels_right[0] == -labels_left[0]
            p = np.mean(y[side] == 1)
            near = min(abs(p - 9 / 16), abs(p - 7 / 16))
            assert near <= 3 * math.sqrt(p * (1 - p) / side.sum()), (node, p)


def test_oblique_tree_routing_by_hand():
    tree = ObliqueTree(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]), np.array([1, -1, -1, 1]))
    x = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    assert tree.route(x).tolist() == [[0, 1], [0, 1], [0, 2], [0, 2]]
    assert tree.leaves(x).tolist() == [0, 1, 2, 3]
    assert tree.predict(x).tolist() == [1, -1, -1, 1]


def test_cob_odt_bad_input():
    with pytest.raises(ValueError, match="d = 10"):
        cob_odt(10, 10, seed=0)
    with pytest.raises(ValueError, match="n = 0"):
        cob_odt(0, 20, seed=0)
    with pytest.raises(ValueError, match="d = 0"):
        sphere(3, 0, seed=0)


def test_circle_data():
    x, y = circle_data(20_000, seed=0)
    assert x.shape == (20_000, 2) and np.all(np.abs(x) <= 1)
    assert np.array_equal(y == 1, np.linalg.norm(x, axis=1) < CIRCLE_RADIUS)
    assert abs(np.mean(y == 1) - 0.5) <= 3 * math.sqrt(0.25 / 20_000)
    _, noisy = circle_data(20_000, seed=0, noise=0.1)
    assert abs(np.mean(noisy != y) - 0.1) < 0.01
    with pytest.raises(ValueError, match="noise = 0.7"):
        circle_data(10, seed=0, noise=0.7)


def test_breast_cancer_split():
    s = breast_cancer_data(seed=0)
    assert s.x_train.shape[1] == 30 and len(s.y_train) + len(s.y_test) == 569
    np.testing.assert_allclose(s.x_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(s.x_train.std(axis=0), 1.0, atol=1e-12)
    assert np.sum(s.y_train == 1) + np.sum(s.y_test == 1) == 212  # malignant cases
    with pytest.raises(ValueError, match="test_fraction = 1.5"):
        breast_cancer_data(seed=0, test_fraction=1.5)


# -- regressions from the API audit (U1, U2) -----------------------------------------------------------


@pytest.mark.parametrize(("call", "match"), [
    (lambda: cob_odt(10, 16, -1), r"seed = -1 is out of range"),
    (lambda: cob_odt(10, 16, 1.5), r"seed = 1.5 is not an integer"),
    (lambda: cob_odt(10, 16, 0, tree_seed=-2), r"tree_seed = -2 is out of range"),
    (lambda: breast_cancer_data(-1), r"seed = -1 is out of range"),
    (lambda: breast_cancer_data(2**63), r"seed = 9223372036854775808 is out of range"),
    (lambda: breast_cancer_data(0, test_fraction=np.float32(0)), r"test_fraction = np.float32\(0.0\)"),
    (lambda: circle_data(10, 0, radius=np.float32(-1)), r"radius = np.float32\(-1.0\)"),
    (lambda: circle_data(10, 0, noise=float("nan")), r"noise = nan"),
])
def test_seeds_and_numbers_are_checked(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_breast_cancer_takes_every_valid_seed_and_keeps_small_seeds_results():
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer()
    y = np.where(data.target == 0, 1, -1)
    for seed in (0, 7, 2**32 - 1):  # seeds scikit-learn takes are passed to it unchanged
        _, _, want, _ = train_test_split(data.data, y, test_size=0.3, random_state=seed, stratify=y)
        np.testing.assert_array_equal(breast_cancer_data(seed).y_train, want)
    big = breast_cancer_data(2**40)
    np.testing.assert_array_equal(big.x_train, breast_cancer_data(2**40).x_train)
    assert not np.array_equal(big.x_train, breast_cancer_data(2**40 + 1).x_train)
    assert breast_cancer_data(2**63 - 1).x_test.shape == (171, 30)


def test_numpy_scalars_count_as_numbers():
    np.testing.assert_array_equal(breast_cancer_data(np.int64(3), np.float64(0.3)).x_test,
                                  breast_cancer_data(3, 0.3).x_test)
    assert breast_cancer_data(0, np.float32(0.3)).x_test.shape == (171, 30)
    x1, y1 = circle_data(np.int64(50), np.int64(2), radius=np.float32(0.5), noise=np.float32(0.25))
    x2, y2 = circle_data(50, 2, radius=0.5, noise=0.25)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    a, b = cob_odt(np.int64(20), 16, np.int64(4), tree_seed=np.int64(5)), cob_odt(20, 16, 4, tree_seed=5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[2].vectors, b[2].vectors)
