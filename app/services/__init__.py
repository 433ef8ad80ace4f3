"""Domain steps: plain functions over explicit arguments (database session, streams, jobs,
settings), never Flask's request globals."""
