"""Names every layer puts on its assets: owners shown in the Dagster UI, and the stage label of each step.

The stage label (an op tag) is how the command line names a step in its summaries, so a summary
never guesses from step keys.
"""

DATA_PLATFORM = "team:data-platform"  # ingestion, the warehouse, dbt, the analyst database
DATA_SCIENCE = "team:data-science"  # the forecast and elasticity models and what they serve
STAGE_TAG = "agentic_commerce/stage"


def stage(label: str) -> dict[str, str]:
    """Op tags naming a step ``label`` in summaries (``ingest + validate orders``)."""
    return {STAGE_TAG: label}
