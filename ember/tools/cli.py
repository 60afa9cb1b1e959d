"""The ``ember`` command (being written)."""

import sys


def main(argv=None) -> int:
    print("ember: the command-line tools are being written", file=sys.stderr)
    return 2
