"""The lowest layer: what every other package may use — the error model (:mod:`.errors`, pure
Python; Django/DRF glue beside it in :mod:`.api`, :mod:`.pages`) and typed settings
(:mod:`.settings`). Imports nothing from ``arrears.apps``, ``arrears.engines`` or ``arrears.domain``
(import-linter contract)."""
