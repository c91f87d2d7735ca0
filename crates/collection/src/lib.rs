//! Genome-collection archives in the AGC format 3.0 (the archives of the C++ `agc` tool).
//!
//! An AGC archive stores many assemblies of one species as LZ-diff deltas against group
//! references, grouped by the splitter k-mers that cut every contig into segments. This crate
//! reads such archives with true random access: a contig range decodes only the segments it
//! overlaps.
//!
//! The layers, bottom-up:
//! * [`varint`]: the two integer codings (archive varint, collection cvarint) and zigzag.
//! * [`container`]: parts and the footer: [`container::ArchiveReader`] with positional reads,
//!   [`container::ArchiveWriter`] that appends parts and writes the footer.
//! * [`names`]: base-64 stream names and the delta coding of contig names.
//! * [`details`]: the per-segment descriptors of a metadata batch.
//! * [`payload`]: segment payloads (reference parts, delta and raw packs, tuple packing) and
//!   the small `params` / `file_type_info` streams.
//! * [`lz_diff`]: the LZ-diff decoder and AGC's reverse complement.
//! * [`reader`]: [`CollectionReader`], samples and contigs with random access.
//! * [`query`]: `ctg@sample:from-to` queries and the headers agc writes for them.
//! * [`fasta`]: FASTA output exactly as agc writes it.
//!
//! ```no_run
//! use seqflow_collection::{CollectionReader, fasta};
//!
//! let reader = CollectionReader::open("pan8.agc")?;
//! let (_sample, contig) = reader.find_contig("chr2", Some("hap05"))?;
//! let mut decoder = reader.decoder()?;
//! let mut codes = Vec::new();
//! reader.decode_contig(&mut decoder, &contig, Some((1000, 1099)), &mut codes)?;
//! let mut out = Vec::new();
//! fasta::append_record(&mut out, &format!("{}:1000-1099", contig.name), &codes, 80);
//! # Ok::<(), seqflow_collection::Error>(())
//! ```
//!
//! The byte layout is specified in `docs/formats/agc.md`.

pub mod container;
pub mod create;
pub mod details;
mod error;
pub mod fasta;
pub mod lz_diff;
pub mod names;
pub mod payload;
pub mod query;
pub mod reader;
pub mod varint;

pub use error::{Error, Result};
pub use reader::{CollectionReader, Contig, SegmentDecoder};
