"""Pure rules: database-free computations that models and services build on; no HTTP, and
nothing here imports a model or a service."""
