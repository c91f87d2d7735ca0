//! Creates an AGC archive: `create_archive OUT.agc THREADS REF.fa [IN.fa...]`.

use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let output = PathBuf::from(&args[0]);
    let threads: usize = args[1].parse().unwrap();
    let inputs: Vec<PathBuf> = args[2..].iter().map(PathBuf::from).collect();
    let options = seqflow_collection::create::CreateOptions { threads, ..Default::default() };
    let start = std::time::Instant::now();
    let summary = seqflow_collection::create::create(&inputs, &output, &options, &|_| {}).unwrap();
    eprintln!("{summary:?} in {:.2?}", start.elapsed());
}
