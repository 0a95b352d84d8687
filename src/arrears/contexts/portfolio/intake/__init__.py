"""Portfolio intake: parse and validate card-system extracts into the standard :class:`Extract`.

Readers (no database, no Django):

- :func:`read_standard` — the documented standard extract (five CSV files, ``docs/extract.md``);
- :func:`read_uci` — the UCI "default of credit card clients" data set, mapped onto the standard
  extract with deterministic synthetic personal data (:mod:`.synthetic`).

Both return an :class:`Extract` whose frames follow :data:`FRAME_SCHEMAS` exactly, or raise
:class:`ExtractError` listing every problem (file, line, column, reason).
"""
from .extract import FILES, FRAME_SCHEMAS, NULLABLE, Extract, ExtractError, Problem
from .standard import read_standard
from .uci import read_uci

__all__ = [
    "FILES",
    "FRAME_SCHEMAS",
    "NULLABLE",
    "Extract",
    "ExtractError",
    "Problem",
    "read_standard",
    "read_uci",
]
