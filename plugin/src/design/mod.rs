//! From a chain to coefficients, off the audio thread: the fixed-pole fit of the audition and
//! SPL filters, the designer that answers the audio thread's requests, the plugin's designer
//! thread, and the handoff types that cross to the audio side. Everything here may allocate and
//! block; `dsp/` only ever receives the `Copy` values this layer publishes.
//!
//! Imports point down only: `design` uses `model`, never `dsp`, `offline` or a front end.

pub mod bank;
pub mod designer;
pub mod fit;
pub mod handoff;
pub mod spl;
pub mod thread;
