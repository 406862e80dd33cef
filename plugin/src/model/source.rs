//! The source: a Thevenin equivalent of a headphone output, belt pack or dongle.

use serde::{Deserialize, Serialize};

use super::calibration::LevelReading;
use super::units::{Range, ValueError};
pub use super::volume::VOLUME_DB;
use super::volume::VolumeControl;
use super::{Complex64, capacitor, from_db};

/// Full-scale EMF at maximum volume, Vrms.
pub const VFS_VOLTS: Range = Range::new(1e-6, 1000.0);
/// Output impedance (resistance), Ω.
pub const OUTPUT_OHMS: Range = Range::new(0.0, 1e5);
/// Series output coupling capacitor, µF.
pub const COUPLING_UF: Range = Range::new(0.01, 1e6);
/// Clip point, the largest undistorted EMF, Vrms.
pub const CLIP_VOLTS: Range = Range::new(1e-6, 1000.0);
/// The output stage's current limit, the largest undistorted sine current, mA rms.
pub const MAX_CURRENT_MA: Range = Range::new(0.01, 1e5);
/// A-weighted output noise, µV.
pub const NOISE_UV: Range = Range::new(0.0, 1e5);
/// Bit depths of the digital path to the DAC.
pub const PATH_BITS: [u32; 3] = [16, 24, 32];
/// The path's bit depth where a source does not say: an audio interface's.
pub const DEFAULT_PATH_BITS: u32 = 24;

/// A source's values as a report shows them, with their units in the keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceParts {
    /// Open-circuit EMF of a 0 dBFS sine at maximum volume, Vrms.
    pub full_scale_vrms: f64,
    /// Volume relative to maximum, dB.
    pub volume_db: f64,
    /// Output resistance, Ω.
    pub output_impedance_ohms: f64,
    /// Series coupling capacitor, µF (`null`: DC-coupled).
    pub coupling_uf: Option<f64>,
    /// A-weighted output noise, µVrms.
    pub noise_uv: f64,
    /// Largest undistorted EMF, Vrms (`null`: the full scale at maximum volume).
    pub clip_vrms: Option<f64>,
    /// Largest undistorted output current, mA rms (`null`: no current limit given).
    pub max_current_ma: Option<f64>,
    /// How the volume is set, and the part of its travel that can be used (`null`: unknown).
    pub volume_control: Option<VolumeControl>,
    /// Where the figures come from.
    pub provenance: String,
}

impl From<&Source> for SourceParts {
    fn from(s: &Source) -> Self {
        Self {
            full_scale_vrms: s.vfs_volts,
            volume_db: s.volume_db,
            output_impedance_ohms: s.output_ohms,
            coupling_uf: s.coupling_uf,
            noise_uv: s.noise_uv,
            clip_vrms: s.clip_volts,
            max_current_ma: s.max_current_ma,
            volume_control: s.volume_control,
            provenance: s.provenance.clone(),
        }
    }
}

/// A headphone output as a Thevenin source (docs/chain.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Catalog or user name.
    pub name: String,
    /// Open-circuit output (EMF) of a 0 dBFS sine at maximum volume, Vrms.
    pub vfs_volts: f64,
    /// Analog volume or gain relative to maximum, dB (0 = full volume; negative turns down).
    #[serde(default)]
    pub volume_db: f64,
    /// Output resistance, Ω.
    pub output_ohms: f64,
    /// Series output coupling capacitor, µF; `None` for a DC-coupled output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupling_uf: Option<f64>,
    /// Largest undistorted output (EMF) of a sine, Vrms; `None` means the DAC's full scale at
    /// maximum volume is the limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_volts: Option<f64>,
    /// Largest undistorted output current of a sine, mA rms: a low-impedance load (an L-pad)
    /// makes the output stage clip below `clip_volts`. `None`: no current limit given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_current_ma: Option<f64>,
    /// How the volume is set, and the part of its travel that can be used; `None`: unknown
    /// (the advisor then flags nothing about the setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_control: Option<VolumeControl>,
    /// Output noise, A-weighted, µVrms (independent of the volume setting: the noise of the
    /// output stage after the volume control).
    #[serde(default)]
    pub noise_uv: f64,
    /// Where the figures come from.
    #[serde(default)]
    pub provenance: String,
    /// Bit depth of the digital path to the DAC (16, 24 or 32; `None`: 24, an interface's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_bits: Option<u32>,
    /// The multimeter reading `vfs_volts` was set from, when the level is calibrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<LevelReading>,
}

