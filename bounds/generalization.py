"""Statistical rates: what regression with n samples can and cannot achieve.

References
----------
C. J. Stone, "Optimal global rates of convergence for nonparametric regression", Annals of
Statistics 10(4) (1982) 1040-1053.  L. Györfi, M. Kohler, A. Krzyżak, H. Walk, "A
Distribution-Free Theory of Nonparametric Regression", Springer 2002, Theorem 3.2.
``shared/theory/erm_deepening.md`` section 3.
"""

from __future__ import annotations

from .core import Bound, Domain, symbol

__all__ = ["minimax_lower_bound"]


def minimax_lower_bound() -> Bound:
    """Minimax lower bound for Hölder-r regression on [0, 1]^d: c n^(-2r/(2r+d)).

    No estimator has worst-case excess risk E||f_hat - f||^2 below this order over the
    Hölder ball, for bounded noise variance and, for example, uniform inputs.

    References
    ----------
    Stone 1982; Györfi et al. 2002, Theorem 3.2.

    Examples
    --------
    >>> minimax_lower_bound().exponent("n")
    -2*r/(d + 2*r)
    >>> round(minimax_lower_bound().evaluate(n=10**4, r=1, d=2, c=1), 6)
    0.01
    """
    n, r, d, c = symbol("n"), symbol("r"), symbol("d", integer=True), symbol("c")
    return Bound(
        name="stat.minimax.holder",
        expr=c * n ** (-2 * r / (2 * r + d)),
        kind="lower",
        quantity="minimax excess risk E||f_hat - f||^2",
        source="Stone 1982; Györfi-Kohler-Krzyżak-Walk 2002, Thm 3.2",
        variables=("n",),
        conditions={
            "n": Domain(lower=1, integer=True),
            "r": Domain(lower=0, lower_closed=False),
            "d": Domain(lower=1, integer=True),
            "c": Domain(lower=0, lower_closed=False),
        },
        constants=("c",),
        description="no estimator beats this rate uniformly over the Hölder-r ball",
    )
