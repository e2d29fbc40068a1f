"""Rules and queries as plain functions: `session` first, options keyword-only; never commit."""
