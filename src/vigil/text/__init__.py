"""Text signals: normalisation against evasion, language id, hashed features, the shipped first-stage
model, outlet names, and the second-stage bank of known texts."""
