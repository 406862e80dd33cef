//! The whole chain: source → attenuator → cable → IEM, its transfer function
//! `H(f) = V_iem / V_EMF` and the report built on it (docs/chain.md).

use serde::{Deserialize, Serialize};

use super::calibration::{LevelBasis, LevelReading};
use super::iem::{EARS, Ear};
use super::source::{SourceParts, VFS_VOLTS};
use super::units::{Range, ValueError};
use super::weighting::a_weighting_db;
use super::{Attenuator, Complex64, Iem, Source, db, from_db};

/// The grid every response is reported on unless the caller names frequencies.
pub const GRID_START_HZ: f64 = 10.0;
pub const GRID_STOP_HZ: f64 = 24_000.0;
pub const GRID_POINTS_PER_OCTAVE: f64 = 48.0;
/// The band coloration, minimum impedance and hiss are judged over.
pub const BAND_START_HZ: f64 = 20.0;
pub const BAND_STOP_HZ: f64 = 20_000.0;
/// The frequency levels are referred to.
pub const REFERENCE_HZ: f64 = 1000.0;
/// The 1/8 rule: an effective output impedance at most 1/8 of the IEM's minimum |Z| keeps the
/// response within 20·log10(9/8) = 1.02 dB on any load that swings from that minimum upwards.
pub const EIGHTH_RULE_RATIO: f64 = 8.0;
/// Level of the reference pink noise: −20 dBFS RMS, where a full-scale sine is 0 dBFS RMS
/// (AES17), so its RMS EMF is 1/10 of the full-scale sine's.
pub const PINK_REFERENCE_DBFS: f64 = -20.0;
/// The sample rate the digital path's noise floor is figured at, Hz (its white noise spreads
/// over half of it; at 44.1 kHz the floor is 0.37 dB higher, at 96 kHz 3 dB lower).
pub const DITHER_RATE_HZ: f64 = 48_000.0;

/// Frequencies `start·2^(i/per_octave)` up to `stop`, with `stop` itself last.
pub fn log_grid(start_hz: f64, stop_hz: f64, per_octave: f64) -> Vec<f64> {
    let steps = (per_octave * (stop_hz / start_hz).log2()).ceil() as usize;
    let mut grid: Vec<f64> = (0..steps)
        .map(|i| start_hz * 2f64.powf(i as f64 / per_octave))
        .collect();
    grid.push(stop_hz);
    grid
}

/// The default report grid: 10 Hz to 24 kHz, 48 points per octave.
pub fn report_grid() -> Vec<f64> {
    log_grid(GRID_START_HZ, GRID_STOP_HZ, GRID_POINTS_PER_OCTAVE)
}

/// The cable between attenuator and IEM: its loop resistance (both conductors), Ω.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Cable {
    pub ohms: f64,
}

/// A cable's loop resistance, Ω.
pub const CABLE_OHMS: Range = Range::new(0.0, 1e4);
/// The programme true peak a headroom figure is computed for, dBTP (a float programme may
/// exceed full scale).
pub const TRUE_PEAK_DBTP: Range = Range::new(-60.0, 12.0);

impl Cable {
    pub fn validate(&self) -> Result<(), ValueError> {
        CABLE_OHMS.check("cable ohms", self.ohms).map(|_| ())
    }
}

/// The chain's electrical state at one frequency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Operating {
    /// Thevenin impedance driving the IEM (source, attenuator and cable), Ω.
    pub z_th: Complex64,
    /// The IEM's impedance, Ω.
    pub z_iem: Complex64,
    /// `V_iem / V_EMF`.
    pub h: Complex64,
    /// The load the source sees, Ω.
    pub z_in: Complex64,
}

/// One line of a response table: H = V_iem/V_EMF as level (dB) and phase (degrees).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ResponsePoint {
    pub hz: f64,
    pub db: f64,
    pub deg: f64,
}

/// A source, an attenuator, a cable and an IEM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chain {
    pub source: Source,
    pub attenuator: Attenuator,
    #[serde(default)]
    pub cable: Cable,
    pub iem: Iem,
}

