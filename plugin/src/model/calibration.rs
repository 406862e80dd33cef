//! A calibrated level (docs/spl.md, "Calibrating the level"): a multimeter's reading of a test
//! tone, at the source's jack with nothing plugged in (its open-circuit voltage, the EMF) or across
//! the IEM's terminals, fixes the chain's full-scale EMF at the current volume setting, so every
//! SPL, reference-level and dose figure rests on a measurement instead of the spec sheet.
//!
//! With the tone at `L` dBFS and `f` Hz, the EMF of the tone is the reading itself (open) or the
//! reading divided by `|H(f)|` (across the IEM, `H = V_iem / V_EMF` of the chain); the full-scale
//! EMF at the volume setting is that over `10^(L/20)`, and the source's full scale at maximum
//! volume is that over the volume's gain.

use serde::{Deserialize, Serialize};

use super::units::{Range, ValueError};
use super::{db, from_db};

/// Tone levels a reading may be taken at, dBFS.
pub const TONE_DBFS: Range = Range::new(-60.0, 0.0);
/// Tone frequencies, Hz.
pub const TONE_HZ: Range = Range::new(20.0, 20_000.0);
/// Readings accepted, Vrms (above zero; a multimeter's ranges end far below 1 kV).
pub const READING_VRMS: Range = Range::new(1e-6, 1000.0);
pub const DEFAULT_TONE_DBFS: f64 = -20.0;
/// Ordinary multimeters read AC volts accurately only at low frequencies: 400 Hz is within the
/// band of most, and far enough above the mains to be told from hum.
pub const DEFAULT_TONE_HZ: f64 = 400.0;
/// A reading that puts the full scale further than this from the spec sheet's is flagged, dB.
pub const FAR_FROM_SPEC_DB: f64 = 6.0;

/// Where the meter's probes were.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbePoint {
    /// At the source's jack with nothing plugged in: the open-circuit voltage.
    Open,
    /// Across the IEM's terminals, with the whole chain connected.
    Iem,
}

impl std::fmt::Display for ProbePoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProbePoint::Open => "at the open jack",
            ProbePoint::Iem => "across the IEM",
        })
    }
}

/// A multimeter reading of the calibration tone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelReading {
    pub vrms: f64,
    pub at: ProbePoint,
    pub tone_dbfs: f64,
    pub tone_hz: f64,
    /// The source's volume setting when it was read, dB: a later setting makes it stale.
    pub volume_db: f64,
    /// When it was read (ISO 8601 date), where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The source's full scale at maximum volume the spec sheet gave, Vrms.
    pub spec_vfs_volts: f64,
}

impl LevelReading {
    /// Checks the reading's values; the error names the option as the command line spells it.
    pub fn validate(&self) -> Result<(), ValueError> {
        READING_VRMS.check("--measured-vrms", self.vrms)?;
        TONE_DBFS.check("--tone-dbfs", self.tone_dbfs)?;
        TONE_HZ.check("--tone-hz", self.tone_hz)?;
        Ok(())
    }
}

/// What a calibration says of the level, for the reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelBasis {
    /// True when the figures rest on a reading.
    pub calibrated: bool,
    /// The reading, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reading: Option<LevelReading>,
    /// The volume has moved since the reading.
    pub stale: bool,
    /// How far the reading put the full scale from the spec sheet's, dB (+: louder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub off_spec_db: Option<f64>,
    /// What the chain cannot explain about the reading, if anything.
    pub flags: Vec<String>,
}

impl LevelBasis {
    /// "calibrated: 0.245 Vrms across the IEM (400 Hz at −20 dBFS, 2026-12-03)" or "estimated
    /// from the spec sheet".
    pub fn describe(&self) -> String {
        match &self.reading {
            None => "estimated from the spec sheet".into(),
            Some(r) => {
                let date = r.date.as_ref().map_or(String::new(), |d| format!(", {d}"));
                let stale = if self.stale {
                    format!(
                        "; STALE: read at volume {:+.1} dB, the volume has moved since",
                        r.volume_db
                    )
                } else {
                    String::new()
                };
                format!(
                    "calibrated: {} Vrms {} ({} Hz at {:+} dBFS{date}){stale}",
                    r.vrms, r.at, r.tone_hz, r.tone_dbfs
                )
            }
        }
    }
}

impl LevelReading {
    /// The source's full scale at maximum volume this reading implies, Vrms: the tone's EMF
    /// (the reading itself at the open jack, the reading over `h_at_tone = |H(f)|` across the
    /// IEM) over the tone's gain and the volume's.
    pub fn full_scale_volts(&self, h_at_tone: f64, volume_db: f64) -> f64 {
        let h = match self.at {
            ProbePoint::Open => 1.0,
            ProbePoint::Iem => h_at_tone,
        };
        self.vrms / h / from_db(self.tone_dbfs) / from_db(volume_db)
    }

