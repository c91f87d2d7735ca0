//! Single-threaded FASTQ parse throughput of seqflow-seqio and peer crates on one file.
//!
//! ```text
//! cd bench/parsers && cargo run --release -- [--runs N] [--only a,b] FILE
//! ```
//!
//! Every parser visits every record, touching its id, sequence and quality, and reports the
//! number of records, sequence bases and quality bytes; the harness asserts that all parsers
//! agree before printing anything. Runs are interleaved (run 1 of every parser, then run 2, …)
//! so drift on a shared machine hits all parsers alike. Throughput is file bytes / wall time
//! (GB = 10^9 bytes); CPU is user + system time of the whole process during the run, which
//! shows parsers that read ahead on a second thread; on a busy machine bytes per CPU-second is
//! the steadier figure for single-threaded parsers, since it leaves out time spent descheduled.

use std::error::Error;
use std::fs::File;
use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// What each parser reports; all parsers must produce the same totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Totals {
    records: u64,
    /// Sum of sequence lengths; `None` for baselines that do not parse records.
    bases: Option<u64>,
    /// Sum of quality lengths; `None` likewise.
    qual: Option<u64>,
}

impl Totals {
    fn add(&mut self, id: &[u8], seq: &[u8], qual: Option<&[u8]>) {
        black_box(id);
        self.records += 1;
        *self.bases.get_or_insert(0) += seq.len() as u64;
        *self.qual.get_or_insert(0) += qual.map_or(0, |q| q.len()) as u64;
    }

    fn parsed() -> Self {
        Self { records: 0, bases: Some(0), qual: Some(0) }
    }
}

struct Parser {
    name: &'static str,
    note: &'static str,
    run: fn(&Path) -> Result<Totals>,
}

fn parsers() -> Vec<Parser> {
    let mut list = vec![
        Parser {
            name: "memchr newline count",
            note: "baseline: read(2) 1 MiB blocks + memchr, no parsing",
            run: memchr_lines,
        },
        Parser { name: "seq_io 0.3", note: "fastq::Reader, record refs", run: seq_io },
        Parser { name: "needletail 0.7", note: "parse_fastx_file, raw_seq", run: needletail },
        Parser { name: "paraseq 0.6", note: "fastq::Reader + RecordSet", run: paraseq },
        Parser {
            name: "helicase 1.2 (file)",
            note: "from_file: reads ahead on a 2nd thread",
            run: helicase_file,
        },
        Parser {
            name: "helicase 1.2 (reader)",
            note: "from_reader(File): one thread",
            run: helicase_reader,
        },
        Parser { name: "helicase 1.2 (mmap)", note: "from_file_mmap", run: helicase_mmap },
    ];
    if let Some(seqflow) = seqflow() {
        list.push(seqflow);
    }
    list
}

fn memchr_lines(path: &Path) -> Result<Totals> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
    Ok(Totals { records: lines / 4, bases: None, qual: None })
}

fn seq_io(path: &Path) -> Result<Totals> {
    use seq_io::fastq::Record;
    let mut reader = seq_io::fastq::Reader::from_path(path)?;
    let mut totals = Totals::parsed();
    while let Some(record) = reader.next() {
        let record = record?;
        totals.add(record.head(), record.seq(), Some(record.qual()));
    }
    Ok(totals)
}

fn needletail(path: &Path) -> Result<Totals> {
    let mut reader = needletail::parse_fastx_file(path)?;
    let mut totals = Totals::parsed();
    while let Some(record) = reader.next() {
        let record = record?;
        totals.add(record.id(), record.raw_seq(), record.qual());
    }
    Ok(totals)
}

fn paraseq(path: &Path) -> Result<Totals> {
    use paraseq::Record;
    let mut reader = paraseq::fastq::Reader::new(File::open(path)?);
    let mut set = reader.new_record_set();
    let mut totals = Totals::parsed();
    while set.fill(&mut reader)? {
        for record in set.iter() {
            let record = record?;
            totals.add(record.id(), record.seq_raw(), record.qual());
        }
    }
    Ok(totals)
}

const HELICASE: helicase::Config = helicase::ParserOptions::default().compute_quality().config();

fn helicase_loop(mut parser: helicase::FastxParser<'_, HELICASE>) -> Result<Totals> {
    use helicase::HelicaseParser;
    let mut totals = Totals::parsed();
    while let Some(event) = parser.next() {
        event?;
        totals.add(parser.get_header(), parser.get_dna_string(), parser.get_quality());
    }
    Ok(totals)
}

fn helicase_file(path: &Path) -> Result<Totals> {
    use helicase::input::FromFile;
    helicase_loop(helicase::FastxParser::from_file(path)?)
}

fn helicase_reader(path: &Path) -> Result<Totals> {
    use helicase::input::FromReader;
    helicase_loop(helicase::FastxParser::from_reader(File::open(path)?)?)
}

fn helicase_mmap(path: &Path) -> Result<Totals> {
    use helicase::input::FromMmap;
    helicase_loop(helicase::FastxParser::from_file_mmap(path)?)
}

