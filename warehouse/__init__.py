"""The platform's DuckDB stores, without Dagster: the writer's warehouse and the analysts' snapshot.

Dagster assets reach these through resources (``orchestration.resources``); agents, tools and tests
import them directly. Modules:

- :mod:`warehouse.connection`: short connections that wait out another process's write lock;
- :mod:`warehouse.raw`: raw tables, the quarantine and the batch log that ingestion writes;
- :mod:`warehouse.tables`: keyed replacement of derived tables (forecasts, elasticities, decisions);
- :mod:`warehouse.publish`: the read-only analyst database, swapped in atomically;
- :mod:`warehouse.reports`: the SQL behind the command line's summaries.
"""
