"""The bucket ladder (账龄): DPD ranges M0, M1 … M7+ and roll classification between two runs.

A ladder is rule data (``arrears/rules/buckets.yaml``, loaded by
:func:`arrears.rules.load_bucket_ladder`), versioned so every decision can store the ladder version
that made it. The first bucket is "current" (it starts at DPD 0); every other bucket is delinquent.

Shape rules checked by :meth:`BucketLadder.validate` (all problems reported at once):
the first bucket starts at DPD 0; buckets are listed in ascending order and contiguous (each starts
one day after the previous ends: no gaps, no overlaps); exactly one bucket is open-ended
(``max_dpd`` ``None``) and it is the last; names are unique and non-empty; labels are non-empty.

Only Python here — the batch engine translates the same ladder into its own expressions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .errors import DomainError, RuleDataError

__all__ = ["Bucket", "BucketLadder", "Roll", "ROLLS"]

Roll = Literal["new", "forward", "back", "cure", "stay"]
ROLLS: tuple[str, ...] = ("new", "forward", "back", "cure", "stay")


@dataclass(frozen=True, slots=True)
class Bucket:
    """One rung: ``name`` (e.g. ``"M2"``) covers ``min_dpd`` … ``max_dpd`` days past due, both
    inclusive; ``max_dpd=None`` means open-ended (``"M7+"``: 181 and over)."""

    name: str
    min_dpd: int
    max_dpd: int | None
    label_zh: str
    label_en: str

    def contains(self, dpd: int) -> bool:
        """True if ``min_dpd <= dpd <= max_dpd`` (no upper bound when open-ended)."""
        return dpd >= self.min_dpd and (self.max_dpd is None or dpd <= self.max_dpd)

    def describe(self) -> str:
        """``"M2 (31–60)"`` / ``"M7+ (181+)"`` — for messages."""
        upper = "+" if self.max_dpd is None else f"–{self.max_dpd}"
        return f"{self.name} ({self.min_dpd}{upper})"


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class BucketLadder:
    """A versioned, ordered ladder of :class:`Bucket` (``buckets[0]`` is current, e.g. M0).

    Construction does not validate, so a bad ladder can be built and inspected; call
    :meth:`validate`. :meth:`bucket_for`, :meth:`index_of` and :meth:`roll` validate on first use
    and raise :class:`RuleDataError` on an invalid ladder.
    """

    version: str
    buckets: tuple[Bucket, ...]
    _valid: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "buckets", tuple(self.buckets))

    # ---- validation -------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Every problem with the ladder's shape, as human-readable strings (empty when valid)."""
        out: list[str] = []
        if not isinstance(self.version, str) or not self.version.strip():
            out.append(f"version must be a non-empty string, got {self.version!r}")
        if not self.buckets:
            out.append("the ladder has no buckets")
            return out

        names = [b.name for b in self.buckets]
        for i, b in enumerate(self.buckets):
            where = f"bucket #{i + 1} ({b.name!r})"
            if not isinstance(b.name, str) or not b.name.strip():
                out.append(f"bucket #{i + 1}: name must be a non-empty string")
            for attr in ("label_zh", "label_en"):
                v = getattr(b, attr)
                if not isinstance(v, str) or not v.strip():
                    out.append(f"{where}: {attr} must be a non-empty string")
            if not _is_int(b.min_dpd) or b.min_dpd < 0:
                out.append(f"{where}: min_dpd must be an integer ≥ 0, got {b.min_dpd!r}")
            if b.max_dpd is not None and not _is_int(b.max_dpd):
                out.append(f"{where}: max_dpd must be an integer or null (open-ended), got {b.max_dpd!r}")
            elif (
                b.max_dpd is not None and _is_int(b.min_dpd) and b.max_dpd < b.min_dpd
            ):
                out.append(f"{where}: max_dpd {b.max_dpd} is below min_dpd {b.min_dpd}")

        dupes = sorted({n for n in names if names.count(n) > 1}, key=str)
        for n in dupes:
            out.append(f"bucket name {n!r} is used more than once")

        first = self.buckets[0]
        if _is_int(first.min_dpd) and first.min_dpd != 0:
            out.append(f"the first bucket {first.name!r} must start at DPD 0, starts at {first.min_dpd}")

        open_ended = [b.name for b in self.buckets if b.max_dpd is None]
        if len(open_ended) == 0:
            out.append(
                f"no open-ended bucket: the last bucket {self.buckets[-1].name!r} must have max_dpd null "
                "so every DPD has a bucket"
            )
        elif len(open_ended) > 1:
            out.append(f"exactly one bucket may be open-ended, found {len(open_ended)}: {', '.join(open_ended)}")
        if open_ended and self.buckets[-1].max_dpd is not None:
            out.append(f"the open-ended bucket must be the last one; last is {self.buckets[-1].name!r}")

        for prev, cur in zip(self.buckets, self.buckets[1:]):
            if not (_is_int(prev.min_dpd) and _is_int(cur.min_dpd)):
                continue
            if prev.max_dpd is None:
                out.append(f"bucket {cur.name!r} follows the open-ended bucket {prev.name!r}")
                continue
            if not _is_int(prev.max_dpd):
                continue
            expected = prev.max_dpd + 1
            if cur.min_dpd > expected:
                out.append(
                    f"gap between {prev.name!r} and {cur.name!r}: DPD {expected}–{cur.min_dpd - 1} has no bucket"
                )
            elif cur.min_dpd < expected:
                out.append(
                    f"overlap between {prev.name!r} (ends {prev.max_dpd}) and {cur.name!r} "
                    f"(starts {cur.min_dpd}): buckets must be in ascending order, each starting the day "
                    "after the previous ends"
                )
        return out

    def validate(self, *, raise_on_error: bool = True) -> list[str]:
        """Check the ladder's shape (module docstring) and return the list of problems.

        With ``raise_on_error`` (the default) an invalid ladder raises :class:`RuleDataError`
        (``source`` = ``"bucket ladder <version>"``, ``errors`` = every problem) and a valid one
        returns ``[]``. With ``raise_on_error=False`` the problems are returned, never raised.
        """
        problems = self.problems()
        if problems and raise_on_error:
            raise RuleDataError(f"bucket ladder {self.version!r}", problems)
        if not problems:
            object.__setattr__(self, "_valid", True)
        return problems

    def _require_valid(self) -> None:
        if not self._valid:
            self.validate()

    # ---- lookups ----------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Bucket names in ladder order, e.g. ``("M0", "M1", …, "M7+")``."""
        return tuple(b.name for b in self.buckets)

    @property
    def current(self) -> Bucket:
        """The first bucket (current, not delinquent)."""
        self._require_valid()
        return self.buckets[0]

    def bucket(self, name: str) -> Bucket:
        """The :class:`Bucket` called ``name``; :class:`DomainError` if there is none."""
        return self.buckets[self.index_of(name)]

    def index_of(self, name: str) -> int:
        """Position of bucket ``name`` in the ladder (0 = current). :class:`DomainError` if unknown."""
        self._require_valid()
        for i, b in enumerate(self.buckets):
            if b.name == name:
                return i
        raise DomainError(f"bucket ladder {self.version!r} has no bucket {name!r} (has {', '.join(self.names)})")

    def bucket_for(self, dpd: int) -> str:
        """Name of the bucket containing ``dpd`` (an int ≥ 0): e.g. 0 → "M0", 30 → "M1", 181 → "M7+".

        Total and monotone over all DPD ≥ 0 for a valid ladder. Raises ``TypeError`` if ``dpd`` is
        not an int, ``ValueError`` if negative, :class:`RuleDataError` if the ladder is invalid.
        """
        if not _is_int(dpd):
            raise TypeError(f"bucket_for: dpd must be an int, got {type(dpd).__name__}")
        if dpd < 0:
            raise ValueError(f"bucket_for: dpd must be ≥ 0, got {dpd}")
        self._require_valid()
        for b in self.buckets:
            if b.contains(dpd):
                return b.name
        raise AssertionError("unreachable: a valid ladder covers every dpd ≥ 0")  # pragma: no cover

    def is_delinquent(self, name: str) -> bool:
        """True for every bucket but the first."""
        return self.index_of(name) > 0

    def roll(self, previous: str | None, current: str) -> Roll:
        """Classify the move between two runs' buckets.

        * ``"new"`` — no previous bucket (``None``) and now delinquent;
        * ``"cure"`` — previously delinquent, now current (出催);
        * ``"forward"`` — to a later bucket (including current → M1);
        * ``"back"`` — to an earlier bucket that is still delinquent;
        * ``"stay"`` — same bucket (including current → current), or no previous bucket and current.

        Raises :class:`DomainError` for an unknown bucket name.
        """
        cur = self.index_of(current)
        if previous is None:
            return "new" if cur > 0 else "stay"
        prev = self.index_of(previous)
        if cur == prev:
            return "stay"
        if cur == 0:
            return "cure"
        return "forward" if cur > prev else "back"

    def to_dict(self) -> dict:
        """Plain-data form (the YAML shape): ``{"version": …, "buckets": [{name, min_dpd, …}]}``."""
        return {
            "version": self.version,
            "buckets": [
                {
                    "name": b.name,
                    "min_dpd": b.min_dpd,
                    "max_dpd": b.max_dpd,
                    "label_zh": b.label_zh,
                    "label_en": b.label_en,
                }
                for b in self.buckets
            ],
        }
