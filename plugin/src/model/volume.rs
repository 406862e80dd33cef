//! The source's volume control and the part of its travel that can be used (docs/chain.md,
//! "The gain-staging advisor"). A dual-gang potentiometer's channels are specified to track only
//! down to a point (commonly within 3 dB down to −40 dB); below it they can be badly mismatched.
//! A stepped or digital control sets the level in steps, down to its quietest step.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::units::{Range, ValueError};

/// Analog volume relative to maximum, dB.
pub const VOLUME_DB: Range = Range::new(-120.0, 40.0);

/// Where an analog pot's tracking specification may end, dB below maximum.
pub const TRACKED_TO_DB: Range = Range::new(VOLUME_DB.min, -1.0);
/// The channel mismatch a tracking specification allows, dB.
pub const TRACKING_DB: Range = Range::new(0.01, 20.0);
/// The size of one step of a stepped or digital control, dB.
pub const STEP_DB: Range = Range::new(0.01, 20.0);
/// The number of settings of a stepped or digital control, maximum included.
pub const STEPS: (u32, u32) = (2, 10_000);

/// How the source's volume is set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum VolumeControl {
    /// A dual-gang potentiometer whose channels are specified to match within `tracking_db`
    /// from maximum down to `tracked_to_db`.
    Analog {
        tracked_to_db: f64,
        tracking_db: f64,
    },
    /// A switched attenuator: `steps` settings `step_db` apart, from maximum down.
    Stepped { step_db: f64, steps: u32 },
    /// A digital volume (in the DAC or the operating system), stepped the same way.
    Digital { step_db: f64, steps: u32 },
}

impl VolumeControl {
    /// The step size and count of a stepped or digital control.
    fn steps(&self) -> Option<(f64, u32)> {
        match *self {
            VolumeControl::Analog { .. } => None,
            VolumeControl::Stepped { step_db, steps }
            | VolumeControl::Digital { step_db, steps } => Some((step_db, steps)),
        }
    }

