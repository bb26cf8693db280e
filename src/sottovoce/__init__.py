"""sottovoce: a self-hosted voice AI server with provable zero data retention."""

__version__ = "0.1.0"
