//! Benchmarks of the pipeline engine (filled in below).
fn main() {}
