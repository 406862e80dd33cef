//! The engine's fixed sizes, in a leaf module every audio-thread part can name without importing
//! another part.

/// Most channels the engine takes (7.1).
pub const MAX_CHANNELS: usize = 8;
/// Ears metered for delivered SPL and given their own earpiece's filters: the first two channels
/// (a mono feed is the left ear's).
pub use crate::model::iem::EARS;
