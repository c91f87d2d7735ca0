//! Times reading one FASTA with the create input reader.
fn main() {
    let path = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let t = std::time::Instant::now();
    let mut r = seqflow_collection::create::input::ContigReader::open(&path).unwrap();
    let mut n = 0;
    while let Some(c) = r.next_contig().unwrap() {
        n += c.codes.len();
    }
    eprintln!("{n} bases in {:?}", t.elapsed());
}
