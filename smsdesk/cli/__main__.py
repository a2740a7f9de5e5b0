"""``python -m smsdesk.cli``: the same as the ``smsdesk`` console script."""
import sys

from smsdesk.cli import main

sys.exit(main())