impl Chain {
    /// Checks every part; the first problem is named with its field and allowed range.
    pub fn validate(&self) -> Result<(), ValueError> {
        self.source.validate()?;
        self.attenuator.validate()?;
        self.cable.validate()?;
        self.iem.validate()
    }

    /// The chain to one earpiece (its own impedance where the two differ).
    pub fn ear(&self, ear: Ear) -> Chain {
        Chain {
            iem: self.iem.ear(ear),
            ..self.clone()
        }
    }

    /// The chain to each earpiece, left first.
    pub fn ears(&self) -> [Chain; EARS] {
        Ear::BOTH.map(|ear| self.ear(ear))
    }

    /// The same chain on an ideal 0 Ω source with no attenuator and no cable: the reference a
    /// coloration is measured against.
    pub fn reference(&self) -> Chain {
        let mut source = Source::ideal(self.source.vfs_volts);
        source.volume_db = self.source.volume_db;
        Chain {
            source,
            attenuator: Attenuator::none(),
            cable: Cable::default(),
            iem: self.iem.clone(),
        }
    }

    /// Voltages and impedances at `hz`: `H = V_th/V · Z/(Z + Z_th)` (docs/chain.md).
    pub fn at(&self, hz: f64) -> Operating {
        let z_source = self.source.impedance(hz);
        let (ratio, z_th_pad) = self.attenuator.thevenin(z_source, hz);
        let z_th = z_th_pad + self.cable.ohms;
        let z_iem = self.iem.impedance(hz);
        let h = ratio * z_iem / (z_iem + z_th);
        let z_in = self.attenuator.input_impedance(z_iem + self.cable.ohms, hz);
        Operating {
            z_th,
            z_iem,
            h,
            z_in,
        }
    }

    /// `H(f) = V_iem / V_EMF`.
    pub fn transfer(&self, hz: f64) -> Complex64 {
        self.at(hz).h
    }

    /// H at each frequency as (Hz, dB, degrees).
    pub fn response(&self, frequencies: &[f64]) -> Vec<ResponsePoint> {
        frequencies
            .iter()
            .map(|&hz| {
                let h = self.transfer(hz);
                ResponsePoint {
                    hz,
                    db: db(h.norm()),
                    deg: h.arg().to_degrees(),
                }
            })
            .collect()
    }

