from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def load_extract_payments(extract, account_ids: dict[str, int]) -> tuple[int, int, int]:
    """The payments of a card-system extract, loaded with the portfolio's rows in one transaction
    (matched on ``(account, payment id)``); returns ``(inserted, updated, unchanged)``."""
    from arrears.core.upsert import upsert_rows

    from .models import Payment

    return upsert_rows(
        Payment, ("account_id", "external_id"), ("paid_at", "local_date", "amount", "channel"),
        ({**r, "account_id": account_ids[r["account_id"]], "external_id": r["payment_id"]}
         for r in extract.payments.to_dicts()),
    )


class PaymentsConfig(AppConfig):
    name = "arrears.contexts.money.payments"
    label = "payments"
    verbose_name = _("还款")

    def ready(self) -> None:
        from arrears.contexts.casework.facade import register_case_payments, register_event_kinds
        from arrears.contexts.money.facade import latest_payments
        from arrears.contexts.portfolio.facade import register_extract_section
        from arrears.contexts.strategy.facade import register_relation

        from .events import event_kinds
        from .selectors import payments_relation, promises_relation

        register_event_kinds(event_kinds())
        from arrears.contexts.casework.facade import register_event_describer

        from .events import DESCRIBERS

        for code, describer in DESCRIBERS.items():  # the timeline reads them in words
            register_event_describer(code, describer)
        # the strategy reads payments and promises as relations (it may not import money)
        register_relation("payments", payments_relation)
        register_relation("promises", promises_relation)
        # the portfolio loads an extract's payments through this (it may not import money either)
        register_extract_section("payments", load_extract_payments)
        register_case_payments(latest_payments)  # the case page's latest payments
