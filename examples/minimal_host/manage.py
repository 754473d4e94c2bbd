#!/usr/bin/env python
"""The example host's manage.py: a Django project of its own that installs the integrations app."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minimal_host.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
