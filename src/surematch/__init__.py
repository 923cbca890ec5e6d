"""surematch: similarity learning with confidence you can act on."""

__version__ = "0.1.0"
