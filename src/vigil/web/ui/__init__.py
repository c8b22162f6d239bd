"""The analyst UI: server-rendered pages, one router module per feature."""
