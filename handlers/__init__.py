"""The dialogue: plain Python that turns an Incoming message and a contact's state into replies.

No Flask, no HTTP, no provider types here (DESIGN.md). Entry point: `respond`.
"""
from .conversation import ContactState, Conversation, Services
from .router import respond
from .types import Incoming, Media, Option, Reply

__all__ = ["ContactState", "Conversation", "Incoming", "Media", "Option", "Reply", "Services", "respond"]
