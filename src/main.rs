//! The `tellonce` command line.

fn main() {}