    /// The chain's coloration as a gain: `f ↦ |H(f)/H(1 kHz)|`, the change of shape with the
    /// level change at 1 kHz taken out (`H(1 kHz)` computed once).
    pub fn coloration(&self) -> impl Fn(f64) -> f64 + '_ {
        let h_ref = self.transfer(REFERENCE_HZ).norm();
        move |hz| self.transfer(hz).norm() / h_ref
    }

    /// The coloration in dB, `20·log10|H(f)/H(1 kHz)|`, at each of `frequencies`.
    pub fn coloration_db(&self, frequencies: &[f64]) -> Vec<f64> {
        let gain = self.coloration();
        frequencies.iter().map(|&hz| db(gain(hz))).collect()
    }

    /// `20·log10|H(1 kHz)|`: the level change the chain causes.
    pub fn level_at_1k_db(&self) -> f64 {
        db(self.transfer(REFERENCE_HZ).norm())
    }

    /// EMF of a 0 dBFS sine, Vrms, at the source's volume.
    fn emf_volts(&self) -> f64 {
        self.source.emf_at_full_scale_volts()
    }

    /// SPL of a 0 dBFS sine at the sensitivity's reference frequency:
    /// `S_V + 20·log10(V_fs·g·|H|)` (docs/chain.md).
    pub fn spl_at_full_scale_db(&self) -> f64 {
        let h = self.transfer(self.iem.sensitivity_ref_hz).norm();
        self.iem.sensitivity_db_per_volt() + db(self.emf_volts() * h)
    }

    /// `Σ density(f)·w(f)·g(f)·Δf` over 20 Hz–20 kHz, with `w` the A-weighting if `a_weighted`
    /// and `g = |H(f)/H(1 kHz)|²·10^(R(f)/10)` if `through_chain`, `R` the IEM's tuning
    /// ([`Iem::tuning_db`], 0 dB at 1 kHz): the power at the eardrum of a spectrum of density
    /// `density` per hertz (white 1, pink 1/f), relative units.
    fn band_power(
        &self,
        band_hz: (f64, f64),
        density: fn(f64) -> f64,
        a_weighted: bool,
        through_chain: bool,
    ) -> f64 {
        let grid = log_grid(band_hz.0, band_hz.1, 96.0);
        let coloration = self.coloration();
        grid.windows(2)
            .map(|pair| {
                let hz = (pair[0] * pair[1]).sqrt();
                let w = if a_weighted {
                    from_db(a_weighting_db(hz)).powi(2)
                } else {
                    1.0
                };
                let g = if through_chain {
                    (coloration(hz) * from_db(self.iem.tuning_db(hz))).powi(2)
                } else {
                    1.0
                };
                density(hz) * (pair[1] - pair[0]) * w * g
            })
            .sum()
    }

    /// Hiss SPL at the eardrum, dBA: the source's A-weighted noise `e_n` (white) through H and
    /// the IEM's tuning, at its sensitivity: `S_V + 20·log10(e_n·|H(1 kHz)|)` corrected by the
    /// A-weighted band power of `|H(f)/H(1 kHz)|²·10^(R(f)/10)` against white noise's (0 dB for a
    /// flat chain on a flat IEM).
    pub fn hiss_spl_dba(&self) -> f64 {
        if self.source.noise_uv <= 0.0 {
            return f64::NEG_INFINITY;
        }
        let white = |_| 1.0;
        let band = (BAND_START_HZ, BAND_STOP_HZ);
        let shaping =
            self.band_power(band, white, true, true) / self.band_power(band, white, true, false);
        let h_ref = self.transfer(REFERENCE_HZ).norm();
        self.iem.sensitivity_db_per_volt()
            + db(self.source.noise_uv * 1e-6 * h_ref)
            + 10.0 * shaping.log10()
    }

    /// The digital path's noise floor at the eardrum, dBA: TPDF-dithered requantisation to the
    /// source's path bit depth N leaves white noise of variance `Δ²/12 + Δ²/6 = Δ²/4` with
    /// `Δ = 2^(1−N)` of full scale, `2^(1−2N)` of a full-scale sine's power, spread over
    /// 0–[`DITHER_RATE_HZ`]/2; A-weighted over 20 Hz–20 kHz through the chain's `|H(f)/H(1 kHz)|`
    /// and the IEM's tuning.
    /// Digital attenuation lowers the programme, not this floor; the analog volume lowers both.
    pub fn dither_noise_spl_dba(&self) -> f64 {
        let bits = f64::from(self.source.path_bits());
        let white = |_| 1.0;
        let band = (BAND_START_HZ, BAND_STOP_HZ);
        let a_weighted_hz = self.band_power(band, white, true, true);
        let noise_re_sine = 2f64.powf(1.0 - 2.0 * bits) * a_weighted_hz / (DITHER_RATE_HZ / 2.0);
        self.spl_at_full_scale_db() + 10.0 * noise_re_sine.log10()
    }

    /// LAeq at the eardrum of −20 dBFS RMS pink noise (20 Hz–20 kHz) through this chain and the
    /// IEM's tuning, at its 1 kHz sensitivity, dBA.
    pub fn pink_reference_laeq_dba(&self) -> f64 {
        self.pink_laeq_dba((BAND_START_HZ, BAND_STOP_HZ))
    }

    /// LAeq at the eardrum of −20 dBFS RMS pink noise limited to `band_hz` through this chain,
    /// dBA: the noise's unweighted SPL plus its A-weighted-to-unweighted band power ratio
    /// through H and the tuning.
    pub fn pink_laeq_dba(&self, band_hz: (f64, f64)) -> f64 {
        let pink = |f: f64| 1.0 / f;
        let weighting = self.band_power(band_hz, pink, true, true)
            / self.band_power(band_hz, pink, false, false);
        self.spl_at_full_scale_db() + PINK_REFERENCE_DBFS + 10.0 * weighting.log10()
    }

    /// Where the source's output stage clips into this chain's load: at its voltage swing
    /// (`clip_volts`), or, when it has a current limit `I_max`, at the EMF
    /// `I_max·min|Z_o(f) + Z_in(f)|` (20 Hz–20 kHz) that drives that current through the
    /// lowest load it sees — whichever is lower. The pad is after the stage: a low-impedance
    /// L-pad lowers the current-limited clip point, and no pad undoes a clip ahead of it.
    pub fn clip_point(&self) -> ClipPoint {
        let voltage = self.source.clip_volts();
        let full_scale_emf = self.emf_volts();
        let voltage_point = ClipPoint {
            emf_vrms: voltage,
            limit: ClipLimit::Voltage,
            load_ohms: self.at(REFERENCE_HZ).z_in.norm(),
            load_hz: REFERENCE_HZ,
            full_scale_current_ma: 1e3 * full_scale_emf
                / (self.source.impedance(REFERENCE_HZ) + self.at(REFERENCE_HZ).z_in).norm(),
        };
        let Some(max_ma) = self.source.max_current_ma else {
            return voltage_point;
        };
        let (hz, loop_ohms, load_ohms) = log_grid(BAND_START_HZ, BAND_STOP_HZ, 96.0)
            .into_iter()
            .map(|hz| {
                let z_in = self.at(hz).z_in;
                (hz, (self.source.impedance(hz) + z_in).norm(), z_in.norm())
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("the band has frequencies");
        let current_limited = max_ma * 1e-3 * loop_ohms;
        if current_limited >= voltage {
            return voltage_point;
        }
        ClipPoint {
            emf_vrms: current_limited,
            limit: ClipLimit::Current {
                max_current_ma: max_ma,
            },
            load_ohms,
            load_hz: hz,
            full_scale_current_ma: 1e3 * full_scale_emf / loop_ohms,
        }
    }

    /// Headroom of the source's output stage for programme peaking at `true_peak_dbtp`, dB:
    /// the clip point's EMF ([`Chain::clip_point`]) over the EMF of those peaks. Negative means
    /// the amplifier clips.
    pub fn headroom_db(&self, true_peak_dbtp: f64) -> f64 {
        db(self.clip_point().emf_vrms / (self.emf_volts() * from_db(true_peak_dbtp)))
    }

    /// The full report, with the response on `frequencies`.
    pub fn report(&self, frequencies: &[f64], true_peak_dbtp: f64) -> ChainReport {
        let mut band = log_grid(BAND_START_HZ, BAND_STOP_HZ, 96.0);
        band.push(REFERENCE_HZ);
        let reference = self.at(REFERENCE_HZ);
        let h_ref = reference.h.norm();
        let gain = self.coloration();
        let coloration = |hz: f64| db(gain(hz));
        let (mut col_min, mut col_max) = ((REFERENCE_HZ, 0.0), (REFERENCE_HZ, 0.0));
        let (mut z_min, mut z_max) = ((0.0, f64::INFINITY), (0.0, 0.0));
        let mut load_min = (0.0, f64::INFINITY);
        for &hz in &band {
            let op = self.at(hz);
            let c = coloration(hz);
            if c < col_min.1 {
                col_min = (hz, c);
            }
            if c > col_max.1 {
                col_max = (hz, c);
            }
            let z = op.z_iem.norm();
            if z < z_min.1 {
                z_min = (hz, z);
            }
            if z > z_max.1 {
                z_max = (hz, z);
            }
            if op.z_in.norm() < load_min.1 {
                load_min = (hz, op.z_in.norm());
            }
        }
        let z_th = reference.z_th.norm();
        let v_iem = self.emf_volts() * h_ref;
        let z_iem = reference.z_iem;
        let spl = self.spl_at_full_scale_db();
        let hiss = self.hiss_spl_dba();
        ChainReport {
            iem: self.iem.name.clone(),
            source: self.source.name.clone(),
            source_parts: SourceParts::from(&self.source),
            attenuator: self.attenuator.name.clone(),
            cable_ohms: self.cable.ohms,
            sensitivity_db_per_v: self.iem.sensitivity_db_per_volt(),
            level_at_1k_db: db(h_ref),
            coloration_pp_db: col_max.1 - col_min.1,
            coloration_max_db: col_max.1,
            coloration_max_hz: col_max.0,
            coloration_min_db: col_min.1,
            coloration_min_hz: col_min.0,
            effective_output_impedance_ohms: z_th,
            iem_impedance_at_1k_ohms: z_iem.norm(),
            iem_min_impedance_ohms: z_min.1,
            iem_min_impedance_hz: z_min.0,
            iem_max_impedance_ohms: z_max.1,
            iem_max_impedance_hz: z_max.0,
            damping_ratio: z_min.1 / z_th,
            eighth_rule_met: z_th * EIGHTH_RULE_RATIO <= z_min.1 * (1.0 + 1e-9),
            eighth_rule_bound_db: db(1.0 + z_th / z_min.1),
            source_load_at_1k_ohms: reference.z_in.norm(),
            source_load_min_ohms: load_min.1,
            source_load_min_hz: load_min.0,
            spl_at_full_scale_db: spl,
            hiss_spl_dba: hiss,
            signal_to_hiss_db: spl - hiss,
            pink_reference_laeq_dba: self.pink_reference_laeq_dba(),
            true_peak_dbtp,
            headroom_db: self.headroom_db(true_peak_dbtp),
            clip: self.clip_point(),
            iem_voltage_at_full_scale_volts: v_iem,
            iem_power_at_full_scale_mw: 1e3 * v_iem * v_iem * z_iem.re / z_iem.norm_sqr(),
            iem_current_at_full_scale_ma: 1e3 * v_iem / z_iem.norm(),
            path_bits: self.source.path_bits(),
            dither_noise_spl_dba: self.dither_noise_spl_dba(),
            level: self.level_basis(),
            response: self.response(frequencies),
        }
    }
}

/// Everything `earstage chain` reports. Levels of "full scale" are for a 0 dBFS sine at the
/// reference frequency (1 kHz).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainReport {
    pub iem: String,
    pub source: String,
    /// What the source is made of, so every figure can be traced to its values.
    pub source_parts: SourceParts,
    pub attenuator: String,
    pub cable_ohms: f64,
    /// IEM sensitivity in dB SPL per Vrms at its reference frequency.
    pub sensitivity_db_per_v: f64,
    /// 20·log10|H(1 kHz)|.
    pub level_at_1k_db: f64,
    /// Peak-to-peak of 20·log10|H(f)/H(1 kHz)| over 20 Hz–20 kHz.
    pub coloration_pp_db: f64,
    pub coloration_max_db: f64,
    pub coloration_max_hz: f64,
    pub coloration_min_db: f64,
    pub coloration_min_hz: f64,
    /// |Z_th| at 1 kHz: what the IEM is driven from.
    pub effective_output_impedance_ohms: f64,
    pub iem_impedance_at_1k_ohms: f64,
    pub iem_min_impedance_ohms: f64,
    pub iem_min_impedance_hz: f64,
    pub iem_max_impedance_ohms: f64,
    pub iem_max_impedance_hz: f64,
    /// min|Z| / |Z_th|.
    pub damping_ratio: f64,
    /// |Z_th| ≤ min|Z|/8.
    pub eighth_rule_met: bool,
    /// The largest deviation a resistive load swinging up from min|Z| could show:
    /// 20·log10(1 + |Z_th|/min|Z|).
    pub eighth_rule_bound_db: f64,
    pub source_load_at_1k_ohms: f64,
    pub source_load_min_ohms: f64,
    pub source_load_min_hz: f64,
    pub spl_at_full_scale_db: f64,
    pub hiss_spl_dba: f64,
    pub signal_to_hiss_db: f64,
    /// LAeq of −20 dBFS RMS pink noise (the reference-level signal).
    pub pink_reference_laeq_dba: f64,
    pub true_peak_dbtp: f64,
    pub headroom_db: f64,
    /// Where the source's output stage clips into this load.
    pub clip: ClipPoint,
    pub iem_voltage_at_full_scale_volts: f64,
    pub iem_power_at_full_scale_mw: f64,
    pub iem_current_at_full_scale_ma: f64,
    /// Bit depth of the digital path, and its dithered noise floor at the eardrum, dBA.
    pub path_bits: u32,
    pub dither_noise_spl_dba: f64,
    /// Whether the levels rest on a multimeter reading (`calibrated`) or the spec sheet.
    pub level: LevelBasis,
    pub response: Vec<ResponsePoint>,
}

