"""A linear layer with a fixed sparsity pattern and trainable nonzero weights.

Constructions such as the deepening interpolant have layers with hundreds of thousands of
units, each reading one input: dense ``torch.nn.Linear`` layers would not fit in memory.
`SparseLinear` keeps the pattern of a scipy CSR matrix and trains the values on it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sparse
import torch

__all__ = ["SparseLinear"]


class SparseLinear(torch.nn.Module):
    """y = x Wᵀ + b with W sparse: parameters are W's nonzero values and b.

    Parameters
    ----------
    weight : scipy.sparse matrix, shape (out, in)
    bias : array_like, shape (out,)
    dtype, device : torch dtype and device

    Examples
    --------
    >>> w = sparse.csr_matrix(np.array([[1.0, 0.0], [0.0, -2.0]]))
    >>> layer = SparseLinear(w, np.array([0.5, 0.0]))
    >>> layer(torch.tensor([[1.0, 1.0]], dtype=torch.float64)).tolist()
    [[1.5, -2.0]]
    """

    def __init__(self, weight, bias, dtype=torch.float64, device="cpu"):
        super().__init__()
        coo = sparse.coo_matrix(weight)
        self.out_features, self.in_features = coo.shape
        idx = np.vstack([coo.row, coo.col]).astype(np.int64)
        self.register_buffer("indices", torch.as_tensor(idx, device=device))
        self.values = torch.nn.Parameter(torch.as_tensor(coo.data, dtype=dtype, device=device).clone())
        self.bias = torch.nn.Parameter(torch.as_tensor(np.asarray(bias), dtype=dtype, device=device).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = torch.sparse_coo_tensor(self.indices, self.values, (self.out_features, self.in_features),
                                    check_invariants=False)  # indices come from a valid scipy matrix
        return torch.sparse.mm(w, x.reshape(-1, self.in_features).T).T.reshape(*x.shape[:-1], -1) + self.bias

    def to_scipy(self) -> tuple[sparse.csr_matrix, np.ndarray]:
        """(W as a float64 CSR matrix, b) with the current values."""
        idx = self.indices.cpu().numpy()
        vals = self.values.detach().cpu().to(torch.float64).numpy()
        w = sparse.csr_matrix((vals, (idx[0], idx[1])), shape=(self.out_features, self.in_features))
        return w, self.bias.detach().cpu().to(torch.float64).numpy()

    def extra_repr(self) -> str:
        return f"in={self.in_features}, out={self.out_features}, nonzero={self.values.numel()}"
