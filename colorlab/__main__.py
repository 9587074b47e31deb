"""``python -m colorlab {colorize,models,evaluate} ...``; see ``colorlab.cli``."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
