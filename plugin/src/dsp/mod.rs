//! The audio-thread core: per-block code only. Nothing here allocates, locks or blocks after
//! construction, and nothing here knows the plugin framework: the plugin, the CLI and the tests
//! drive the same [`Engine`]. Filters arrive designed, as `Copy` values from `design/`; imports
//! point down only (`model`, `design`), never to `offline` or a front end.
//!
//! Memory per instance (stereo): the true-peak buffers (≈ 2 × 2.3 KB), the shared interpolator
//! table (12 KB, once per process), the loudness ring (600 × 16 B) and its two histograms
//! (2 × 4500 × 16 B = 144 KB) and the first hour of gating blocks (36 000 × 8 B = 288 KB), the
//! audition's bank state for 8 channels (8 × 0.4 KB) and scratch
//! (4 KB), the bypass crossfade's dry copy (8 × 512 × 4 B = 16 KB), the SPL meter (≈ 6 KB) and
//! the calibration noise's two periods (512 KB): about 1 MB, fixed at construction, whatever
//! the session length.

pub mod audition;
pub mod ballistics;
pub mod bank;
pub mod engine;
pub mod exposure;
pub mod frame;
pub mod gain;
pub mod guard;
pub mod history;
pub mod history_feed;
pub mod k_weighting;
pub mod level;
pub mod limits;
pub mod link;
pub mod loudness;
pub mod meter;
pub mod overs;
pub mod pink;
pub mod pressure;
pub mod simd;
pub mod spl;
pub mod takeover;
pub mod tone;
pub mod true_peak;
pub mod weighting;

pub use engine::{BYPASS_RAMP_MS, Engine, EngineSettings, StageSettings};
pub use frame::{Collector, EngineFrame, MeterSink, PendingRequests};
pub use gain::{GainRamp, TRIM_RAMP_MS};
pub use limits::MAX_CHANNELS;
pub use link::{MeterReceiver, MeterSender, meter_link};
pub use meter::{Meter, MeterFrame};
pub use overs::OverEvent;
