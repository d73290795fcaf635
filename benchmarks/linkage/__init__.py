"""`pahichan benchmark linkage`: the benchmark (benchmark), its data sets (bench_data) and the
plaintext Splink baseline (baseline)."""
