"""The ``arrears`` console command: the project's ``manage.py``.

Every Django management command is available (``arrears migrate``, ``arrears runserver``) as well
as Arrears' own (``arrears import_portfolio``, ``arrears run_daily``, ``arrears demo``,
``arrears bench``).
"""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
