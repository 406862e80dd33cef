//! Host-automatable parameters. The `#[id]` strings are part of saved projects and host
//! automation lanes: never rename one once it has shipped.

use nice_plug::prelude::*;

/// Lowest output trim, dB.
pub const TRIM_MIN_DB: f32 = -24.0;
/// Highest output trim, dB.
pub const TRIM_MAX_DB: f32 = 12.0;
/// Range of the over threshold, dBTP.
pub const OVER_THRESHOLD_MIN_DBTP: f32 = -12.0;
pub const OVER_THRESHOLD_MAX_DBTP: f32 = 3.0;

#[derive(Params)]
pub struct EarstageParams {
    /// Output trim after everything else, in dB. 0 dB is an exact pass-through (bit for bit), so
    /// the plugin can sit on a monitor bus without touching the feed. The engine ramps changes over
    /// `dsp::TRIM_RAMP_MS` so automation never clicks.
    #[id = "trim"]
    pub trim_db: FloatParam,

    /// True peaks above this level count as overs and enter the over log, in dBTP. 0 dBTP is
    /// full scale; −1 dBTP leaves the headroom lossy codecs and wireless transmitters need.
    #[id = "over_thr"]
    pub over_threshold_dbtp: FloatParam,
}

impl Default for EarstageParams {
    fn default() -> Self {
        Self {
            trim_db: FloatParam::new(
                "Output Trim",
                0.0,
                FloatRange::Linear {
                    min: TRIM_MIN_DB,
                    max: TRIM_MAX_DB,
                },
            )
            .with_unit(" dB")
            .with_step_size(0.1)
            .with_value_to_string(formatters::v2s_f32_rounded(1)),
            over_threshold_dbtp: FloatParam::new(
                "Over Threshold",
                crate::dsp::meter::DEFAULT_OVER_THRESHOLD_DBTP,
                FloatRange::Linear {
                    min: OVER_THRESHOLD_MIN_DBTP,
                    max: OVER_THRESHOLD_MAX_DBTP,
                },
            )
            .with_unit(" dBTP")
            .with_step_size(0.1)
            .with_value_to_string(formatters::v2s_f32_rounded(1)),
        }
    }
}
