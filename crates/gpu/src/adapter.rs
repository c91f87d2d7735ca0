//! Finding a GPU: the adapter wgpu ranks first among the native backends.

use std::fmt;

use crate::error::Error;

/// A GPU (or a software renderer exposed as one, such as Mesa's lavapipe) that can run the
/// counters.
pub struct Adapter {
    pub(crate) adapter: wgpu::Adapter,
    pub(crate) info: wgpu::AdapterInfo,
}

impl Adapter {
    /// The adapter wgpu prefers (discrete before integrated before software) among Vulkan,
    /// Metal and DX12 drivers, whichever this platform has.
    ///
    /// The usual wgpu environment variables apply (`WGPU_BACKEND`, `WGPU_ADAPTER_NAME`), and so
    /// do the drivers' own (`VK_ICD_FILENAMES` chooses Vulkan drivers).
    ///
    /// # Errors
    /// [`Error::NoAdapter`] when no driver offers a device.
    pub fn find() -> Result<Adapter, Error> {
        let instance = wgpu::Instance::new(&wgpu::InstanceDescriptor {
            backends: wgpu::Backends::PRIMARY.with_env(),
            // The same in debug and release builds: no validation layers unless asked for.
            flags: wgpu::InstanceFlags::empty().with_env(),
            ..wgpu::InstanceDescriptor::default()
        });
        let options = wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..wgpu::RequestAdapterOptions::default()
        };
        let adapter =
            pollster::block_on(instance.request_adapter(&options)).map_err(|_| Error::NoAdapter)?;
        let info = adapter.get_info();
        Ok(Adapter { adapter, info })
    }

    /// The device's name, e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// True for a renderer that runs on the CPU (lavapipe, SwiftShader, WARP): correct, but
    /// slower than seqflow's own CPU path.
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }
}

impl fmt::Display for Adapter {
    /// `name (backend, kind)`, e.g. `llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan, software)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.info.device_type {
            wgpu::DeviceType::DiscreteGpu => "discrete",
            wgpu::DeviceType::IntegratedGpu => "integrated",
            wgpu::DeviceType::VirtualGpu => "virtual",
            wgpu::DeviceType::Cpu => "software",
            wgpu::DeviceType::Other => "other",
        };
        write!(f, "{} ({}, {kind})", self.info.name, self.info.backend)
    }
}

impl fmt::Debug for Adapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Adapter").field("info", &self.info).finish()
    }
}

/// Wraps a driver's refusal to open a device.
pub(crate) fn open_error(adapter: &Adapter, error: impl fmt::Display) -> Error {
    Error::Open {
        adapter: adapter.name().to_string(),
        message: crate::error::one_line(&error.to_string()),
    }
}
