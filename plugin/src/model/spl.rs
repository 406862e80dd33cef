//! Sound at the eardrum: the pressure a chain delivers per unit of full scale, the two pressure
//! responses the live meter realises (at the eardrum, and diffuse-field equivalent), the dose
//! criteria, the reference-noise level and the stage leak (docs/spl.md).
//!
//! Formulas only; the streaming meter that uses them is `dsp::spl::exposure`.

use super::chain::{BAND_START_HZ, BAND_STOP_HZ, Chain};
use super::eardrum::diffuse_to_eardrum_db;
use super::from_db;
use super::units::Range;

/// Reference sound pressure, Pa (0 dB SPL).
pub const REFERENCE_PA: f64 = 20e-6;
/// Below this a level reads as silence, dB.
pub const SILENCE_DB: f64 = -200.0;

/// NIOSH REL: 85 dBA for 8 h, 3 dB exchange rate — equal energy: `T = 480/2^((L−85)/3)` min.
pub const NIOSH_CRITERION_DBA: f64 = 85.0;
pub const NIOSH_CRITERION_S: f64 = 8.0 * 3600.0;
/// WHO/ITU-T H.870 weekly allowance: 80 dBA for 40 h, 1.6 Pa²h.
pub const WHO_WEEKLY_PA2H: f64 = 1.6;

/// The reference level's target, dBA at the eardrum for −20 dBFS RMS pink noise.
pub const REFERENCE_DBA: Range = Range::new(60.0, 100.0);
pub const DEFAULT_REFERENCE_DBA: f64 = 83.0;
/// A stage's ambient level, dBA.
pub const AMBIENT_DBA: Range = Range::new(40.0, 130.0);
pub const DEFAULT_AMBIENT_DBA: f64 = 100.0;
/// An IEM's passive isolation, dB (typical seals: 20–37 dB).
pub const ISOLATION_DB: Range = Range::new(0.0, 50.0);
pub const DEFAULT_ISOLATION_DB: f64 = 25.0;

/// Pascals at the eardrum per unit of full scale, at the sensitivity's frequency on an ideal
/// source: `√2·V_fs·g` (the EMF peak of a 0 dBFS sine) × `20 µPa·10^(S_V/20)`. The chain's
/// `|H(f)|` multiplies it (docs/chain.md, "From samples to pascals").
pub fn pascals_per_full_scale(chain: &Chain) -> f64 {
    std::f64::consts::SQRT_2
        * chain.source.emf_at_full_scale_volts()
        * REFERENCE_PA
        * from_db(chain.iem.sensitivity_db_per_volt())
}

/// The eardrum pressure's response per unit of `pascals_per_full_scale`: the chain's electrical
/// `|H(f)|` times the IEM's tuning, `10^((R(f) − R(1 kHz))/20)` ([`crate::model::Iem::tuning_db`]):
/// the sensitivity is the 1 kHz figure (a coupler's, which stands for the eardrum there), the
/// tuning the shape around it.
pub fn eardrum_magnitude(chain: &Chain, hz: f64) -> f64 {
    chain.transfer(hz).norm() * from_db(chain.iem.tuning_db(hz))
}

/// The diffuse-field-equivalent pressure's response: `|H(f)|` less the diffuse-field → eardrum
/// transfer, band by band, before any weighting (what exposure criteria are written for).
pub fn diffuse_magnitude(chain: &Chain, hz: f64) -> f64 {
    eardrum_magnitude(chain, hz) * from_db(-diffuse_to_eardrum_db(hz))
}

/// Mean-square pressure of a level, Pa².
pub fn mean_square_pa2(level_db: f64) -> f64 {
    REFERENCE_PA * REFERENCE_PA * 10f64.powf(level_db / 10.0)
}

/// The level of a mean-square pressure, dB ([`SILENCE_DB`] for none).
pub fn level_db(mean_square_pa2: f64) -> f64 {
    if mean_square_pa2 > 0.0 {
        10.0 * (mean_square_pa2 / (REFERENCE_PA * REFERENCE_PA)).log10()
    } else {
        SILENCE_DB
    }
}

