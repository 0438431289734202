"""dfg: an open case-workflow engine for the Disabled Facilities Grant."""

__version__ = "0.1.0"
