"""``arrears demo_users [--password P]``: create one demo user per role and print the logins."""
from django.core.management.base import BaseCommand

from arrears.contexts.org.users.roles import BY_CODE
from arrears.contexts.org.users.services import ensure_demo_users


class Command(BaseCommand):
    help = "Create (or update) one demo user per role; username = role code."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="password for every demo user (default: a random one per new user)")

    def handle(self, *args, password=None, **options):
        for username, code, pw in ensure_demo_users(password):
            role = BY_CODE[code]
            shown = pw if pw is not None else "(unchanged)"
            self.stdout.write(f"{username:<20} {role.zh} / {role.en:<24} {shown}")
