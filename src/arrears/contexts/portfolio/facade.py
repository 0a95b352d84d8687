"""The portfolio context's facade: the only module of this context that another context (or the daily
pipeline) imports. Functions here take and return plain values or the frozen dataclasses declared
here, never this context's models; see docs/architecture.md for what the context owns."""
from __future__ import annotations

# ---------------------------------------------------------------- used by the contact context


# ---------------------------------------------------------------- used by money and strategy


# ---------------------------------------------------------------- used by casework, portfolio, audit, org and the pipeline
