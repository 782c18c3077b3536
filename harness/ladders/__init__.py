"""The ladder: its file's schema, the resolved rungs and tasks, its hash, and the model families it can name."""
