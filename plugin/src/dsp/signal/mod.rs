//! The signal room: what the plugin plays instead of, or on top of, the monitor feed: the
//! calibration tone ([`tone`]), pink noise ([`pink`]), the click-free switch between them and
//! the input ([`takeover`]), and the output trim's gain ramp ([`gain`]).

pub mod gain;
pub mod pink;
pub mod takeover;
pub mod tone;
