"""Pure rules: no database, no HTTP; models and services import them, never the reverse."""
