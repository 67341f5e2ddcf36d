"""Serving BI tools: Parquet export and a PostgreSQL copy of the published marts."""
