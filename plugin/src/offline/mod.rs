//! Offline jobs on the engine: reading audio files, analysing them (one file or an album),
//! rendering a file through the simulation, and the engine with an inline designer they share.
//! Front ends (the CLI, tests) call these; nothing here runs on the audio thread.

pub mod aifc;
pub mod analysis;
pub mod audio_file;
pub mod chart_style;
pub mod engine;
pub mod figure;
pub mod history;
pub mod impedance;
pub mod output;
pub mod render;
pub mod stimulus;
pub mod week;