    /// The control in words, for the advisor's sentences.
    pub fn noun(&self) -> &'static str {
        match self {
            VolumeControl::Analog { .. } => "pot",
            VolumeControl::Stepped { .. } => "stepped attenuator",
            VolumeControl::Digital { .. } => "digital volume",
        }
    }

    /// The quietest setting, dB (an analog pot turns down to the model's floor).
    pub fn quietest_db(&self) -> f64 {
        match self.steps() {
            Some((step, steps)) => (-step * f64::from(steps - 1)).max(VOLUME_DB.min),
            None => VOLUME_DB.min,
        }
    }

    /// The setting nearest `wanted_db` that the control can take, never above maximum (0 dB)
    /// nor below its quietest.
    pub fn nearest(&self, wanted_db: f64) -> f64 {
        let wanted = wanted_db.clamp(self.quietest_db(), 0.0);
        match self.steps() {
            // `+ 0.0` turns the −0.0 of a round at maximum into 0.
            Some((step, _)) => ((wanted / step).round() * step).max(self.quietest_db()) + 0.0,
            None => wanted,
        }
    }

    /// How far the nearest setting may land from a wanted one inside the range, dB.
    pub fn resolution_db(&self) -> f64 {
        self.steps().map_or(0.0, |(step, _)| step / 2.0)
    }

    /// Whether `setting_db` is in the part of the travel the control is specified for: for a
    /// pot, at or above its tracked range's end; a stepped or digital control is usable
    /// throughout.
    pub fn usable(&self, setting_db: f64) -> bool {
        match *self {
            VolumeControl::Analog { tracked_to_db, .. } => setting_db >= tracked_to_db,
            _ => true,
        }
    }

    /// What a setting runs into, in words; `None` where the control is usable.
    pub fn limit(&self, setting_db: f64) -> Option<String> {
        match *self {
            VolumeControl::Analog {
                tracked_to_db,
                tracking_db,
            } if !self.usable(setting_db) => Some(format!(
                "volume {setting_db:+.1} dB is in the bottom of the pot's travel, below its \
                 tracked range (to {tracked_to_db:+.0} dB): the channels can differ by more than \
                 {tracking_db:.1} dB"
            )),
            _ => None,
        }
    }

    /// Checks the figures are physical; the error names the field and the allowed range.
    pub fn validate(&self, what: &str) -> Result<(), ValueError> {
        match *self {
            VolumeControl::Analog {
                tracked_to_db,
                tracking_db,
            } => {
                TRACKED_TO_DB.check(&format!("{what} tracked_to_db"), tracked_to_db)?;
                TRACKING_DB.check(&format!("{what} tracking_db"), tracking_db)?;
            }
            VolumeControl::Stepped { step_db, steps }
            | VolumeControl::Digital { step_db, steps } => {
                STEP_DB.check(&format!("{what} step_db"), step_db)?;
                if !(STEPS.0..=STEPS.1).contains(&steps) {
                    return Err(ValueError::new(
                        &format!("{what} steps"),
                        &steps.to_string(),
                        format!(
                            "allowed: {} to {} settings, maximum included",
                            STEPS.0, STEPS.1
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The command line's spelling: `pot:-40` (a pot tracked to −40 dB, within 3 dB),
/// `pot:-40:1` (within 1 dB), `stepped:2x50` or `digital:3x16` (step size × number of settings).
impl FromStr for VolumeControl {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "volume control";
        const FORMS: &str = "expected pot:TRACKED_TO_DB[:WITHIN_DB] (e.g. pot:-40), \
                             stepped:STEP_DBxSTEPS (e.g. stepped:1x100) or digital:STEP_DBxSTEPS \
                             (e.g. digital:3x16)";
        let bad = |why: &str| ValueError::new(WHAT, text, format!("{why}; {FORMS}"));
        let number = |s: &str, name: &str| {
            s.trim()
                .parse::<f64>()
                .map_err(|_| bad(&format!("{name} {s:?} is not a number")))
        };
        let (kind, rest) = text.trim().split_once(':').ok_or_else(|| bad("no kind"))?;
        let control = match kind.trim().to_ascii_lowercase().as_str() {
            "pot" | "analog" => {
                let (to, within) = match rest.split_once(':') {
                    Some((to, within)) => (to, number(within, "the tracking")?),
                    None => (rest, 3.0),
                };
                VolumeControl::Analog {
                    tracked_to_db: number(to, "the tracked range's end")?,
                    tracking_db: within,
                }
            }
            kind @ ("stepped" | "digital") => {
                let (step, count) = rest
                    .split_once(['x', 'X', '×'])
                    .ok_or_else(|| bad("no step count"))?;
                let steps = count
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| bad(&format!("the step count {count:?} is not a whole number")))?;
                let step_db = number(step, "the step size")?;
                if kind == "stepped" {
                    VolumeControl::Stepped { step_db, steps }
                } else {
                    VolumeControl::Digital { step_db, steps }
                }
            }
            other => return Err(bad(&format!("unknown kind {other:?}"))),
        };
        control.validate("").map_err(|e| {
            ValueError::new(
                WHAT,
                text,
                format!("{} {}: {}", e.what.trim(), e.value, e.reason),
            )
        })?;
        Ok(control)
    }
}

impl fmt::Display for VolumeControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            VolumeControl::Analog {
                tracked_to_db,
                tracking_db,
            } => write!(
                f,
                "pot, channels within {tracking_db:.1} dB down to {tracked_to_db:+.0} dB"
            ),
            VolumeControl::Stepped { step_db, steps }
            | VolumeControl::Digital { step_db, steps } => {
                write!(
                    f,
                    "{}, {steps} steps of {step_db:.1} dB (down to {:+.0} dB)",
                    self.noun(),
                    self.quietest_db()
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POT: VolumeControl = VolumeControl::Analog {
        tracked_to_db: -40.0,
        tracking_db: 3.0,
    };
    const PHONE: VolumeControl = VolumeControl::Digital {
        step_db: 3.0,
        steps: 16,
    };

    /// 16 settings 3 dB apart reach 0, −3, …, −45 dB: −10 rounds to −9, −10.6 to −12, −50 and
    /// −1000 stop at −45, +5 at 0. A pot takes any setting down to the model's floor.
    #[test]
    fn a_stepped_control_lands_on_its_nearest_step() {
        assert_eq!(PHONE.quietest_db(), -45.0);
        assert_eq!(PHONE.nearest(-10.0), -9.0);
        assert_eq!(PHONE.nearest(-10.6), -12.0);
        assert_eq!(PHONE.nearest(-50.0), -45.0);
        assert_eq!(PHONE.nearest(-1000.0), -45.0);
        assert_eq!(PHONE.nearest(5.0), 0.0);
        assert_eq!(PHONE.nearest(-0.4).to_bits(), 0f64.to_bits());
        assert_eq!(PHONE.resolution_db(), 1.5);
        assert_eq!(POT.nearest(-57.3), -57.3);
        assert_eq!(POT.nearest(-500.0), VOLUME_DB.min);
        assert_eq!(POT.resolution_db(), 0.0);
    }

    /// A pot tracked to −40 dB is usable at −40 and flagged at −40.1, with its figures named;
    /// a stepped control is never flagged for its setting.
    #[test]
    fn the_bottom_of_a_pots_travel_is_flagged() {
        assert!(POT.usable(-40.0) && POT.limit(-40.0).is_none());
        let limit = POT.limit(-40.1).unwrap();
        assert!(
            limit.contains("-40.1 dB") && limit.contains("-40 dB") && limit.contains("3.0 dB"),
            "{limit}"
        );
        assert!(PHONE.usable(-45.0) && PHONE.limit(-45.0).is_none());
    }

    #[test]
    fn the_command_line_spelling_parses_and_prints() {
        assert_eq!("pot:-40".parse::<VolumeControl>().unwrap(), POT);
        assert_eq!(
            "pot:-60:0.5".parse::<VolumeControl>().unwrap(),
            VolumeControl::Analog {
                tracked_to_db: -60.0,
                tracking_db: 0.5
            }
        );
        assert_eq!("digital:3x16".parse::<VolumeControl>().unwrap(), PHONE);
        assert_eq!(
            " Stepped:1X100 ".parse::<VolumeControl>().unwrap(),
            VolumeControl::Stepped {
                step_db: 1.0,
                steps: 100
            }
        );
        assert_eq!(
            PHONE.to_string(),
            "digital volume, 16 steps of 3.0 dB (down to -45 dB)"
        );
    }

    /// Each refusal names the value and what is accepted.
    #[test]
    fn bad_spellings_are_refused_with_the_forms() {
        for (text, names) in [
            ("-40", "no kind"),
            ("knob:-40", "unknown kind"),
            ("pot:loud", "not a number"),
            ("pot:+3", "tracked_to_db"),
            ("stepped:2", "no step count"),
            ("digital:3x1.5", "whole number"),
            ("digital:3x1", "steps"),
            ("stepped:0x10", "step_db"),
        ] {
            let e = text.parse::<VolumeControl>().unwrap_err();
            let message = e.to_string();
            assert!(message.contains(text.trim()), "{message}");
            assert!(message.contains(names), "{text}: {message}");
        }
    }

    /// The catalog's spelling: a table with a kind; an unknown field is refused.
    #[test]
    fn the_catalog_spelling_round_trips() {
        let toml = "kind = \"digital\"\nstep_db = 3.0\nsteps = 16\n";
        let parsed: VolumeControl = toml::from_str(toml).unwrap();
        assert_eq!(parsed, PHONE);
        assert!(toml::from_str::<VolumeControl>("kind = \"pot\"\n").is_err());
        assert!(
            toml::from_str::<VolumeControl>(
                "kind = \"analog\"\ntracked_to_db = -40.0\ntracking_db = 3.0\ngain = 1\n"
            )
            .is_err()
        );
    }
}
