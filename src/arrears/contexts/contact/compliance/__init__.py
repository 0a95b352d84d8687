"""Compliance: the gate every channel calls before contact, rule packs, vectors and benches.

The decision logic is pure and lives in :mod:`arrears.domain.compliance`; this app holds the
commands (``compliance_check``) and, later, the contact ledger and the service the channels call.
"""
