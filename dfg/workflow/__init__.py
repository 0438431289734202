"""The workflow: definitions as data, their lint and diagram, guards, and the shared state machine."""