    /// What the reading says of a source now at `vfs_volts` and `volume_db`, with a clip point
    /// `clip_volts` (`None`: its full scale).
    pub fn basis(&self, vfs_volts: f64, volume_db: f64, clip_volts: Option<f64>) -> LevelBasis {
        let off_spec_db = db(vfs_volts / self.spec_vfs_volts);
        let mut flags = Vec::new();
        let tone_emf = vfs_volts * from_db(volume_db) * from_db(self.tone_dbfs);
        if let Some(clip) = clip_volts
            && tone_emf > clip * (1.0 + 1e-9)
        {
            flags.push(format!(
                "the reading puts the tone's EMF at {tone_emf:.3} Vrms, above the source's clip \
                 point of {clip} Vrms: check the probe point and the tone level"
            ));
        }
        if off_spec_db.abs() > FAR_FROM_SPEC_DB {
            flags.push(format!(
                "the reading puts the source's full scale {off_spec_db:+.1} dB from the spec \
                 sheet's: check the volume setting, the probe point and the tone level"
            ));
        }
        LevelBasis {
            calibrated: true,
            stale: (volume_db - self.volume_db).abs() > 1e-9,
            reading: Some(self.clone()),
            off_spec_db: Some(off_spec_db),
            flags,
        }
    }
}

impl LevelBasis {
    /// No reading: the spec sheet's figures.
    pub fn estimated() -> Self {
        Self {
            calibrated: false,
            reading: None,
            stale: false,
            off_spec_db: None,
            flags: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::Catalog;
    use crate::model::from_db;

    fn reading(vrms: f64, at: ProbePoint, tone_dbfs: f64, tone_hz: f64) -> LevelReading {
        LevelReading {
            vrms,
            at,
            tone_dbfs,
            tone_hz,
            volume_db: 0.0,
            date: None,
            spec_vfs_volts: 0.0,
        }
    }

    /// Reading the open jack: the full scale at maximum volume is reading / tone gain / volume.
    #[test]
    fn the_open_jack_gives_the_emf() {
        let chain = Catalog::builtin().default_chain().unwrap();
        let r = reading(0.1, ProbePoint::Open, -20.0, 400.0);
        let c = chain.calibrated(&r).unwrap();
        let expected = 0.1 / 0.1 / from_db(chain.source.volume_db);
        assert!((c.source.vfs_volts / expected - 1.0).abs() < 1e-12);
        let basis = c.level_basis();
        assert!(basis.calibrated && !basis.stale);
        assert_eq!(
            basis.reading.unwrap().spec_vfs_volts,
            chain.source.vfs_volts
        );
        // Moving the volume afterwards makes it stale.
        let mut moved = c.clone();
        moved.source.volume_db += 3.0;
        assert!(moved.level_basis().stale);
        assert!(moved.level_basis().describe().contains("STALE"));
    }

    #[test]
    fn readings_out_of_range_are_refused() {
        let chain = Catalog::builtin().default_chain().unwrap();
        for (r, option) in [
            (
                reading(0.0, ProbePoint::Open, -20.0, 400.0),
                "--measured-vrms",
            ),
            (
                reading(-1.0, ProbePoint::Open, -20.0, 400.0),
                "--measured-vrms",
            ),
            (reading(0.1, ProbePoint::Open, 3.0, 400.0), "--tone-dbfs"),
            (reading(0.1, ProbePoint::Open, -70.0, 400.0), "--tone-dbfs"),
            (reading(0.1, ProbePoint::Open, -20.0, 10.0), "--tone-hz"),
            (reading(0.1, ProbePoint::Open, -20.0, 30_000.0), "--tone-hz"),
        ] {
            let err = chain.calibrated(&r).unwrap_err().to_string();
            assert!(err.contains(option), "{err}");
        }
    }

    /// A reading 10 dB above the spec, and one that puts the tone past the clip point, are
    /// flagged.
    #[test]
    fn readings_the_chain_cannot_explain_are_flagged() {
        let catalog = Catalog::builtin();
        let mut chain = catalog.default_chain().unwrap();
        chain.source.volume_db = 0.0;
        chain.source.clip_volts = Some(chain.source.vfs_volts);
        let spec_tone = chain.source.vfs_volts * from_db(-20.0);
        let loud = chain
            .calibrated(&reading(
                spec_tone * from_db(10.0),
                ProbePoint::Open,
                -20.0,
                400.0,
            ))
            .unwrap();
        let flags = loud.level_basis().flags;
        assert!(
            flags.iter().any(|f| f.contains("+10.0 dB from the spec")),
            "{flags:?}"
        );
        let clipping = chain
            .calibrated(&reading(
                chain.source.vfs_volts * 1.5,
                ProbePoint::Open,
                0.0,
                400.0,
            ))
            .unwrap();
        assert!(
            clipping
                .level_basis()
                .flags
                .iter()
                .any(|f| f.contains("clip point")),
            "{:?}",
            clipping.level_basis().flags
        );
        let fine = chain
            .calibrated(&reading(spec_tone * 1.05, ProbePoint::Open, -20.0, 400.0))
            .unwrap();
        assert!(fine.level_basis().flags.is_empty());
    }
}
