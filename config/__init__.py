"""Per-environment defaults (no secrets). Selected by MICROCRED_ENV."""
