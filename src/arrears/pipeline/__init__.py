"""The daily pipeline: the one place that calls several contexts in order (:mod:`.daily`)."""
