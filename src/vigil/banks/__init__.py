"""Hash banks: named collections of known hashes, their index, import/export, and matching."""
