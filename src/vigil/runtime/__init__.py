"""Runtime: where detection runs. In-process by default; NATS JetStream workers; Ray for batch."""
