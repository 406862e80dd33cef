//! Offline rendering through the plugin's own audition engine (the same designer and filter as the
//! plugin): a file played as an audition chain would deliver it, and the A/B audition of a chain
//! against its ideal source. Written as 32-bit float WAV; a failed render leaves nothing behind.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use thiserror::Error;

use super::analysis::{MeterReport, Progress, report_opened};
use super::audio_file::{AudioFile, AudioFileError};
use super::engine::OfflineEngine;
use super::output::{OutputError, check_new_file, write_atomically_with};
use crate::design::handoff::{AuditionChains, AuditionValues};
use crate::dsp::audition::{AuditionSettings, Selection};
use crate::dsp::{Collector, EngineSettings};
use crate::model::Chain;
use crate::model::audition::{AuditionChain, LevelMatch, Mode};

/// Frames the A/B audition feeds the engine at a time, as a host would.
const AB_BLOCK: usize = 512;

#[derive(Debug, Error)]
pub enum RenderError {
    #[error(transparent)]
    Input(#[from] AudioFileError),
    #[error("{path}: the output would overwrite the input; name another file")]
    OverwritesInput { path: PathBuf },
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: hound::Error,
    },
}

/// How the audition is heard.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderSettings {
    pub mode: Mode,
    pub level_match: LevelMatch,
    /// The largest boost at any frequency, dB (`audition::CEILING_DB`).
    pub ceiling_db: f64,
}

/// What a render did.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderReport {
    /// Gain applied besides the change of shape (level match or EMF ratio), dB.
    pub audition_gain_db: f64,
    /// What the ceiling held back, dB.
    pub held_back_db: f64,
    /// Level change at 1 kHz the ear gets, dB.
    pub level_at_1k_db: f64,
    /// Largest deviation of the filter from the model, 20 Hz–20 kHz.
    pub fit_error_db: f64,
    pub fit_error_deg: f64,
    /// The meters on the rendered output.
    pub meters: MeterReport,
}

impl Default for RenderSettings {
    /// The plugin's defaults.
    fn default() -> Self {
        let values = AuditionValues::default();
        Self {
            mode: values.mode,
            level_match: values.level_match,
            ceiling_db: values.ceiling_db,
        }
    }
}

/// The engine's settings for hearing `selection` with `audition` as chains A and B.
fn engine_settings(
    audition: &AuditionChain,
    settings: &RenderSettings,
    selection: Selection,
) -> EngineSettings {
    EngineSettings {
        audition: AuditionSettings {
            selection,
            values: AuditionValues {
                a: audition.values(),
                b: audition.values(),
                mode: settings.mode,
                level_match: settings.level_match,
                ceiling_db: settings.ceiling_db,
                chains_revision: 0,
            },
        },
        ..EngineSettings::default()
    }
}

/// An offline engine hearing `audition` (as A and B) through `rig`.
fn audition_engine(
    audition: &AuditionChain,
    rig: &Chain,
    sample_rate_hz: u32,
    channels: usize,
    settings: EngineSettings,
) -> OfflineEngine {
    let chains = AuditionChains {
        rig: rig.clone(),
        a: audition.clone(),
        b: audition.clone(),
    };
    OfflineEngine::new(f64::from(sample_rate_hz), channels, settings, chains)
}

/// Refuses to overwrite the input, then what [`check_new_file`] refuses: a folder, a name whose
/// extension says another format than the WAV written, a missing folder, an existing file unless
/// `force`.
fn check_output(input: &Path, output: &Path, force: bool) -> Result<(), RenderError> {
    if let (Ok(a), Ok(b)) = (input.canonicalize(), output.canonicalize())
        && a == b
    {
        return Err(RenderError::OverwritesInput {
            path: output.to_owned(),
        });
    }
    Ok(check_new_file(
        output,
        force,
        &["wav", "wave"],
        "32-bit float WAV",
    )?)
}

fn float_wav(channels: usize, sample_rate_hz: u32) -> hound::WavSpec {
    hound::WavSpec {
        channels: channels as u16,
        sample_rate: sample_rate_hz,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    }
}

