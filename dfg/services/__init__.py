"""The application API: one transaction per action, with its role and district checks and its event.

This is what the CLI calls, and what a web page or batch job would call: every rule is enforced here or
below, never only in the command line.
"""
