"""The ``ember`` command's tools: ``doctor`` (inspect the machine), ``demo``, and the CLI in ``cli``."""
