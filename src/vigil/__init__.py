"""vigil: find terrorist and violent-extremist propaganda online, prove it, get it taken down."""

__version__ = "0.1.0"