/// The energetic sum of two levels, dB.
pub fn energetic_sum_db(a_db: f64, b_db: f64) -> f64 {
    level_db(mean_square_pa2(a_db) + mean_square_pa2(b_db))
}

/// The mean level of an energy spread over `seconds`, dB re 20 µPa (silence when nothing was
/// measured).
pub fn mean_level_db(energy_pa2s: f64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        level_db(energy_pa2s / seconds)
    } else {
        SILENCE_DB
    }
}

/// NIOSH dose per second at a steady `level_dba`, %: 100 % / T with `T = 8 h / 2^((L − 85)/3)`
/// (NIOSH 1998, "Criteria for a recommended standard: occupational noise exposure", eq. 1-1
/// and 1-2).
pub fn niosh_percent_per_s(level_dba: f64) -> f64 {
    100.0 / (NIOSH_CRITERION_S / 2f64.powf((level_dba - NIOSH_CRITERION_DBA) / 3.0))
}

/// A-weighted energy (Pa²s) as a percentage of the WHO/ITU-T H.870 weekly allowance, 1.6 Pa²h.
pub fn who_dose_percent(energy_pa2s: f64) -> f64 {
    100.0 * energy_pa2s / 3600.0 / WHO_WEEKLY_PA2H
}

/// Seconds at a steady level until a dose that is now `dose_percent` reaches 100 %, given the
/// percentage one second at that level adds. Infinite in silence; zero once the dose is spent.
fn time_to_full_s(dose_percent: f64, percent_per_s: f64) -> f64 {
    if dose_percent >= 100.0 {
        0.0
    } else if percent_per_s <= 0.0 {
        f64::INFINITY
    } else {
        (100.0 - dose_percent) / percent_per_s
    }
}

/// Seconds at `level_dba` until the NIOSH dose reaches 100 % from `dose_percent`.
pub fn niosh_time_to_full_s(dose_percent: f64, level_dba: f64) -> f64 {
    time_to_full_s(dose_percent, niosh_percent_per_s(level_dba))
}

/// Seconds at `level_dba` until the WHO weekly dose reaches 100 % from `dose_percent`.
pub fn who_time_to_full_s(dose_percent: f64, level_dba: f64) -> f64 {
    time_to_full_s(dose_percent, who_dose_percent(mean_square_pa2(level_dba)))
}

/// The built-in calibration noise's bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinkBand {
    /// 20 Hz–20 kHz.
    Full,
    /// 500 Hz–2 kHz (the band film and broadcast calibrations use).
    Mid,
}

impl PinkBand {
    /// The band's edges, Hz.
    pub fn edges_hz(self) -> (f64, f64) {
        match self {
            PinkBand::Full => (BAND_START_HZ, BAND_STOP_HZ),
            PinkBand::Mid => (500.0, 2000.0),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PinkBand::Full => "pink 20 Hz–20 kHz",
            PinkBand::Mid => "pink 500 Hz–2 kHz",
        }
    }
}

/// The reference level: what the rig delivers for −20 dBFS RMS pink noise (AES17 full scale: a
/// full-scale sine is 0 dBFS RMS), as LAeq at the eardrum, against the user's target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceLevel {
    pub target_dba: f64,
    pub delivered_dba: f64,
    /// The change of the source's volume that brings the delivered level to the target, dB.
    pub volume_change_db: f64,
    /// The volume the source would be set to, dB.
    pub volume_needed_db: f64,
}

impl ReferenceLevel {
    pub fn new(chain: &Chain, band: PinkBand, target_dba: f64) -> Self {
        let delivered_dba = chain.pink_laeq_dba(band.edges_hz());
        let volume_change_db = target_dba - delivered_dba;
        Self {
            target_dba,
            delivered_dba,
            volume_change_db,
            volume_needed_db: chain.source.volume_db + volume_change_db,
        }
    }
}

