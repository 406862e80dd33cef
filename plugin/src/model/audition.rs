//! Auditioning a chain (docs/audition.md): what the user's real *rig* must be fed so that it sounds as
//! an *audition* chain (another source, attenuator and cable in front of the same IEM) would.
//!
//! The relative response is `F(f) = E_a·H_a(f) / (E_r·H_r(f))` with `H = V_iem/V_EMF` of each chain
//! and `E` the EMF of a full-scale sine at each source's volume. Played through the rig (which
//! applies `E_r·H_r`), the ear gets `E_a·H_a`: the auditioned chain. In *coloration* mode the level
//! is matched instead, so only the change of shape is heard; in *level* mode the level change is
//! kept, but never a boost above the user's ceiling.
//!
//! Pure model code: it may allocate; `dsp::design` turns it into a filter off the audio thread.

use serde::{Deserialize, Serialize};

use super::attenuator::Network;
use super::chain::{BAND_START_HZ, BAND_STOP_HZ, REFERENCE_HZ, log_grid};
use super::iem::Ear;
use super::units::Range;
use super::{Attenuator, Cable, Chain, Complex64, Source, db};
use crate::model::weighting::k_weighting_gain;

/// Source output impedance an audition chain may have, Ω (an ideal source to a 120 Ω IEC 61938
/// output with margin).
pub const OUTPUT_OHMS: Range = Range::new(0.0, 300.0);
/// Series resistance of an audition attenuator or adapter, Ω (0 = none).
pub const SERIES_OHMS: Range = Range::new(0.0, 1000.0);
/// Shunt resistance of an audition L-pad, Ω; the top of the range means "no shunt".
pub const SHUNT_OHMS: Range = Range::new(0.5, 10_000.0);
/// Source volume of an audition chain, dB.
pub const VOLUME_DB: Range = Range::new(-60.0, 12.0);
/// The largest boost the audition may apply at any frequency, dB.
pub const CEILING_DB: Range = Range::new(0.0, 24.0);
/// Default ceiling: +6 dB.
pub const DEFAULT_CEILING_DB: f64 = 6.0;

/// Below this the audition does not try to undo a DC-blocking capacitor of the rig: the inverse
/// of its high-pass would need infinite gain at DC. 4 Hz keeps the error at 20 Hz under 0.2 dB.
pub const RIG_HIGHPASS_UNDO_FLOOR_HZ: f64 = 4.0;

/// How the level of the audition relates to the rig's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Level-matched: only the change of shape is heard.
    #[default]
    Coloration,
    /// With the level change the audition chain causes (within the ceiling).
    Level,
}

/// What "matched level" means in coloration mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelMatch {
    /// Pink noise (20 Hz–20 kHz) has equal K-weighted (BS.1770) loudness through both.
    #[default]
    PinkLoudness,
    /// Equal level at 1 kHz.
    OneKilohertz,
}

/// The parts of an audition chain in front of the rig's IEM: a source, an attenuator, a cable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditionChain {
    pub source: Source,
    pub attenuator: Attenuator,
    #[serde(default)]
    pub cable: Cable,
}

impl AuditionChain {
    /// Checks every part; the first problem is named with its field and allowed range.
    pub fn validate(&self) -> Result<(), super::units::ValueError> {
        self.source.validate()?;
        self.attenuator.validate()?;
        self.cable.validate()
    }

    /// The rig's own source, attenuator and cable: auditioning it changes nothing.
    pub fn from_rig(rig: &Chain) -> Self {
        Self {
            source: rig.source.clone(),
            attenuator: rig.attenuator.clone(),
            cable: rig.cable,
        }
    }

    /// These parts in front of `rig`'s IEM.
    pub fn on(&self, rig: &Chain) -> Chain {
        Chain {
            source: self.source.clone(),
            attenuator: self.attenuator.clone(),
            cable: self.cable,
            iem: rig.iem.clone(),
        }
    }

    /// The live values (what the host automates) applied: output impedance, volume, and the
    /// attenuator as a series resistance, a shunt (`None` = open) and the capacitor across the
    /// series resistor that the stored attenuator has, if any.
    pub fn with_values(&self, values: &ChainValues) -> Self {
        let mut chain = self.clone();
        chain.source.output_ohms = values.output_ohms;
        chain.source.volume_db = values.volume_db;
        let capacitor_nf = match self.attenuator.network {
            Network::SeriesRc { nanofarads, .. } => Some(nanofarads),
            _ => None,
        };
        chain.attenuator.network = match (values.shunt_ohms, capacitor_nf) {
            (Some(shunt_ohms), _) => Network::LPad {
                series_ohms: values.series_ohms,
                shunt_ohms,
            },
            (None, Some(nanofarads)) => Network::SeriesRc {
                ohms: values.series_ohms,
                nanofarads,
            },
            (None, None) if values.series_ohms > 0.0 => Network::Series {
                ohms: values.series_ohms,
            },
            (None, None) => Network::None,
        };
        chain
    }