/// Play `input` through `audition` heard on `rig`, block by block as a host would, into
/// `output` (32-bit float WAV at the input's rate and channels). Written beside the output and
/// renamed at the end, so a failed render leaves nothing and never half-overwrites a file.
/// `progress` is told the input's length once it is open and the frames done after each block.
pub fn render_file(
    input: &Path,
    output: &Path,
    force: bool,
    audition: &Chain,
    rig: &Chain,
    settings: &RenderSettings,
    mut progress: impl Progress,
) -> Result<RenderReport, RenderError> {
    check_output(input, output, force)?;
    let mut file = AudioFile::open(input)?;
    report_opened(&mut progress, &file);
    let (fs, channels) = (file.sample_rate, file.channels);
    let chain = AuditionChain::from_rig(audition);
    let settings = engine_settings(&chain, settings, Selection::A);
    let mut engine = audition_engine(&chain, rig, fs, channels, settings);
    let mut collector = Collector::default();
    write_atomically_with(output, |partial| {
        let write_error = |source| RenderError::Write {
            path: output.to_owned(),
            source,
        };
        let mut writer =
            hound::WavWriter::create(partial, float_wav(channels, fs)).map_err(write_error)?;
        let mut planar = vec![Vec::new(); channels];
        loop {
            let n = file.read_block(&mut planar)?;
            if n == 0 {
                break;
            }
            let mut views: Vec<&mut [f32]> = planar.iter_mut().map(|c| c.as_mut_slice()).collect();
            engine.process(&mut views, &mut collector);
            for i in 0..n {
                for channel in &planar {
                    writer.write_sample(channel[i]).map_err(write_error)?;
                }
            }
            progress.advanced(n as u64);
        }
        writer.finalize().map_err(write_error)
    })?;
    engine.finish(&mut collector);
    let status = engine.status();
    let load = |a: &atomic_float::AtomicF32| f64::from(a.load(Ordering::Relaxed));
    Ok(RenderReport {
        audition_gain_db: load(&status.gain_db[0][0]),
        held_back_db: load(&status.held_back_db[0]),
        level_at_1k_db: load(&status.level_at_1k_db[0][0]),
        fit_error_db: load(&status.fit_error_db[0]),
        fit_error_deg: load(&status.fit_error_deg[0]),
        meters: MeterReport::new(
            &collector.frame.meter,
            &collector.overs,
            file.duration_read_s(),
        ),
    })
}

/// The A/B audition of `chain`: stereo `input` alternating every `segment_s` between the same IEM
/// on an ideal source (the rig, "A", first) and the chain ("B"), level-matched (coloration mode),
/// made by the plugin's engine switching between Rig and audition A, so each switch is the
/// plugin's own crossfade.
pub fn ab_audition(
    chain: &Chain,
    input: &[Vec<f32>; 2],
    sample_rate_hz: u32,
    segment_s: f64,
) -> [Vec<f32>; 2] {
    let audition = AuditionChain::from_rig(chain);
    let settings_for =
        |selection| engine_settings(&audition, &RenderSettings::default(), selection);
    let mut engine = audition_engine(
        &audition,
        &chain.reference(),
        sample_rate_hz,
        2,
        settings_for(Selection::Rig),
    );
    let segment = (segment_s * f64::from(sample_rate_hz)) as usize;
    let [mut left_all, mut right_all] = input.clone();
    for (n, (left, right)) in left_all
        .chunks_mut(AB_BLOCK)
        .zip(right_all.chunks_mut(AB_BLOCK))
        .enumerate()
    {
        let selection = if (n * AB_BLOCK / segment) % 2 == 1 {
            Selection::A
        } else {
            Selection::Rig
        };
        engine.set_settings(settings_for(selection));
        engine.process(&mut [left, right], &mut ());
    }
    [left_all, right_all]
}

/// Write planar audio as 32-bit float WAV, through [`write_atomically_with`].
pub fn write_float_wav(
    path: &Path,
    planar: &[Vec<f32>],
    sample_rate_hz: u32,
) -> Result<(), RenderError> {
    write_atomically_with(path, |partial| {
        let error = |source| RenderError::Write {
            path: path.to_owned(),
            source,
        };
        let mut writer = hound::WavWriter::create(partial, float_wav(planar.len(), sample_rate_hz))
            .map_err(error)?;
        for i in 0..planar.first().map_or(0, Vec::len) {
            for channel in planar {
                writer.write_sample(channel[i]).map_err(error)?;
            }
        }
        writer.finalize().map_err(error)
    })
}
