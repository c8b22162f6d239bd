"""The model, the pipeline and the plug-in registry. Imports nothing from the CLI, API or UI."""
