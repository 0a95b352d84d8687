"""The pure domain core of Arrears.

Nothing here imports Django, DuckDB or Polars, does I/O or reads the clock: functions take facts
and an explicit ``as_of``/``now`` and return values or decisions with their reasons. An
import-linter contract (``pyproject.toml``) keeps it so.
"""