    /// The live values this chain has now (the inverse of [`Self::with_values`]).
    pub fn values(&self) -> ChainValues {
        let (series_ohms, shunt_ohms) = self.attenuator.resistances();
        ChainValues {
            output_ohms: self.source.output_ohms,
            series_ohms,
            shunt_ohms,
            volume_db: self.source.volume_db,
        }
    }
}

/// The values of an audition chain a user tweaks or automates live.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainValues {
    pub output_ohms: f64,
    pub series_ohms: f64,
    /// `None`: no shunt resistor (a series adapter or no attenuator).
    pub shunt_ohms: Option<f64>,
    pub volume_db: f64,
}

/// Everything that decides the audition filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Audition {
    /// The chain the user really listens through.
    pub rig: Chain,
    /// The auditioned chain (the rig's IEM behind other parts).
    pub chain: Chain,
    pub mode: Mode,
    pub level_match: LevelMatch,
    /// Largest boost at any frequency, dB.
    pub ceiling_db: f64,
}

/// The gain an audition applies besides the change of shape, and what the ceiling did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AuditionGain {
    /// Gain applied to `H_a/H_r` (the level match in coloration mode, the EMF ratio in level
    /// mode, less any boost held back), dB.
    pub gain_db: f64,
    /// How much the ceiling reduced the level, dB (0 when it did nothing).
    pub held_back_db: f64,
    /// Largest boost of the filter at any frequency after the ceiling, dB.
    pub max_boost_db: f64,
    /// Level change at 1 kHz the ear gets from the audition, dB.
    pub level_at_1k_db: f64,
}

impl Audition {
    /// The audition through one earpiece: the rig and the auditioned chain both on its impedance.
    pub fn ear(&self, ear: Ear) -> Audition {
        Audition {
            rig: self.rig.ear(ear),
            chain: self.chain.ear(ear),
            ..self.clone()
        }
    }
}

impl Audition {
    /// `H_a(f)/H_r(f)`: the change of shape and level of the IEM voltage per volt of EMF.
    pub fn shape(&self, hz: f64) -> Complex64 {
        self.chain.transfer(hz) / self.rig.transfer(hz)
    }

    /// The level ratio of the two sources' EMFs at full scale, dB.
    fn emf_ratio_db(&self) -> f64 {
        db(self.chain.source.emf_at_full_scale_volts() / self.rig.source.emf_at_full_scale_volts())
    }

    /// The gain that matches the level in coloration mode, dB.
    fn match_gain_db(&self) -> f64 {
        match self.level_match {
            LevelMatch::OneKilohertz => -db(self.shape(REFERENCE_HZ).norm()),
            LevelMatch::PinkLoudness => {
                // Pink noise has equal power per octave: on a log grid every point weighs the same
                // (density 1/f times Δf ∝ f). K-weighting per BS.1770 at 48 kHz, its defining rate.
                let grid = log_grid(BAND_START_HZ, BAND_STOP_HZ, 48.0);
                let (mut rig, mut audition) = (0.0, 0.0);
                for &hz in &grid {
                    let k = k_weighting_gain(hz, 48_000.0).powi(2);
                    rig += k * self.rig.transfer(hz).norm_sqr();
                    audition += k * self.chain.transfer(hz).norm_sqr();
                }
                10.0 * (rig / audition).log10()
            }
        }
    }

    /// The frequencies the ceiling is checked on: the audible band, where the boost is heard.
    fn ceiling_grid() -> Vec<f64> {
        log_grid(BAND_START_HZ, BAND_STOP_HZ, 96.0)
    }

    /// The gain besides the shape, with the ceiling applied.
    pub fn gain(&self) -> AuditionGain {
        let wanted_db = match self.mode {
            Mode::Coloration => self.match_gain_db(),
            Mode::Level => self.emf_ratio_db(),
        };
        let peak_shape_db = Self::ceiling_grid()
            .iter()
            .map(|&hz| db(self.shape(hz).norm()) + self.highpass_floor_db(hz))
            .fold(f64::NEG_INFINITY, f64::max);
        let held_back_db = (wanted_db + peak_shape_db - self.ceiling_db).max(0.0);
        let gain_db = wanted_db - held_back_db;
        AuditionGain {
            gain_db,
            held_back_db,
            max_boost_db: gain_db + peak_shape_db,
            level_at_1k_db: gain_db + db(self.shape(REFERENCE_HZ).norm()),
        }
    }

    /// The whole relative response the audition filter realises: `gain · H_a/H_r` (`gain` linear,
    /// from [`Self::gain`], computed once by the caller: the designer evaluates thousands of
    /// points), with the rig's DC-blocking capacitor undone only down to
    /// [`RIG_HIGHPASS_UNDO_FLOOR_HZ`].
    pub fn response_with_gain(&self, hz: f64, gain: f64) -> Complex64 {
        let mut f = self.shape(hz) * gain;
        if let Some(corner_hz) = self.floor_corner_hz() {
            f *= first_order_highpass(hz, corner_hz);
        }
        f
    }

    /// The floor high-pass applies only when the rig blocks DC and the audition does not.
    fn floor_corner_hz(&self) -> Option<f64> {
        match self.highpass_corners_hz() {
            (None, Some(_)) => Some(RIG_HIGHPASS_UNDO_FLOOR_HZ),
            _ => None,
        }
    }

