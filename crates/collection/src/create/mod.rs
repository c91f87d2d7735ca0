//! Creating and appending archives (`seqflow collection create` / `append`).

pub mod append;
pub mod archive;
pub mod case;
pub mod compressor;
pub mod group;
pub mod input;
pub mod kmer;
pub mod lz_encoder;
pub mod placement;
pub mod run;
pub mod splitters;

pub use run::{CreateOptions, CreateProgress, CreateSummary, append, create};
