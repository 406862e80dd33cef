//! The engine's fixed sizes, in a leaf module every audio-thread part can name without importing
//! another part.

/// Most channels the engine takes (7.1).
pub const MAX_CHANNELS: usize = 8;
/// Ears metered for delivered SPL: the first two channels (a mono feed is one ear's).
pub const EARS: usize = 2;
