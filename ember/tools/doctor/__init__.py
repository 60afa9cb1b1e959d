"""``ember doctor``: inspect the machine and say what works and how to fix what does not.

The probes live in :mod:`.probes` (one small function per fact, so a test can fake one missing
piece at a time), the OpenBLAS core-type matmul probe in :mod:`.coretype`, the checks built from
them in :mod:`.checks`, and the text/JSON report in :mod:`.report`.
"""

from .checks import Check, run_checks
from .report import exit_status, format_json, format_text

__all__ = ["Check", "exit_status", "format_json", "format_text", "run_checks"]
