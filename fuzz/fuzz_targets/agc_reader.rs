//! Fuzz target: see [`seqflow_fuzz::agc_reader`].
#![cfg_attr(feature = "libfuzzer", no_main)]

#[cfg(feature = "libfuzzer")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| seqflow_fuzz::agc_reader(data));

#[cfg(not(feature = "libfuzzer"))]
fn main() {
    seqflow_fuzz::run_files(seqflow_fuzz::agc_reader);
}
