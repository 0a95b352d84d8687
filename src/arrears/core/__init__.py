"""The lowest layer: what every other package may use (the error model). Imports nothing from
``arrears.apps``, ``arrears.batch`` or ``arrears.domain`` (import-linter contract);
:mod:`.errors` is pure Python, the Django/DRF glue lives beside it (:mod:`.api`, :mod:`.pages`)."""
