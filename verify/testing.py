"""Theory checks inside a user's own test suite.

>>> from relunet.verify import check
>>> verdicts = check("approx.square.error", m=3)   # raises AssertionError if the claim fails
>>> [v.status for v in verdicts]
['pass']
"""

from __future__ import annotations

from .claim import Verdict, get_claim

__all__ = ["check"]


def check(claim_id: str, *, profile: str = "quick", seed: int = 0, device: str = "cpu",
          allow_inconclusive: bool = False, **params) -> list[Verdict]:
    """Run a claim and raise AssertionError, carrying the verdicts, unless every verdict passed.

    Parameters
    ----------
    claim_id : str
        e.g. ``"approx.square.error"``.
    profile : {"quick", "full"}
    seed : int
    device : {"cpu", "cuda", "auto"}
    allow_inconclusive : bool
        Accept "inconclusive" verdicts as well as "pass".
    **params
        Claim parameters (a list for a swept parameter), e.g. ``m=7`` or ``m=[4, 5, 6]``.

    Returns
    -------
    list of Verdict

    Raises
    ------
    AssertionError
        With the failing verdicts' summaries; ``err.verdicts`` holds all verdicts.
    ValueError
        For an unknown claim, a bad parameter, or a claim whose `canonical` raises.
    TypeError
        For a claim whose `canonical` returns something other than a dict.

    Notes
    -----
    A unit or aggregate that raises, or returns something other than a well-formed `Outcome`,
    gives an "error" verdict (and so an AssertionError), never an exception from the framework.
    """
    from .environment import resolve_device

    claim = get_claim(claim_id)
    verdicts = claim.run(profile=profile, seed=seed, device=resolve_device(device), **params)
    accepted = {"pass", "inconclusive"} if allow_inconclusive else {"pass"}
    bad = [v for v in verdicts if v.status not in accepted]
    if bad:
        err = AssertionError(f"{claim_id}: {len(bad)} of {len(verdicts)} verdicts did not pass\n"
                             + "\n".join(v.summary() for v in bad))
        err.verdicts = verdicts
        raise err
    return verdicts
