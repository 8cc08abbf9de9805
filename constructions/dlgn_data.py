"""Data sets for DLGN experiments: COB-ODT labels on the sphere, the circle, and a tabular set.

* :class:`ObliqueTree` and :func:`cob_odt`: a complete, orthogonal, balanced oblique decision
  tree of depth 4 (15 internal nodes with orthonormal decision vectors) labelling points drawn
  uniformly from the unit sphere in R^d (the follow-up's synthetic data SDI/SDII/SDIII).
* :func:`circle_data`: x ~ U[-1, 1]^2, y = +1 inside the circle of radius sqrt(2/π) (balanced
  classes), optional label noise.
* :func:`breast_cancer_data`: the Wisconsin breast-cancer table that ships with scikit-learn
  (569 samples, 30 features, no download), split and standardised on the training part.

Labels are ±1 (the logistic loss of the batched trainer takes them as they are).

References
----------
Banerjee, Ramaswamy, Yadav, Lakshminarayanan, ICLR 2025 (COB-ODT, SDI-SDIII).  Yadav,
Ramaswamy, Lakshminarayanan, arXiv:2404.04312 (circle data; its exact definition is not
known, this is relunet's convention).  W. N. Street, W. H. Wolberg, O. L. Mangasarian (1993),
the breast-cancer data.  ``shared/theory/dlgn.md`` §9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .validation import check_int, check_real, check_seed

__all__ = ["CIRCLE_RADIUS", "ObliqueTree", "Split", "breast_cancer_data", "circle_data", "cob_odt", "sphere"]

CIRCLE_RADIUS = math.sqrt(2 / math.pi)


@dataclass
class Split:
    """A train/test split: x (n, d) float64 and y (n,) in {-1, +1}."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def sphere(n: int, d: int, seed: int) -> np.ndarray:
    """n points uniform on the unit sphere in R^d (normalised Gaussians), from ``default_rng(seed)``.

    >>> np.allclose(np.linalg.norm(sphere(5, 3, 0), axis=1), 1.0)
    True
    """
    n, d = check_int("n", n, 1), check_int("d", d, 1)
    g = np.random.default_rng(check_seed(seed)).normal(size=(n, d))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


