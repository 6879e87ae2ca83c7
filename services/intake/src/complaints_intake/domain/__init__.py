"""Pure intake logic: ids, normalisation, deduplication, problem details."""
