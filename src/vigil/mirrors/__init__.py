"""Mirrors: site fingerprints, and probable mirrors of known outlets on new domains."""
