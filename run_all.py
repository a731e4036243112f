#!/usr/bin/env python3
"""Run the fashionbench suite: ``python run_all.py`` or ``python run_all.py --report-only``.

See ``python run_all.py --help``; the work is done in benchmarks/cli.py.
"""

import sys

from benchmarks.cli import main

if __name__ == "__main__":
    sys.exit(main())
