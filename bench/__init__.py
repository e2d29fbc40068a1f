"""Benchmarks: each module measures one hot path against an anchor taken in the same run."""
