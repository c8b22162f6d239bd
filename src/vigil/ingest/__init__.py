"""Ingestion: the scan orchestrator, the pipeline (store, detect, open cases) and where detection runs
(in process, NATS JetStream workers, Ray)."""
