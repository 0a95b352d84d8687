"""The lowest layer: errors, typed settings, bulk database I/O, progress. Imports no context."""
