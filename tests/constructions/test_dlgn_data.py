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
