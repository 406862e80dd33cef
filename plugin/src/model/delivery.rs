//! Delivery targets: the loudness and true-peak limits a programme is delivered to, and the two
//! ratios meters show beside them — PLR (peak-to-loudness ratio: true-peak maximum minus the
//! integrated loudness) and PSR (peak-to-short-term ratio: the true peak of the last 3 s minus the
//! short-term loudness).

use std::fmt;
use std::str::FromStr;

use super::units::{Range, ValueError};

/// Integrated loudness a custom target may ask, LUFS.
pub const TARGET_LUFS: Range = Range::new(-60.0, 0.0);
/// True-peak ceiling a custom target may ask, dBTP.
pub const CEILING_DBTP: Range = Range::new(-20.0, 6.0);
/// The tolerance of a custom target, LU (the streaming services' normalisation window).
pub const CUSTOM_TOLERANCE_LU: f64 = 1.0;
/// The true-peak ceiling of a custom target given only its loudness, dBTP.
pub const CUSTOM_CEILING_DBTP: f64 = -1.0;

/// A delivery spec: the integrated loudness with its tolerance and the true-peak ceiling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeliveryTarget {
    /// The name the command line and the editor use ("custom" for one the user gave).
    pub key: &'static str,
    /// What it is, for the editor and the plot's legend.
    pub label: &'static str,
    pub integrated_lufs: f64,
    /// Integrated loudness within ± this is on target, LU.
    pub tolerance_lu: f64,
    /// True peaks above this are off target, dBTP.
    pub max_true_peak_dbtp: f64,
}

/// The common delivery specs: EBU R 128 (−23 LUFS ±0.5 LU, −1 dBTP; ±1 LU where exact
/// normalisation is not practicable, as for live programmes), ATSC A/85 (−24 LKFS ±2 dB,
/// −2 dBTP), the streaming services' −14 LUFS and Apple Music's −16 LUFS (−1 dBTP, normalised
/// within about 1 LU), and podcasts at −16 LUFS (stereo) and −19 LUFS (mono).
pub const PRESETS: [DeliveryTarget; 6] = [
    DeliveryTarget {
        key: "ebu-r128",
        label: "EBU R 128 (−23 LUFS, −1 dBTP)",
        integrated_lufs: -23.0,
        tolerance_lu: 0.5,
        max_true_peak_dbtp: -1.0,
    },
    DeliveryTarget {
        key: "atsc-a85",
        label: "ATSC A/85 (−24 LKFS, −2 dBTP)",
        integrated_lufs: -24.0,
        tolerance_lu: 2.0,
        max_true_peak_dbtp: -2.0,
    },
    DeliveryTarget {
        key: "streaming",
        label: "Streaming (−14 LUFS, −1 dBTP)",
        integrated_lufs: -14.0,
        tolerance_lu: 1.0,
        max_true_peak_dbtp: -1.0,
    },
    DeliveryTarget {
        key: "apple-music",
        label: "Apple Music (−16 LUFS, −1 dBTP)",
        integrated_lufs: -16.0,
        tolerance_lu: 1.0,
        max_true_peak_dbtp: -1.0,
    },
    DeliveryTarget {
        key: "podcast",
        label: "Podcast (−16 LUFS, −1 dBTP)",
        integrated_lufs: -16.0,
        tolerance_lu: 1.0,
        max_true_peak_dbtp: -1.0,
    },
    DeliveryTarget {
        key: "podcast-mono",
        label: "Podcast, mono (−19 LUFS, −1 dBTP)",
        integrated_lufs: -19.0,
        tolerance_lu: 1.0,
        max_true_peak_dbtp: -1.0,
    },
];

impl DeliveryTarget {
    /// A target of the user's own: `lufs` within ±[`CUSTOM_TOLERANCE_LU`], peaks up to
    /// `max_true_peak_dbtp`.
    pub fn custom(lufs: f64, max_true_peak_dbtp: f64) -> Result<Self, ValueError> {
        Ok(Self {
            key: "custom",
            label: "Custom",
            integrated_lufs: TARGET_LUFS.check("the target loudness (LUFS)", lufs)?,
            tolerance_lu: CUSTOM_TOLERANCE_LU,
            max_true_peak_dbtp: CEILING_DBTP
                .check("the target true-peak ceiling (dBTP)", max_true_peak_dbtp)?,
        })
    }

    /// Whether an integrated loudness is within the tolerance.
    pub fn loudness_on_target(&self, integrated_lufs: f64) -> bool {
        (integrated_lufs - self.integrated_lufs).abs() <= self.tolerance_lu + 1e-9
    }

    /// Whether a true peak is at or under the ceiling.
    pub fn peak_on_target(&self, true_peak_dbtp: f64) -> bool {
        true_peak_dbtp <= self.max_true_peak_dbtp + 1e-9
    }
}

impl DeliveryTarget {
    /// How a programme measures against the target, in a sentence.
    pub fn verdict(&self, integrated_lufs: Option<f64>, true_peak_max_dbtp: Option<f64>) -> String {
        let loudness = match integrated_lufs.filter(|v| v.is_finite()) {
            None => "no integrated loudness (nothing passed the gates)".to_owned(),
            Some(i) if self.loudness_on_target(i) => format!(
                "integrated {i:.1} LUFS is on target ({:+.1} LU)",
                i - self.integrated_lufs
            ),
            Some(i) => format!(
                "integrated {i:.1} LUFS is {:.1} LU {} the ±{:.1} LU band",
                (i - self.integrated_lufs).abs() - self.tolerance_lu,
                if i > self.integrated_lufs {
                    "above"
                } else {
                    "below"
                },
                self.tolerance_lu
            ),
        };
        let peak = match true_peak_max_dbtp.filter(|v| v.is_finite()) {
            None => "no true peak (silence)".to_owned(),
            Some(p) if self.peak_on_target(p) => format!(
                "true peak {p:+.1} dBTP is under the {:+.1} dBTP ceiling",
                self.max_true_peak_dbtp
            ),
            Some(p) => format!(
                "true peak {p:+.1} dBTP is {:.1} dB over the {:+.1} dBTP ceiling",
                p - self.max_true_peak_dbtp,
                self.max_true_peak_dbtp
            ),
        };
        format!("{loudness}; {peak}")
    }
}