#[cfg(feature = "seqflow")]
fn seqflow() -> Option<Parser> {
    fn run(path: &Path) -> Result<Totals> {
        use seqflow_seqio::{Batch, Reader, ReaderOptions};
        let mut reader = Reader::from_path(path, ReaderOptions::default())?;
        let mut batch = Batch::default();
        let mut totals = Totals::parsed();
        while reader.read_batch(&mut batch)? > 0 {
            for record in batch.records() {
                totals.add(record.id(), record.seq_raw(), record.qual());
            }
        }
        Ok(totals)
    }
    Some(Parser { name: "seqflow-seqio", note: "Reader::from_path + Batch", run })
}

#[cfg(not(feature = "seqflow"))]
fn seqflow() -> Option<Parser> {
    None
}

/// User + system CPU time of this process so far (all threads).
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the zeroed struct we pass; RUSAGE_SELF is always valid.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

struct Args {
    runs: usize,
    only: Option<Vec<String>>,
    file: PathBuf,
}

fn parse_args() -> Result<Args> {
    let mut runs = 5;
    let mut only = None;
    let mut file = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().ok_or("--runs needs a value")?.parse()?,
            "--only" => {
                let list = args.next().ok_or("--only needs a value")?;
                only = Some(list.split(',').map(|s| s.trim().to_lowercase()).collect());
            }
            "--help" | "-h" => {
                return Err("usage: seqflow-bench-parsers [--runs N] [--only a,b] FILE".into());
            }
            _ if file.is_none() => file = Some(PathBuf::from(arg)),
            _ => return Err(format!("unexpected argument {arg:?}").into()),
        }
    }
    if runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    let file = file.ok_or("missing FILE (try bench/make_data.sh)")?;
    Ok(Args { runs, only, file })
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let size = std::fs::metadata(&args.file)?.len();
    let mut parsers = parsers();
    if let Some(only) = &args.only {
        parsers.retain(|p| only.iter().any(|o| p.name.to_lowercase().contains(o.as_str())));
    }
    if !cfg!(feature = "seqflow") {
        eprintln!("note: built without feature `seqflow`; seqflow-seqio is not measured");
    }
    eprintln!("file {} ({size} bytes), {} runs per parser", args.file.display(), args.runs);

    let mut walls = vec![Vec::new(); parsers.len()];
    let mut cpus = vec![Vec::new(); parsers.len()];
    let mut totals: Vec<Option<Totals>> = vec![None; parsers.len()];
    for run in 0..args.runs {
        for (i, parser) in parsers.iter().enumerate() {
            let (cpu0, t0) = (cpu_time(), Instant::now());
            let result = (parser.run)(&args.file)
                .map_err(|e| format!("{} failed on {}: {e}", parser.name, args.file.display()))?;
            let (wall, cpu) = (t0.elapsed().as_secs_f64(), (cpu_time() - cpu0).as_secs_f64());
            eprintln!(
                "run {}/{} {:<22} {wall:7.3} s wall {cpu:7.3} s cpu",
                run + 1,
                args.runs,
                parser.name
            );
            match totals[i] {
                None => totals[i] = Some(result),
                Some(previous) => {
                    assert_eq!(previous, result, "{} changed its totals", parser.name)
                }
            }
            walls[i].push(wall);
            cpus[i].push(cpu);
        }
    }

    // Every parser must agree with every other on whatever it reports.
    let reference = totals.iter().flatten().find(|t| t.bases.is_some()).copied();
    for (parser, t) in parsers.iter().zip(&totals) {
        let t = t.expect("every parser ran");
        if let Some(reference) = reference {
            assert_eq!(t.records, reference.records, "{}: record count differs", parser.name);
            if t.bases.is_some() {
                assert_eq!(t, reference, "{}: totals differ", parser.name);
            }
        }
    }
    if let Some(r) = reference {
        assert_eq!(r.bases, r.qual, "sequence and quality totals differ");
        println!(
            "file: {} ({:.3} GB), {} records, {} bases; all parsers agree",
            args.file.display(),
            size as f64 / 1e9,
            r.records,
            r.bases.unwrap_or(0)
        );
    }
    println!("median of {} runs, single consumer thread, file in page cache", args.runs);
    println!();
    println!("| parser | GB/s (median) | min–max GB/s | wall s | CPU s | GB per CPU-s | how |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    for (i, parser) in parsers.iter().enumerate() {
        let gbps: Vec<f64> = walls[i].iter().map(|w| size as f64 / 1e9 / w).collect();
        let (lo, hi) = gbps.iter().fold((f64::MAX, 0f64), |(lo, hi), &g| (lo.min(g), hi.max(g)));
        let wall = median(&mut walls[i].clone());
        let cpu = median(&mut cpus[i].clone());
        println!(
            "| {} | {:.2} | {lo:.2}–{hi:.2} | {wall:.3} | {cpu:.3} | {:.2} | {} |",
            parser.name,
            size as f64 / 1e9 / wall,
            size as f64 / 1e9 / cpu,
            parser.note
        );
    }
    Ok(())
}