/// What limits the source's output stage first.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClipLimit {
    /// Its voltage swing: `clip_volts`, or the DAC's full scale at maximum volume.
    Voltage,
    /// Its current limit, mA rms, reached in the load before the voltage swing.
    Current { max_current_ma: f64 },
}

/// Where the source's output stage clips into the chain's load ([`Chain::clip_point`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClipPoint {
    /// The largest undistorted EMF into this load, Vrms.
    pub emf_vrms: f64,
    pub limit: ClipLimit,
    /// The load the source drives where the limit is reached (|Z_in|, the pad's input when there
    /// is one), Ω, and its frequency, Hz (1 kHz for a voltage limit).
    pub load_ohms: f64,
    pub load_hz: f64,
    /// The current a 0 dBFS sine at the current volume drives into that load, mA rms.
    pub full_scale_current_ma: f64,
}

/// A calibrated level (`model::calibration`, docs/spl.md).
impl Chain {
    /// The chain with its full scale set by `reading` (taken at the chain's volume setting).
    pub fn calibrated(&self, reading: &LevelReading) -> Result<Chain, ValueError> {
        reading.validate()?;
        let vfs =
            reading.full_scale_volts(self.transfer(reading.tone_hz).norm(), self.source.volume_db);
        let mut chain = self.clone();
        chain.source.vfs_volts = VFS_VOLTS.check("the calibrated full scale", vfs)?;
        chain.source.calibration = Some(LevelReading {
            volume_db: self.source.volume_db,
            spec_vfs_volts: self
                .source
                .calibration
                .as_ref()
                .map_or(self.source.vfs_volts, |c| c.spec_vfs_volts),
            ..reading.clone()
        });
        Ok(chain)
    }

