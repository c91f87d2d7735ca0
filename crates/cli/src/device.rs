//! `--device cpu|gpu|auto`: where `seqflow stats` counts quality values and letters (and, with
//! `gpu_cycles`, where `seqflow qc` counts per-position qualities and base content).
//!
//! With the `gpu` cargo feature (on by default) the letters are counted by a
//! [`seqflow_gpu::LetterCounter`]; without it, `--device gpu` is an error and `--device auto`
//! falls back to the CPU. Everything else (parsing, lengths, validation) stays on the CPU.

use anyhow::Result;
use clap::ValueEnum;
use seqflow_qc::Accumulator;
use seqflow_seqio::Batch;

/// Values of `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Device {
    /// Count on the CPU workers.
    Cpu,
    /// Count on the GPU; an error when there is none.
    Gpu,
    /// Count on a hardware GPU when there is one, otherwise on the CPU (with a note on
    /// stderr).
    Auto,
}

/// Memory the GPU counter adds to a command's bound (host and device, see
/// [`seqflow_gpu::LetterCounter::resident_bytes`]); 0 on the CPU.
pub(crate) fn resident_bytes(device: Device) -> u64 {
    match device {
        Device::Cpu => 0,
        #[cfg(feature = "gpu")]
        Device::Gpu | Device::Auto => {
            seqflow_gpu::LetterCounter::resident_bytes(seqflow_gpu::DEFAULT_CHUNK_BYTES)
        }
        #[cfg(not(feature = "gpu"))]
        Device::Gpu | Device::Auto => 0,
    }
}

/// Keeps Mesa's Wayland probe from printing to stderr.
///
/// Mesa's Vulkan drivers look for a Wayland display while wgpu lists adapters, and libwayland
/// prints `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` (twice) when that
/// variable is missing, as on servers and in CI: lines that would break the one-line rule of
/// errors and of `--device auto`'s note. Pointing it at a directory that does not exist makes
/// the probe fail quietly. seqflow starts no other program that could see the change.
///
/// Must be called before any thread is started.
pub(crate) fn quiet_wayland_probe() {
    if cfg!(feature = "gpu") && std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // SAFETY: called at the start of `main`, before any other thread exists, so nothing
        // can read the environment while it changes.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", "/nonexistent/seqflow-no-wayland") };
    }
}

/// The GPU letter counter of a run.
#[cfg(feature = "gpu")]
pub(crate) struct GpuCounter(seqflow_gpu::LetterCounter);

/// Without the `gpu` feature there is never a counter: this type has no values.
#[cfg(not(feature = "gpu"))]
pub(crate) enum GpuCounter {}

/// What the device did for one file, for `--metrics` and `-v`.
#[cfg(feature = "gpu")]
pub(crate) type DeviceMetrics = seqflow_gpu::DeviceMetrics;

/// What the device did for one file (never made without the `gpu` feature).
#[cfg(not(feature = "gpu"))]
#[derive(Debug, serde::Serialize)]
pub(crate) enum DeviceMetrics {}

/// A GPU adapter, as `seqflow-gpu` finds it.
#[cfg(feature = "gpu")]
pub(crate) type Adapter = seqflow_gpu::Adapter;

/// Without the `gpu` feature there is never an adapter: this type has no values.
#[cfg(not(feature = "gpu"))]
pub(crate) enum Adapter {}

/// The adapter `device` asks for: `None` for the CPU, and for `auto` without a hardware GPU
/// (after one line on stderr unless `quiet`). Shared by `stats` and `qc`.
///
/// # Errors
/// `--device gpu` without an adapter, or without the `gpu` feature.
pub(crate) fn choose_adapter(device: Device, quiet: bool) -> Result<Option<Adapter>> {
    match device {
        Device::Cpu => Ok(None),
        Device::Gpu => find_for_gpu().map(Some),
        Device::Auto => Ok(find_for_auto(quiet)),
    }
}

#[cfg(feature = "gpu")]
fn find_for_gpu() -> Result<Adapter> {
    seqflow_gpu::Adapter::find().map_err(|error| anyhow::anyhow!("--device gpu: {error}"))
}

#[cfg(not(feature = "gpu"))]
fn find_for_gpu() -> Result<Adapter> {
    anyhow::bail!("--device gpu: this seqflow was built without GPU support (cargo feature `gpu`)")
}

