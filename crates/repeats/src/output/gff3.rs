//! The annotation as GFF3 (version 3.1.26 of the specification): one `dispersed_repeat`
//! feature per copy, with the copy's place on its consensus as a `Target` attribute.

use std::io::{self, Write};

use seqflow_genome::Genome;

use crate::Repeats;

/// The Sequence Ontology term of every feature (SO:0000658, what RepeatMasker's GFF3 uses).
const FEATURE_TYPE: &str = "dispersed_repeat";

/// Writes the annotation as GFF3: the `##gff-version 3` pragma, one `##sequence-region` per
/// non-empty contig, then per copy (sorted by position) a line with the contig, source
/// `seqflow`, type `dispersed_repeat`, 1-based inclusive start and end, the alignment score,
/// the strand, phase `.`, and the attributes `ID=copy<N>` (N as in the `.out` ID column),
/// `Name=<family>`, `Target=<family> <begin> <end> +` (the consensus bases the copy aligns to,
/// 1-based, on the consensus's own strand), `divergence` and `kimura_divergence` (percent).
/// Contig names are escaped as GFF3 asks (`%XX` outside `[a-zA-Z0-9.:^*$@!+_?|-]`).
///
/// # Errors
/// Any write error.
pub fn write_gff3(out: &mut impl Write, genome: &Genome, repeats: &Repeats) -> io::Result<()> {
    writeln!(out, "##gff-version 3")?;
    for contig in genome.contigs().iter().filter(|c| c.len > 0) {
        writeln!(out, "##sequence-region {} 1 {}", escape_seqid(&contig.name), contig.len)?;
    }
    for (i, annotated) in repeats.elements.iter().enumerate() {
        let e = &annotated.element;
        let a = &annotated.alignment;
        let contig =
            &genome.contigs()[genome.contig_of(e.start).expect("element inside the genome")];
        let family = escape_seqid(&repeats.families[annotated.family].name);
        writeln!(
            out,
            "{}\tseqflow\t{FEATURE_TYPE}\t{}\t{}\t{}\t{}\t.\tID=copy{};Name={family};\
             Target={family} {} {} +;divergence={:.1};kimura_divergence={:.1}",
            escape_seqid(&contig.name),
            e.start - contig.start + 1,
            e.end - contig.start,
            a.score,
            if e.reverse { '-' } else { '+' },
            i + 1,
            a.consensus_start + 1,
            a.consensus_end,
            a.percent_divergence(),
            a.kimura_divergence(),
        )?;
    }
    Ok(())
}

/// A contig name as a GFF3 seqid: characters outside the unreserved set as `%XX`.
fn escape_seqid(name: &str) -> String {
    let mut escaped = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b".:^*$@!+_?|-".contains(&byte) {
            escaped.push(char::from(byte));
        } else {
            escaped.push_str(&format!("%{byte:02X}"));
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seqids_escape_reserved_characters() {
        assert_eq!(escape_seqid("chr1"), "chr1");
        assert_eq!(escape_seqid("scaffold_1|x:2-3"), "scaffold_1|x:2-3");
        assert_eq!(escape_seqid("a b;c%d>é"), "a%20b%3Bc%25d%3E%C3%A9");
    }
}
