//! The one error type of this crate; every message is one line.

/// Errors from finding, opening or using a GPU.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No GPU adapter (Vulkan, Metal or DX12 driver) was found.
    #[error("no GPU adapter found (no Vulkan, Metal or DX12 driver)")]
    NoAdapter,
    /// The adapter refused to open a device with the limits the counters need.
    #[error("cannot open the GPU {adapter}: {message}")]
    Open {
        /// The adapter's name.
        adapter: String,
        /// What the driver said.
        message: String,
    },
    /// The device reported an error (validation, out of memory, internal) or was lost.
    #[error("GPU {adapter}: {message}")]
    Device {
        /// The adapter's name.
        adapter: String,
        /// What the driver said.
        message: String,
    },
}

/// Puts a driver message on one line: wgpu's validation errors span several.
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_put_on_one_line() {
        assert_eq!(
            one_line("Validation Error\n\nCaused by:\n    bad\n"),
            "Validation Error Caused by: bad"
        );
    }
}