    fn highpass_floor_db(&self, hz: f64) -> f64 {
        self.floor_corner_hz()
            .map_or(0.0, |c| db(first_order_highpass(hz, c).norm()))
    }

    /// Corners of the DC-blocking capacitors of (audition, rig), Hz: `1/(2π·C·R)` with `R` the
    /// resistance the capacitor sees at DC (source resistance plus the load it drives).
    pub fn highpass_corners_hz(&self) -> (Option<f64>, Option<f64>) {
        (
            highpass_corner_hz(&self.chain),
            highpass_corner_hz(&self.rig),
        )
    }
}

/// `jω/(jω + ωc)`: a first-order high-pass (a series capacitor into a resistance).
pub fn first_order_highpass(hz: f64, corner_hz: f64) -> Complex64 {
    let s = Complex64::new(0.0, hz);
    s / (s + corner_hz)
}

/// The corner of a chain's coupling capacitor, if its source has one.
pub fn highpass_corner_hz(chain: &Chain) -> Option<f64> {
    let farads = chain.source.coupling_uf? * 1e-6;
    // At DC the load is resistive; 0.1 Hz is far below any IEM's reactances.
    let load_ohms = chain.at(0.1).z_in.re;
    let loop_ohms = chain.source.output_ohms + load_ohms;
    Some(1.0 / (std::f64::consts::TAU * farads * loop_ohms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Iem, Sensitivity};

    fn resistive_rig(iem_ohms: f64) -> Chain {
        Chain {
            source: Source::ideal(1.0),
            attenuator: Attenuator::none(),
            cable: Cable::default(),
            iem: Iem::resistive(iem_ohms, Sensitivity::DbPerMw(110.0)),
        }
    }

    fn audition(rig: &Chain, series_ohms: f64, mode: Mode) -> Audition {
        let values = ChainValues {
            output_ohms: series_ohms,
            series_ohms: 0.0,
            shunt_ohms: None,
            volume_db: 0.0,
        };
        Audition {
            rig: rig.clone(),
            chain: AuditionChain::from_rig(rig).with_values(&values).on(rig),
            mode,
            level_match: LevelMatch::PinkLoudness,
            ceiling_db: DEFAULT_CEILING_DB,
        }
    }

    mod gain {
        use super::*;

        /// A resistive divider: 10 Ω into 10 Ω is −6.02 dB at every frequency; level mode keeps
        /// it, coloration mode matches it away exactly (a flat shape has equal loudness).
        #[test]
        fn resistive_divider() {
            let rig = resistive_rig(10.0);
            let level = audition(&rig, 10.0, Mode::Level).gain();
            assert!((level.level_at_1k_db + 6.020_6).abs() < 1e-4);
            assert_eq!(level.held_back_db, 0.0);
            let coloration = audition(&rig, 10.0, Mode::Coloration).gain();
            assert!((coloration.gain_db - 6.020_6).abs() < 1e-4);
            assert!(coloration.level_at_1k_db.abs() < 1e-9);
        }

        /// The inverse: the rig has the 10 Ω source, the audition is ideal, so level mode would
        /// boost by 6.02 dB; a 3 dB ceiling holds back 3.02 dB.
        #[test]
        fn ceiling_holds_back_a_boost() {
            let mut rig = resistive_rig(10.0);
            rig.source.output_ohms = 10.0;
            let mut a = audition(&rig, 0.0, Mode::Level);
            a.ceiling_db = 3.0;
            let gain = a.gain();
            assert!((gain.held_back_db - 3.020_6).abs() < 1e-4, "{gain:?}");
            assert!((gain.max_boost_db - 3.0).abs() < 1e-9);
        }
    }

    mod values {
        use super::*;

        #[test]
        fn round_trip_through_every_topology() {
            let rig = resistive_rig(16.0);
            let base = AuditionChain::from_rig(&rig);
            for shunt_ohms in [None, Some(2.2)] {
                for series_ohms in [0.0, 33.0] {
                    let values = ChainValues {
                        output_ohms: 4.7,
                        series_ohms,
                        shunt_ohms,
                        volume_db: -3.0,
                    };
                    let chain = base.with_values(&values);
                    let back = chain.values();
                    assert_eq!(back.shunt_ohms, shunt_ohms);
                    assert_eq!(back.series_ohms, series_ohms);
                    assert_eq!(back.output_ohms, 4.7);
                    assert_eq!(back.volume_db, -3.0);
                }
            }
        }
    }

    mod corners {
        use super::*;

        /// 220 µF into 2 Ω + 16 Ω: 1/(2π·220e-6·18) = 40.1906 Hz.
        #[test]
        fn coupling_capacitor() {
            let mut rig = resistive_rig(16.0);
            rig.source.output_ohms = 2.0;
            rig.source.coupling_uf = Some(220.0);
            let a = audition(&resistive_rig(16.0), 0.0, Mode::Level);
            let corner = highpass_corner_hz(&rig).unwrap();
            assert!((corner - 40.190_64).abs() < 1e-4, "{corner}");
            assert_eq!(a.highpass_corners_hz(), (None, None));
        }
    }
}