impl Source {
    /// A 0 Ω, noiseless source with the given full-scale EMF: the reference every coloration is
    /// measured against.
    pub fn ideal(vfs_volts: f64) -> Self {
        Self {
            name: "ideal 0 Ω source".into(),
            vfs_volts,
            volume_db: 0.0,
            output_ohms: 0.0,
            coupling_uf: None,
            clip_volts: None,
            max_current_ma: None,
            volume_control: None,
            noise_uv: 0.0,
            provenance: "ideal voltage source".into(),
            path_bits: None,
            calibration: None,
        }
    }

    /// Output impedance Zo(f) = R + 1/(jωC), Ω.
    pub fn impedance(&self, hz: f64) -> Complex64 {
        let r = Complex64::new(self.output_ohms, 0.0);
        match self.coupling_uf {
            Some(uf) => r + capacitor(uf * 1e-6, hz),
            None => r,
        }
    }

    /// EMF of a 0 dBFS sine at the current volume, Vrms.
    pub fn emf_at_full_scale_volts(&self) -> f64 {
        self.vfs_volts * from_db(self.volume_db)
    }

    /// Bit depth of the digital path.
    pub fn path_bits(&self) -> u32 {
        self.path_bits.unwrap_or(DEFAULT_PATH_BITS)
    }

    /// Largest undistorted EMF, Vrms.
    pub fn clip_volts(&self) -> f64 {
        self.clip_volts.unwrap_or(self.vfs_volts)
    }

    /// Checks every field is physical; the error names the field and the allowed range.
    pub fn validate(&self) -> Result<(), ValueError> {
        let field = |f: &str| format!("source {:?} {f}", self.name);
        VFS_VOLTS.check(&field("vfs_volts"), self.vfs_volts)?;
        VOLUME_DB.check(&field("volume_db"), self.volume_db)?;
        OUTPUT_OHMS.check(&field("output_ohms"), self.output_ohms)?;
        if let Some(uf) = self.coupling_uf {
            COUPLING_UF.check(&field("coupling_uf"), uf)?;
        }
        if let Some(v) = self.clip_volts {
            CLIP_VOLTS.check(&field("clip_volts"), v)?;
        }
        if let Some(ma) = self.max_current_ma {
            MAX_CURRENT_MA.check(&field("max_current_ma"), ma)?;
        }
        if let Some(control) = &self.volume_control {
            control.validate(&field("volume_control"))?;
        }
        NOISE_UV.check(&field("noise_uv"), self.noise_uv)?;
        if let Some(bits) = self.path_bits
            && !PATH_BITS.contains(&bits)
        {
            return Err(ValueError::new(
                &field("path_bits"),
                &bits.to_string(),
                "allowed: 16, 24 or 32 (the bit depth of the digital path)",
            ));
        }
        if let Some(reading) = &self.calibration {
            reading.validate()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coupling_cap_is_a_high_pass_reactance() {
        let mut s = Source::ideal(1.0);
        s.output_ohms = 2.0;
        s.coupling_uf = Some(220.0);
        // 1/(2π·100 Hz·220 µF) = 7.234 Ω of capacitive reactance.
        let z = s.impedance(100.0);
        assert!((z.re - 2.0).abs() < 1e-12);
        assert!((z.im + 7.234_315).abs() < 1e-5, "{z}");
    }

    #[test]
    fn volume_scales_the_emf() {
        let mut s = Source::ideal(2.0);
        s.volume_db = -6.020_599_913;
        assert!((s.emf_at_full_scale_volts() - 1.0).abs() < 1e-9);
        assert_eq!(s.clip_volts(), 2.0);
    }
}
