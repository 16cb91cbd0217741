#!/usr/bin/env python3
"""Fuzz the TURN server's packet path (the fuzzer is test code: tests/turn/fuzz/).

    python scripts/fuzz_turn.py --inputs 1000000 [--seed 1]
"""

import sys
from pathlib import Path

# Run as a script from anywhere: the fuzzer lives in the repository's tests package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.turn.fuzz import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
