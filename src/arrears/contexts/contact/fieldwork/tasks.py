"""Background work of field visits: the safety scan (the worker runs it every minute)."""
from django_tasks import task


@task()
def scan_safety_task() -> dict:
    """Raise and escalate overdue check-out alerts (:func:`arrears.contexts.contact.fieldwork.services.scan_safety`)."""
    from .services import scan_safety

    return scan_safety()
