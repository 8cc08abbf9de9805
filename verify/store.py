"""The results store: verdicts in an embedded SQLite database, safe to interrupt.

One row per finished unit (claim, parameters, seed, profile, device, relunet version), written in its own
transaction with a full sync, so a sweep killed at any moment (even by SIGKILL) keeps every
unit it finished and, when run again, skips them: nothing is lost or recorded twice.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from .claim import PROFILES, Verdict
from .environment import versions

__all__ = ["SCHEMA_VERSION", "ResultsStore", "StoreError", "unit_key"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS verdicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_key TEXT NOT NULL UNIQUE,
    claim TEXT NOT NULL,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL,
    verdict TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS verdicts_claim ON verdicts (claim);
"""


class StoreError(ValueError):
    """The store cannot be opened or has an incompatible schema."""


def unit_key(claim: str, params: dict, seed: int, kind: str = "unit", *, profile: str = "quick",
             device: str = "cpu") -> str:
    """The identity of a unit: claim, canonical parameters, seed, kind, profile, device and relunet version.

    Parameters are serialised as `Claim.units` compares them (``json.dumps(..., default=str)``), so a
    canonical value that JSON cannot hold (a Fraction, say) is written as its str.  Keys written before
    the profile and device were part of the key do not match any new key: those rows are simply rerun.

    Raises
    ------
    ValueError
        For an unknown profile or an empty device.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile = {profile!r} is not allowed: use one of {PROFILES}")
    if not isinstance(device, str) or not device:
        raise ValueError(f"device = {device!r} is not allowed: use a device name such as 'cpu' or 'cuda'")
    canon = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return (f"{claim}|{kind}|{canon}|seed={seed}|profile={profile}|device={device}"
            f"|relunet={versions()['relunet']}")


class ResultsStore:
    """An SQLite file of verdicts.

    Parameters
    ----------
    path : str or Path
        The database file; ``":memory:"`` for a store that lives only in this process.
    create : bool
        Create the file when it does not exist (the default, for runs that write).  Reading
        results back, ``create=False`` refuses a path that does not exist, so that a mistyped
        name is an error rather than an empty store.

    Examples
    --------
    >>> store = ResultsStore(":memory:")
    >>> store.count()
    0
    """

    def __init__(self, path: str | Path = "relunet-results.sqlite", create: bool = True):
        if not isinstance(path, (str, Path)) or not str(path).strip():
            raise StoreError(f"store = {path!r} is not a path: give a file name (or ':memory:')")
        self.path = str(path) if str(path) == ":memory:" else str(Path(path).expanduser())
        if not create and self.path != ":memory:" and not Path(self.path).is_file():
            raise StoreError(f"store = {self.path!r} does not exist (create=False reads an existing store)")
        if self.path != ":memory:":
            parent = Path(self.path).resolve().parent
            if not parent.is_dir():
                raise StoreError(f"store = {self.path!r} cannot be created: folder {parent} does not exist")
        try:
            self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)
            self._check_schema()
        except sqlite3.Error as exc:
            raise StoreError(f"store = {self.path!r} cannot be opened for writing: {exc}") from None

    def _check_schema(self) -> None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            self._conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                               (str(SCHEMA_VERSION),))
        elif int(row[0]) != SCHEMA_VERSION:
            raise StoreError(
                f"store = {self.path!r} has schema version {row[0]}; this relunet reads version "
                f"{SCHEMA_VERSION}: use a new --store file"
            )

    @property
    def schema_version(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0])

    def get(self, key: str) -> Verdict | None:
        """The stored verdict of a unit, or None."""
        row = self._conn.execute("SELECT verdict FROM verdicts WHERE unit_key = ?", (key,)).fetchone()
        return Verdict.from_json(row[0]) if row else None

    def put(self, key: str, verdict: Verdict, replace: bool = False) -> bool:
        """Record a verdict in one transaction; False (and no change) if the unit is already there,
        unless `replace` (a rerun of the same unit and seed that also drew its figures)."""
        if not isinstance(key, str) or not key:
            raise StoreError(f"key = {key!r} is not a unit key: make one with unit_key(claim, params, seed)")
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        conflict = "REPLACE" if replace else "IGNORE"
        with self._transaction():
            cur = self._conn.execute(
                f"INSERT OR {conflict} INTO verdicts (unit_key, claim, kind, params, seed, status, "
                "verdict, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, verdict.claim, verdict.kind, json.dumps(verdict.params, sort_keys=True, default=str),
                 verdict.seed, verdict.status, verdict.to_json(), now),
            )
        return cur.rowcount == 1

    def _transaction(self):
        conn = self._conn

        class _Tx:
            def __enter__(self):
                conn.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, exc, tb):
                conn.execute("ROLLBACK" if exc_type else "COMMIT")
                return False

        return _Tx()

    def verdicts(self, claim: str | None = None) -> list[Verdict]:
        """All stored verdicts (of one claim when given), oldest first."""
        if claim is None:
            rows = self._conn.execute("SELECT verdict FROM verdicts ORDER BY id").fetchall()
        else:
            rows = self._conn.execute("SELECT verdict FROM verdicts WHERE claim = ? ORDER BY id",
                                      (claim,)).fetchall()
        return [Verdict.from_json(r[0]) for r in rows]

    def count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0])

    def close(self) -> None:
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