impl fmt::Display for DeliveryTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key == "custom" {
            write!(
                f,
                "custom ({:+.1} LUFS ±{:.1} LU, {:+.1} dBTP)",
                self.integrated_lufs, self.tolerance_lu, self.max_true_peak_dbtp
            )
        } else {
            write!(f, "{} ±{:.1} LU", self.label, self.tolerance_lu)
        }
    }
}

/// A preset's name (`ebu-r128`, `atsc-a85`, `streaming`, `apple-music`, `podcast`,
/// `podcast-mono`, case and `_` or space for `-` ignored) or a loudness in LUFS (`-18`, a custom
/// target at −1 dBTP).
impl FromStr for DeliveryTarget {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, ValueError> {
        let key = text.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        if let Some(preset) = PRESETS.iter().find(|p| p.key == key) {
            return Ok(*preset);
        }
        let number = text.trim().to_ascii_lowercase();
        match number.trim_end_matches("lufs").trim().parse::<f64>() {
            Ok(lufs) => Self::custom(lufs, CUSTOM_CEILING_DBTP),
            Err(_) => Err(ValueError::new(
                "delivery target",
                text,
                format!(
                    "expected a loudness in LUFS (e.g. -18) or one of: {}",
                    PRESETS.map(|p| p.key).join(", ")
                ),
            )),
        }
    }
}

/// Peak-to-loudness ratio, LU: the true-peak maximum minus the integrated loudness (`None` until
/// both are measured).
pub fn plr_lu(true_peak_max_dbtp: Option<f64>, integrated_lufs: Option<f64>) -> Option<f64> {
    Some(true_peak_max_dbtp? - integrated_lufs?).filter(|x| x.is_finite())
}

/// Peak-to-short-term ratio, LU: the true peak of the last 3 s minus the short-term loudness.
pub fn psr_lu(true_peak_3s_dbtp: Option<f64>, short_term_lufs: Option<f64>) -> Option<f64> {
    Some(true_peak_3s_dbtp? - short_term_lufs?).filter(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_by_name_and_numbers_as_custom_targets() {
        let r128: DeliveryTarget = "EBU_R128".parse().unwrap();
        assert_eq!(
            (
                r128.integrated_lufs,
                r128.tolerance_lu,
                r128.max_true_peak_dbtp
            ),
            (-23.0, 0.5, -1.0)
        );
        let atsc: DeliveryTarget = "atsc-a85".parse().unwrap();
        assert_eq!(
            (atsc.integrated_lufs, atsc.max_true_peak_dbtp),
            (-24.0, -2.0)
        );
        let custom: DeliveryTarget = "-18 LUFS".parse().unwrap();
        assert_eq!(
            (
                custom.key,
                custom.integrated_lufs,
                custom.max_true_peak_dbtp
            ),
            ("custom", -18.0, -1.0)
        );
        assert_eq!(
            "podcast-mono"
                .parse::<DeliveryTarget>()
                .unwrap()
                .integrated_lufs,
            -19.0
        );
        let err = "loud".parse::<DeliveryTarget>().unwrap_err().to_string();
        assert!(
            err.contains("\"loud\"") && err.contains("apple-music"),
            "{err}"
        );
        let err = "-80".parse::<DeliveryTarget>().unwrap_err().to_string();
        assert!(err.contains("-60 to 0"), "{err}");
    }

    /// −23 ± 0.5: −23.5 and −22.5 are on target, −22.4 is not; −1 dBTP is the ceiling itself.
    #[test]
    fn the_tolerance_and_the_ceiling_are_inclusive() {
        let r128 = PRESETS[0];
        assert!(r128.loudness_on_target(-23.5) && r128.loudness_on_target(-22.5));
        assert!(!r128.loudness_on_target(-22.4));
        assert!(r128.peak_on_target(-1.0) && !r128.peak_on_target(-0.9));
    }

    #[test]
    fn the_verdict_says_how_far_off_and_which_way() {
        let r128 = PRESETS[0];
        assert_eq!(
            r128.verdict(Some(-20.1), Some(0.3)),
            "integrated -20.1 LUFS is 2.4 LU above the ±0.5 LU band; true peak +0.3 dBTP is 1.3 dB \
             over the -1.0 dBTP ceiling"
        );
        assert_eq!(
            r128.verdict(Some(-23.2), Some(-1.5)),
            "integrated -23.2 LUFS is on target (-0.2 LU); true peak -1.5 dBTP is under the -1.0 \
             dBTP ceiling"
        );
        assert!(
            r128.verdict(None, None)
                .contains("nothing passed the gates")
        );
    }

    /// PLR of −1 dBTP over −23 LUFS is 22 LU; PSR of −3 dBTP over −12 LUFS short-term is 9 LU;
    /// either is unknown until both readings exist, or when one is silence.
    #[test]
    fn the_ratios_are_peak_minus_loudness() {
        assert_eq!(plr_lu(Some(-1.0), Some(-23.0)), Some(22.0));
        assert_eq!(psr_lu(Some(-3.0), Some(-12.0)), Some(9.0));
        assert_eq!(plr_lu(None, Some(-23.0)), None);
        assert_eq!(psr_lu(Some(-3.0), Some(f64::NEG_INFINITY)), None);
    }
}
