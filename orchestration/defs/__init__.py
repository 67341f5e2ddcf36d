"""Dagster definitions, one module per concern; assembled by orchestration/definitions.py."""