@dataclass
class ObliqueTree:
    """A complete oblique decision tree in heap order.

    Node i (0 is the root) sends x to child 2i + 1 when ⟨v_i, x⟩ < 0 and to 2i + 2 otherwise;
    the leaves are the 2^depth nodes after the internal ones.

    Attributes
    ----------
    vectors : ndarray (2^depth - 1, d)
        The decision vectors (orthonormal for COB-ODT).
    leaf_labels : ndarray (2^depth,)
        Labels in {-1, +1}; sibling leaves have opposite labels.
    """

    vectors: np.ndarray
    leaf_labels: np.ndarray

    @property
    def depth(self) -> int:
        return int(round(math.log2(len(self.vectors) + 1)))

    @property
    def node_depths(self) -> np.ndarray:
        """The depth of each internal node, 1 for the root."""
        return np.floor(np.log2(np.arange(len(self.vectors)) + 1)).astype(int) + 1

    def route(self, x: np.ndarray) -> np.ndarray:
        """The internal nodes visited by each point: (n, depth), in heap indices."""
        x = np.asarray(x, dtype=np.float64)
        node = np.zeros(len(x), dtype=int)
        visited = []
        for _ in range(self.depth):
            visited.append(node)
            right = np.einsum("nd,nd->n", x, self.vectors[node]) >= 0
            node = 2 * node + 1 + right
        return np.stack(visited, axis=1)

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """The leaf index (0 .. 2^depth - 1) of each point."""
        last = self.route(x)[:, -1]
        right = np.einsum("nd,nd->n", np.asarray(x, dtype=np.float64), self.vectors[last]) >= 0
        return 2 * last + 1 + right - len(self.vectors)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Labels in {-1, +1}."""
        return self.leaf_labels[self.leaves(x)]


def cob_odt(n: int, d: int, seed: int, *, tree_seed: int | None = None,
            depth: int = 4) -> tuple[np.ndarray, np.ndarray, ObliqueTree]:
    """COB-ODT data: (x (n, d) uniform on the sphere, y (n,) in {-1, +1}, the tree).

    The tree (from `tree_seed`, default `seed`): 2^depth - 1 orthonormal decision vectors (QR of
    a Gaussian d x (2^depth - 1) matrix, so d >= 2^depth - 1) and leaf labels with each pair of
    siblings opposite (which sibling is +1 drawn per pair).  The points come from
    ``default_rng([seed, 1])``, so the same tree can label several independent samples.  Seeds
    are integers in [0, 2^63 - 1].

    For x uniform on the sphere the signs along orthonormal directions are independent fair
    coins, so the splits of the nodes at depths 1 .. depth-1 are balanced in expectation; each
    deepest node separates its two leaves perfectly.

    Examples
    --------
    >>> x, y, tree = cob_odt(1000, 20, seed=0)
    >>> x.shape, tree.vectors.shape, sorted(set(y.tolist()))
    ((1000, 20), (15, 20), [-1, 1])
    >>> bool(np.allclose(tree.vectors @ tree.vectors.T, np.eye(15)))
    True

    References
    ----------
    Banerjee et al., ICLR 2025 (COB-ODT); ``shared/theory/dlgn.md`` §9 (the package's recipe).
    """
    n, d, depth = check_int("n", n, 1), check_int("d", d, 1), check_int("depth", depth, 1)
    seed = check_seed(seed)
    tree_seed = seed if tree_seed is None else check_seed(tree_seed, "tree_seed")
    nodes = 2**depth - 1
    if d < nodes:
        raise ValueError(f"d = {d} is out of range: a depth-{depth} orthogonal tree needs d >= {nodes}")
    rng = np.random.default_rng(tree_seed)
    q, r = np.linalg.qr(rng.normal(size=(d, nodes)))
    vectors = (q * np.sign(np.diag(r))).T
    first = rng.choice([-1, 1], size=2 ** (depth - 1))
    leaf_labels = np.stack([-first, first], axis=1).reshape(-1)
    tree = ObliqueTree(vectors, leaf_labels)
    x = sphere(n, d, [seed, 1])
    return x, tree.predict(x), tree


def circle_data(n: int, seed: int, *, radius: float = CIRCLE_RADIUS,
                noise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(x (n, 2) uniform on [-1, 1]^2, y = +1 inside |x| < radius else -1), each label flipped with probability `noise`.

    The default radius sqrt(2/π) makes the classes balanced (area π r^2 = 2 of 4).

    >>> x, y = circle_data(4000, seed=0)
    >>> abs(float(np.mean(y == 1)) - 0.5) < 0.03
    True
    """
    n = check_int("n", n, 1)
    radius = check_real("radius", radius, 0, low_open=True)
    noise = check_real("noise", noise, 0, 0.5)
    rng = np.random.default_rng(check_seed(seed))
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = np.where(np.linalg.norm(x, axis=1) < radius, 1, -1)
    flip = rng.random(n) < noise
    return x, np.where(flip, -y, y)


def _random_state(seed: int):
    """scikit-learn's `random_state` for a seed in [0, 2^63 - 1]: the seed itself below 2^32."""
    if seed < 2**32:
        return seed
    return np.random.RandomState(np.random.MT19937(np.random.SeedSequence(seed)))


def breast_cancer_data(seed: int, test_fraction: float = 0.3) -> Split:
    """The scikit-learn breast-cancer table: a stratified split, standardised with the training mean and std.

    y = +1 for malignant, -1 for benign.  `seed` is an integer in [0, 2^63 - 1]; scikit-learn takes
    seeds below 2^32 only, so a seed below 2^32 is passed as it is and a larger one seeds a
    ``RandomState`` through ``numpy.random.SeedSequence(seed)`` (reproducible, and distinct from
    the small seeds' streams).  `test_fraction` is a number in (0, 1).

    >>> s = breast_cancer_data(seed=0)
    >>> s.x_train.shape[1], len(s.y_train) + len(s.y_test)
    (30, 569)
    """
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    seed = check_seed(seed)
    test_fraction = check_real("test_fraction", test_fraction, 0, 1, low_open=True, high_open=True)
    data = load_breast_cancer()
    y = np.where(data.target == 0, 1, -1)  # target 0 is malignant in scikit-learn
    xtr, xte, ytr, yte = train_test_split(data.data, y, test_size=test_fraction, random_state=_random_state(seed),
                                          stratify=y)
    mean, std = xtr.mean(axis=0), xtr.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return Split((xtr - mean) / std, ytr, (xte - mean) / std, yte)
