"""The hash-chained audit log (``log``) and the history lines a case gathers (``history``), used by every
feature that changes a case or records what a person did."""
