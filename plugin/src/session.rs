//! Facts about the running instance that the editor shows: written by the plugin's `activate()`
//! on the main thread, read by the editor. Below both, so the editor never reaches into the crate
//! root that declares it.

use std::sync::atomic::AtomicU32;

use atomic_float::AtomicF32;

/// What the host gave this instance.
#[derive(Debug, Default)]
pub struct SessionInfo {
    /// The sample rate of the last activation, Hz (0 before the first).
    pub sample_rate_hz: AtomicF32,
    /// The channel count of the last activation (0 before the first).
    pub channels: AtomicU32,
}
