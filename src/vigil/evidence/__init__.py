"""Evidence: capture with chain of custody, a content-addressed store, retention, signed export bundles."""