    /// Whether the level is calibrated, and what is odd about the reading.
    pub fn level_basis(&self) -> LevelBasis {
        match &self.source.calibration {
            Some(reading) => reading.basis(
                self.source.vfs_volts,
                self.source.volume_db,
                self.source.clip_volts,
            ),
            None => LevelBasis::estimated(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sensitivity;
    use crate::model::attenuator::Network;

    fn resistive_chain(source_ohms: f64, iem_ohms: f64) -> Chain {
        let mut source = Source::ideal(1.0);
        source.output_ohms = source_ohms;
        source.noise_uv = 2.0;
        Chain {
            source,
            attenuator: Attenuator::none(),
            cable: Cable::default(),
            // A flat eardrum response: the worked checks are the electrical chain's.
            iem: Iem::resistive(iem_ohms, Sensitivity::DbPerMw(115.0)).tuned_flat(),
        }
    }

    /// A 1 Ω source that gives at most 50 mA, into a resistive 16 Ω IEM: the loop is 17 Ω, so
    /// the current limits the EMF to 0.05·17 = 0.85 V, under its 1 V swing. Through a 3.6 Ω /
    /// 1.2 Ω L-pad the source drives Z_in = 3.6 + 1.2‖16 = 4.716 Ω, the loop is 5.716 Ω and the
    /// clip point drops to 0.286 V: the pad's low load makes the stage clip 10.9 dB earlier, ahead
    /// of the pad. Without a current limit the voltage swing decides. All to 1e-12 (resistive:
    /// the same at every frequency).
    #[test]
    fn a_low_impedance_pad_lowers_a_current_limited_clip_point() {
        let mut chain = resistive_chain(1.0, 16.0);
        chain.source.max_current_ma = Some(50.0);
        let bare = chain.clip_point();
        assert!((bare.emf_vrms - 0.85).abs() < 1e-12, "{bare:?}");
        assert_eq!(
            bare.limit,
            ClipLimit::Current {
                max_current_ma: 50.0
            }
        );
        assert!((bare.load_ohms - 16.0).abs() < 1e-12);
        assert!((bare.full_scale_current_ma - 1e3 / 17.0).abs() < 1e-9);
        assert!((chain.headroom_db(0.0) - 20.0 * 0.85f64.log10()).abs() < 1e-12);

        chain.attenuator = Attenuator {
            name: "pad".into(),
            network: Network::LPad {
                series_ohms: 3.6,
                shunt_ohms: 1.2,
            },
            provenance: String::new(),
        };
        let z_in = 3.6 + 1.2 * 16.0 / 17.2;
        let padded = chain.clip_point();
        assert!((padded.load_ohms - z_in).abs() < 1e-12, "{padded:?}");
        assert!((padded.emf_vrms - 0.05 * (1.0 + z_in)).abs() < 1e-12);

        chain.source.max_current_ma = None;
        let voltage = chain.clip_point();
        assert_eq!((voltage.emf_vrms, voltage.limit), (1.0, ClipLimit::Voltage));
    }

    /// A capacitor-coupled source into a resistive IEM is a first-order high-pass,
    /// `H = R_L / (R_L + R_s + 1/(jωC))`: the coloration is `|H(f)|/|H(1 kHz)|` of that closed
    /// form, and 0 dB at 1 kHz exactly.
    #[test]
    fn coloration_of_a_coupling_capacitor_is_the_closed_form_high_pass() {
        let mut chain = resistive_chain(2.0, 16.0);
        chain.source.coupling_uf = Some(220.0);
        let h = |hz: f64| {
            let z_c = 1.0 / (std::f64::consts::TAU * hz * 220e-6);
            16.0 / ((18.0f64).powi(2) + z_c.powi(2)).sqrt()
        };
        let grid = [20.0, 45.2, 1000.0, 20_000.0];
        for (hz, got) in grid.iter().zip(chain.coloration_db(&grid)) {
            let want = 20.0 * (h(*hz) / h(1000.0)).log10();
            assert!((got - want).abs() < 1e-9, "{hz} Hz: {got} vs {want}");
        }
        assert_eq!(chain.coloration_db(&[REFERENCE_HZ]), [0.0]);
        // The high-pass's corner, 1/(2π·18 Ω·220 µF) = 40.2 Hz, is 3 dB down on the passband.
        let corner = 1.0 / (std::f64::consts::TAU * 18.0 * 220e-6);
        assert!((chain.coloration_db(&[corner])[0] + 3.0103).abs() < 0.01);
    }

    mod log_grid {
        use super::*;

        #[test]
        fn density_and_ends() {
            let grid = report_grid();
            assert_eq!(grid[0], 10.0);
            assert_eq!(*grid.last().unwrap(), 24_000.0);
            let octaves = (24_000.0f64 / 10.0).log2();
            assert!(grid.len() as f64 >= 48.0 * octaves);
            assert!(
                grid.windows(2)
                    .all(|w| w[1] > w[0] && w[1] / w[0] <= 2f64.powf(1.0 / 48.0) + 1e-12)
            );
        }
    }

    mod worked_checks {
        use super::*;

        /// docs/chain.md worked check: 1 Vrms, 0.5 Ω source into 115 dB/mW at 10 Ω: 134.6 dB SPL,
        /// 20.6 dB hiss.
        #[test]
        fn half_ohm_source() {
            let r = resistive_chain(0.5, 10.0).report(&[], 0.0);
            assert!(
                (r.spl_at_full_scale_db - 134.576).abs() < 0.005,
                "{}",
                r.spl_at_full_scale_db
            );
            assert!(
                (r.hiss_spl_dba - 20.597).abs() < 0.005,
                "{}",
                r.hiss_spl_dba
            );
        }

        #[test]
        fn ten_ohm_source() {
            let r = resistive_chain(10.0, 10.0).report(&[], 0.0);
            assert!((r.spl_at_full_scale_db - 128.979).abs() < 0.005);
            assert!((r.hiss_spl_dba - 15.0).abs() < 0.005);
            assert!((r.level_at_1k_db + 6.0206).abs() < 1e-4);
        }
    }
}
