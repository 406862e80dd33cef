//! Levels in dB on the audio thread: the conversions and the limits every meter reports within.
//! A leaf module: the meters, ballistics, overs and gain stages all import from here and from
//! nowhere else for these.

/// The level reported for silence, dB.
pub const SILENCE_DB: f32 = -200.0;

/// The highest level reported, dB: `f32::MAX` (an interpolated peak of a signal at the format's
/// largest value can overflow to infinity; it reads as this instead).
pub const CEILING_DB: f32 = 770.6;

/// Linear amplitude to dB (20·log10), floored at [`SILENCE_DB`] and capped at [`CEILING_DB`].
pub fn amplitude_to_db(amplitude: f32) -> f32 {
    if amplitude > 0.0 {
        (20.0 * amplitude.log10()).clamp(SILENCE_DB, CEILING_DB)
    } else {
        SILENCE_DB
    }
}

/// dB to linear amplitude (20·log10 convention).
pub fn db_to_amplitude(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_values() {
        assert_eq!(amplitude_to_db(1.0), 0.0);
        assert_eq!(amplitude_to_db(10.0), 20.0);
        assert_eq!(amplitude_to_db(0.1), -20.0);
        assert_eq!(amplitude_to_db(0.001), -60.0);
        assert_eq!(db_to_amplitude(0.0), 1.0);
        assert_eq!(db_to_amplitude(20.0), 10.0);
        assert_eq!(db_to_amplitude(-40.0), 0.01);
        // −6.0206 dB is half the amplitude: 20·log10(0.5), to f32 precision.
        assert!((amplitude_to_db(0.5) + 6.020_6).abs() < 1e-4);
    }

    #[test]
    fn limits() {
        assert_eq!(amplitude_to_db(0.0), SILENCE_DB);
        assert_eq!(amplitude_to_db(-1.0), SILENCE_DB);
        assert_eq!(amplitude_to_db(f32::NAN), SILENCE_DB);
        assert_eq!(amplitude_to_db(f32::from_bits(1)), SILENCE_DB);
        assert_eq!(amplitude_to_db(f32::INFINITY), CEILING_DB);
        // f32::MAX is 3.4028235e38: 20·log10 of it is 770.63, just above the cap.
        assert_eq!(amplitude_to_db(f32::MAX), CEILING_DB);
    }
}
