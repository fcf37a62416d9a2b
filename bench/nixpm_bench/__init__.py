"""nixpm's benchmark harness: nixpmd, its peers and a floor on the same workload (see docs/benchmarks.md)."""
