"""Pure rules: database-free computations that models and services build on."""
