"""Meetings and their agreed matters for the demo's replay: the product's own functions."""

from oversight.meetings import AgreedMatter, complete_decision, record_meeting

__all__ = ["AgreedMatter", "complete_decision", "record_meeting"]
