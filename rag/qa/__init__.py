"""Question answering over extracted budget records: offline engine (parser, catalogue, operations,
composition with citations and number statuses, follow-ups)."""

from .engine import Engine
from .models import Answer, Citation, NumberStatus

__all__ = ["Answer", "Citation", "Engine", "NumberStatus"]
