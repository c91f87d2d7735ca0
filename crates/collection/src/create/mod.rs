//! Creating and appending archives (`seqflow collection create` / `append`).

pub mod input;
pub mod kmer;
pub mod lz_encoder;
pub mod splitters;
pub mod archive;
pub mod compressor;
pub mod group;
pub mod placement;
pub mod run;

pub use run::{CreateOptions, CreateProgress, CreateSummary, create};
