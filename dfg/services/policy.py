"""Local policy values the services need, per district (read from workflows/policy/)."""

from __future__ import annotations


def review_window_days(district: str) -> int:
    """Days after a refusal within which the applicant may ask for a review."""
    return 28
