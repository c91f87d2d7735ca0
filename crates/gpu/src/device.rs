//! Opening a device for a counter, and keeping what it reports on its own (errors, loss).

use std::sync::{Arc, Mutex};

use crate::adapter::{Adapter, open_error};
use crate::error::{Error, one_line};

/// A device and queue opened on an [`Adapter`], with the timestamp features when it has them.
pub(crate) struct OpenDevice {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    /// Whether the adapter can write timestamps inside a command encoder (copy and kernel
    /// times for `--metrics`).
    pub(crate) with_timestamps: bool,
    /// Nanoseconds per timestamp tick.
    pub(crate) tick_ns: f64,
    pub(crate) faults: Faults,
}

impl OpenDevice {
    /// Opens a device on `adapter` with wgpu's downlevel limits, asking for timestamps when the
    /// adapter offers them.
    ///
    /// # Errors
    /// [`Error::Open`] when the driver refuses the device.
    pub(crate) fn open(adapter: &Adapter, label: &str) -> Result<OpenDevice, Error> {
        let timestamps =
            wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS;
        let features = adapter.adapter.features() & timestamps;
        let descriptor = wgpu::DeviceDescriptor {
            label: Some(label),
            required_features: features,
            required_limits: wgpu::Limits::downlevel_defaults(),
            ..wgpu::DeviceDescriptor::default()
        };
        let (device, queue) = pollster::block_on(adapter.adapter.request_device(&descriptor))
            .map_err(|error| open_error(adapter, error))?;
        let faults = Faults::watch(&device, adapter.name());
        Ok(OpenDevice {
            tick_ns: f64::from(queue.get_timestamp_period()),
            device,
            queue,
            with_timestamps: features == timestamps,
            faults,
        })
    }
}

/// The first uncaptured error, or the loss, a device reported (instead of wgpu's default of
/// panicking on an error), turned into [`Error::Device`] where the counter next looks.
pub(crate) struct Faults {
    adapter: String,
    first: Arc<Mutex<Option<String>>>,
}

impl Faults {
    fn watch(device: &wgpu::Device, adapter: &str) -> Faults {
        let first = Arc::new(Mutex::new(None));
        let on_error = Arc::clone(&first);
        device.on_uncaptured_error(Box::new(move |error| {
            let mut slot = on_error.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            slot.get_or_insert_with(|| error.to_string());
        }));
        let on_loss = Arc::clone(&first);
        device.set_device_lost_callback(move |reason, message| {
            let mut slot = on_loss.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            // The loss explains the errors it caused, so it replaces them.
            *slot = Some(format!("device lost ({reason:?}): {message}"));
        });
        Faults { adapter: adapter.to_string(), first }
    }

    /// The device's own report of an error or a loss, if it made one.
    pub(crate) fn check(&self) -> Result<(), Error> {
        match self.take() {
            Some(message) => Err(self.error(message)),
            None => Ok(()),
        }
    }

    /// An [`Error::Device`] for a symptom seen by the counter, worded by the device's own
    /// report when it made one (it says more than the symptom).
    pub(crate) fn error(&self, symptom: impl std::fmt::Display) -> Error {
        let message = self.take().unwrap_or_else(|| symptom.to_string());
        Error::Device { adapter: self.adapter.clone(), message: one_line(&message) }
    }

    fn take(&self) -> Option<String> {
        self.first.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take()
    }
}