#[cfg(feature = "gpu")]
fn find_for_auto(quiet: bool) -> Option<Adapter> {
    let note = |why: &str| {
        if !quiet {
            eprintln!("seqflow: {why}; counting on the CPU");
        }
    };
    match seqflow_gpu::Adapter::find() {
        Err(error) => {
            note(&error.to_string());
            None
        }
        Ok(adapter) if adapter.is_software() => {
            // A software renderer is slower than the CPU path it would replace.
            note(&format!("the only GPU adapter, {adapter}, is a software renderer"));
            None
        }
        Ok(adapter) => Some(adapter),
    }
}

#[cfg(not(feature = "gpu"))]
fn find_for_auto(quiet: bool) -> Option<Adapter> {
    if !quiet {
        eprintln!("seqflow: this seqflow was built without GPU support; counting on the CPU");
    }
    None
}

impl GpuCounter {
    /// The counter `device` asks for: `None` for the CPU, and for `auto` without a hardware
    /// GPU (after one line on stderr unless `quiet`).
    ///
    /// # Errors
    /// `--device gpu` without an adapter, or a device that cannot be opened.
    pub(crate) fn open(device: Device, quiet: bool) -> Result<Option<GpuCounter>> {
        choose_adapter(device, quiet)?.map(Self::open_on).transpose()
    }

    #[cfg(feature = "gpu")]
    fn open_on(adapter: Adapter) -> Result<GpuCounter> {
        let counter = seqflow_gpu::LetterCounter::new(adapter, seqflow_gpu::DEFAULT_CHUNK_BYTES)?;
        Ok(GpuCounter(counter))
    }

    #[cfg(not(feature = "gpu"))]
    fn open_on(adapter: Adapter) -> Result<GpuCounter> {
        match adapter {}
    }

    /// Hands the letters of `batch` to the device (which counts them while the caller reads
    /// on).
    #[cfg(feature = "gpu")]
    pub(crate) fn add_batch(&mut self, batch: &Batch) -> Result<()> {
        Ok(self.0.add_batch(batch)?)
    }

    /// Hands the letters of `batch` to the device.
    #[cfg(not(feature = "gpu"))]
    pub(crate) fn add_batch(&mut self, _batch: &Batch) -> Result<()> {
        match *self {}
    }

    /// Waits for the device, adds its counts of everything handed to it since the last call
    /// to `total`, and returns what the device did meanwhile.
    #[cfg(feature = "gpu")]
    pub(crate) fn finish_file(&mut self, total: &mut Accumulator) -> Result<DeviceMetrics> {
        let counts = self.0.take()?;
        total.add_letter_counts(&counts.quality, counts.gc, counts.n, counts.gaps);
        Ok(self.0.take_metrics())
    }

    /// Waits for the device and adds its counts to `total`.
    #[cfg(not(feature = "gpu"))]
    pub(crate) fn finish_file(&mut self, _total: &mut Accumulator) -> Result<DeviceMetrics> {
        match *self {}
    }

    /// Forgets whatever was handed to the device since the last [`finish_file`]
    /// (after a failed file), so that the next file starts from zero.
    ///
    /// [`finish_file`]: GpuCounter::finish_file
    #[cfg(feature = "gpu")]
    pub(crate) fn discard(&mut self) {
        // Errors are ignored: this file has failed already, and a broken device fails the
        // next file again.
        let _ = self.0.take();
        self.0.take_metrics();
    }

    /// Forgets whatever was handed to the device.
    #[cfg(not(feature = "gpu"))]
    pub(crate) fn discard(&mut self) {
        match *self {}
    }
}

/// The device's line of `-v`: where its time went.
#[cfg(feature = "gpu")]
pub(crate) fn describe(metrics: &DeviceMetrics) -> String {
    let device_secs = |secs: Option<f64>| secs.map_or("n/a".to_string(), |s| format!("{s:.3} s"));
    format!(
        "  device {}: {} chunks, {:.1} MB; host packing {:.3} s, waiting {:.3} s; device copy \
         {}, kernel {}\n",
        metrics.adapter,
        metrics.chunks,
        metrics.bytes as f64 / 1e6,
        metrics.pack_secs,
        metrics.wait_secs,
        device_secs(metrics.copy_secs),
        device_secs(metrics.kernel_secs),
    )
}

/// The device's line of `-v` (never made without the `gpu` feature).
#[cfg(not(feature = "gpu"))]
pub(crate) fn describe(metrics: &DeviceMetrics) -> String {
    match *metrics {}
}
