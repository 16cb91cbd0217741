"""`python -m tests.turn.fuzz --inputs N [--seed S]` from the repository root."""

import sys

from tests.turn.fuzz import main

sys.exit(main())
