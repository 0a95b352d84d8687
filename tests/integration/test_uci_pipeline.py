"""The real UCI portfolio end to end on the database: import → daily run → the source's bucket
counts; the same import and the same run again change nothing."""
from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings

from arrears.contexts.casework.models import Case, CaseEvent
from arrears.contexts.money.payments.models import Payment
from arrears.contexts.portfolio.intake.uci import read_uci
from arrears.contexts.portfolio.models import BucketHistory, CardAccount, Contact, Customer, Statement
from arrears.contexts.portfolio.services import load_extract
from arrears.pipeline.daily import run_daily

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

UCI = settings.DATA_DIR / "uci_default_of_credit_card_clients.csv"
AS_OF = date(2026, 11, 30)
#: PAY_0 counts of the source file: current (PAY_0 <= 0) and months of delay 1..8 (7 and 8 → M7+).
EXPECTED = {"M0": 23182, "M1": 3688, "M2": 2667, "M3": 322, "M4": 76, "M5": 26, "M6": 11, "M7+": 28}


def test_uci_import_run_gives_source_bucket_counts_and_is_idempotent():
    extract = read_uci(UCI, AS_OF)
    first = load_extract(extract, "uci")
    assert first.inserted["customers"] == 30_000 and first.inserted["accounts"] == 30_000
    assert Statement.objects.count() == 180_000 and Contact.objects.count() == 90_000
    assert Payment.objects.count() == extract.payments.height

    result = run_daily(AS_OF)
    assert result.accounts == 30_000
    assert result.buckets == EXPECTED
    # one account per UCI customer; a case for each delinquent customer with something overdue
    # (the UCI status says "late" for 1,689 accounts whose recent bills are nil or in credit:
    # they keep their bucket, but nobody is asked to pay nothing — domain.needs_collection)
    delinquent_accounts = 30_000 - EXPECTED["M0"]
    owing = CardAccount.objects.filter(dpd__gt=0, overdue_amount__gt=0).count()
    assert 0 < owing < delinquent_accounts
    assert result.cases_opened == owing == result.cases_open
    assert Case.objects.filter(closed_on__isnull=True).count() == owing
    assert CaseEvent.objects.filter(kind="opened").count() == owing
    assert BucketHistory.objects.filter(roll="new").count() == delinquent_accounts
    m3 = CardAccount.objects.filter(bucket="M3")
    assert m3.count() == 322 and all(61 <= a.dpd <= 90 for a in m3)
    # masked-on-screen personal data is complete in the store: every customer has a valid-looking ID
    assert not Customer.objects.filter(national_id="").exists()

    snapshot = (Case.objects.count(), CaseEvent.objects.count(), BucketHistory.objects.count())
    assert load_extract(read_uci(UCI, AS_OF), "uci").already_imported
    again = run_daily(AS_OF)
    assert (again.cases_opened, again.cases_closed, again.accounts_changed) == (0, 0, 0)
    assert again.buckets == EXPECTED
    assert (Case.objects.count(), CaseEvent.objects.count(), BucketHistory.objects.count()) == snapshot
