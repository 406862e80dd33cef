//! The audio-thread core: per-block code only. Nothing here allocates, locks or blocks after
//! construction, and nothing here knows the plugin framework: the plugin, the CLI and the tests
//! drive the same [`Engine`]. Filters arrive designed, as `Copy` values from `design/`; imports
//! point down only (`model`, `design`), never to `offline` or a front end.
//!
//! The rooms: [`meter`] (true peak, loudness, overs, ballistics and the loudness history),
//! [`spl`] (the eardrum pressure, its weightings and the exposure) and [`signal`] (what the
//! plugin plays instead of or on top of the input: the calibration tone, pink noise, the trim);
//! at this level the [`Engine`] that runs them in order, the audition's filter [`bank`], the
//! frame and link that carry readings to the editor, the SIMD surface and the limits.
//!
//! Memory per instance (stereo): the true-peak buffers (≈ 2 × 2.3 KB), the shared interpolator
//! table (12 KB, once per process), the loudness ring (600 × 16 B) and its two histograms
//! (2 × 4500 × 16 B = 144 KB) and the first hour of gating blocks (36 000 × 8 B = 288 KB), the
//! audition's bank state for 8 channels (8 × 0.4 KB) and scratch
//! (4 KB), the bypass crossfade's dry copy (8 × 512 × 4 B = 16 KB), the SPL meter (≈ 6 KB) and
//! the calibration noise's two periods (512 KB): about 1 MB, fixed at construction, whatever
//! the session length.

// The shared audio-thread pieces, around the engine.
pub mod audition;
pub mod bank;
pub mod engine;
pub mod frame;
pub mod guard;
pub mod level;
pub mod limits;
pub mod link;
pub mod simd;

// The features, one folder each: they import the shared pieces above and their own folder, never
// one another (the layer check of `cargo xtask test` enforces it); the engine joins them.
pub mod meter;
pub mod signal;
pub mod spl;

pub use engine::{BYPASS_RAMP_MS, Engine, EngineSettings, StageSettings};
pub use frame::{Collector, EngineFrame, MeterSink, PendingRequests};
pub use limits::MAX_CHANNELS;
pub use link::{MeterReceiver, MeterSender, meter_link};
pub use meter::overs::OverEvent;
pub use meter::{Meter, MeterFrame};
pub use signal::gain::{GainRamp, TRIM_RAMP_MS};
