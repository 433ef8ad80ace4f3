"""Ingest workers: extract → chunk → embed → store in Chroma, one document per job."""