/// Stage mode: ambient sound leaking past the IEM's seal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// The stage's ambient level, dBA (a sound-field figure).
    pub ambient_dba: f64,
    /// The IEM's passive isolation, dB.
    pub isolation_db: f64,
}

impl Stage {
    /// The isolation a stage uses: the IEM's catalog figure when there is one and the user
    /// prefers it, else the user's.
    pub fn isolation_db(catalog_db: Option<f64>, user_db: f64, prefer_catalog: bool) -> f64 {
        match catalog_db {
            Some(catalog) if prefer_catalog => catalog,
            _ => user_db,
        }
    }

    /// The ambient level that reaches the ear past the seal, dBA (diffuse-field equivalent, like
    /// the ambient figure it comes from).
    pub fn leak_dba(&self) -> f64 {
        self.ambient_dba - self.isolation_db
    }

    /// How far the monitor mix (diffuse-field equivalent, dBA) sits above the leak, dB.
    pub fn margin_db(&self, monitor_dba: f64) -> f64 {
        monitor_dba - self.leak_dba()
    }

    /// The exposure of monitor and leak together, dBA: their energetic sum.
    pub fn combined_dba(&self, monitor_dba: f64) -> f64 {
        energetic_sum_db(monitor_dba, self.leak_dba())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 85 dBA for 8 h is 100 % NIOSH; 88 dBA for 4 h too (3 dB exchange); 94 dBA for 1 h too
    /// (three halvings); 100 dBA is allowed 480/2^5 = 15 min; 80 dBA for 40 h is 100 % WHO
    /// (1.6 Pa²h); 83 dBA, twice the power of 80, uses it in 40 h / 10^0.3.
    #[test]
    fn dose_criteria() {
        assert!((niosh_percent_per_s(85.0) * 8.0 * 3600.0 - 100.0).abs() < 1e-9);
        assert!((niosh_percent_per_s(88.0) * 4.0 * 3600.0 - 100.0).abs() < 1e-9);
        assert!((niosh_percent_per_s(94.0) * 3600.0 - 100.0).abs() < 1e-9);
        assert!((niosh_time_to_full_s(0.0, 100.0) - 15.0 * 60.0).abs() < 1e-6);
        assert!((niosh_time_to_full_s(50.0, 100.0) - 7.5 * 60.0).abs() < 1e-6);
        assert_eq!(niosh_time_to_full_s(100.0, 100.0), 0.0);
        assert!(
            niosh_time_to_full_s(10.0, SILENCE_DB) > 1e20,
            "silence never fills a dose"
        );
        assert!((who_dose_percent(mean_square_pa2(80.0) * 40.0 * 3600.0) - 100.0).abs() < 1e-9);
        let expected = 40.0 * 3600.0 / 10f64.powf(0.3);
        assert!((who_time_to_full_s(0.0, 83.0) - expected).abs() < 1e-6);
    }

    /// Two equal levels sum to +3.01 dB; a leak 10 dB under the mix adds 0.41 dB; the margin
    /// and the leak are plain differences.
    #[test]
    fn stage_arithmetic() {
        assert!((energetic_sum_db(90.0, 90.0) - (90.0 + 10.0 * 2f64.log10())).abs() < 1e-9);
        let stage = Stage {
            ambient_dba: 110.0,
            isolation_db: 30.0,
        };
        assert_eq!(stage.leak_dba(), 80.0);
        assert_eq!(stage.margin_db(90.0), 10.0);
        assert!((stage.combined_dba(90.0) - (90.0 + 10.0 * 1.1f64.log10())).abs() < 1e-9);
    }

    #[test]
    fn levels_round_trip() {
        for l in [-20.0, 0.0, 94.0, 140.0] {
            assert!((level_db(mean_square_pa2(l)) - l).abs() < 1e-9);
        }
        // 1 Pa RMS is 20·log10(1/20 µPa) = 93.98 dB SPL.
        assert!((level_db(1.0) - 93.979_4).abs() < 1e-4);
        assert_eq!(level_db(0.0), SILENCE_DB);
    }
}
