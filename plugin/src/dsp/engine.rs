//! The engine: everything the plugin does to one block of the monitor feed, and the frame of
//! readings it publishes after it.

use std::sync::Arc;

use super::audition::{AuditionSettings, AuditionStage};
use super::exposure::{self, ExposureStore};
use super::frame::{EngineFrame, MeterSink};
use super::gain::GainRamp;
use super::guard::{self, InputGuard, InputHealth};
use super::limits::MAX_CHANNELS;
use super::loudness;
use super::meter::Meter;
use super::pink::PinkNoise;
use super::spl::SplStage;
use super::tone::{Tone, ToneSettings};
use crate::design::handoff::AuditionLink;
use crate::model::spl::{PinkBand, Stage};

/// How long engaging or releasing the bypass takes: a linear crossfade, milliseconds.
pub const BYPASS_RAMP_MS: f64 = 10.0;
/// Samples per piece when a block is processed in pieces (the bypass crossfade keeps the dry
/// signal of one piece aside).
const CHUNK: usize = 512;

/// Per-block settings the front end hands to [`Engine::process`]; plain values, read once a block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineSettings {
    /// Output trim, dB.
    pub trim_db: f32,
    /// True peaks above this count as overs, dBTP.
    pub over_threshold_dbtp: f32,
    /// The audition: the switch and the live values of its chains.
    pub audition: AuditionSettings,
    /// Bypass: the feed passes unchanged, bit for bit, once the crossfade is done.
    pub bypass: bool,
    /// The calibration noise that replaces the feed (`None`: off).
    pub generator: Option<PinkBand>,
    /// The calibration tone that replaces the output (`None`: off).
    pub tone: Option<ToneSettings>,
    /// Stage mode (`None`: off).
    pub stage: Option<StageSettings>,
    /// The host's playhead at the block's first sample, seconds, when it is known (only to say
    /// where bad input was).
    pub timeline_s: Option<f64>,
}

/// Stage mode's values for one block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageSettings {
    /// The stage's ambient level, dBA.
    pub ambient_dba: f64,
    /// The user's isolation figure, dB.
    pub isolation_db: f64,
    /// Use the rig IEM's catalog isolation instead, when it has one.
    pub prefer_catalog: bool,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            trim_db: 0.0,
            over_threshold_dbtp: super::meter::DEFAULT_OVER_THRESHOLD_DBTP,
            audition: AuditionSettings::default(),
            bypass: false,
            generator: None,
            tone: None,
            stage: None,
            timeline_s: None,
        }
    }
}

/// Everything the plugin does to one block of the monitor feed, in place: the calibration noise
/// (when on), the audition, the output trim, then the meters on what leaves the plugin (what the
/// DAC gets, so a boost that makes new overs shows as overs) and the SPL it delivers through the
/// rig.
pub struct Engine {
    sample_rate_hz: f32,
    pink: PinkNoise,
    tone: Tone,
    audition: AuditionStage,
    spl: SplStage,
    /// Where the exposure totals are kept across project saves and loads (the plugin's state).
    exposure: Option<Arc<ExposureStore>>,
    trim: GainRamp,
    bypass: Crossfade,
    meter: Meter,
    /// The dry signal of one piece while the bypass crossfades.
    dry: Box<[[f32; CHUNK]; MAX_CHANNELS]>,
    /// Replaces non-finite input by silence (counted) and flushes subnormals.
    guard: InputGuard,
}

/// A linear crossfade position between processed (0) and dry (1).
#[derive(Debug, Clone, Copy)]
struct Crossfade {
    position: f32,
    step: f32,
    target: f32,
}

impl Crossfade {
    fn new(sample_rate_hz: f32, bypassed: bool) -> Self {
        let samples = (BYPASS_RAMP_MS as f32 / 1000.0 * sample_rate_hz).max(1.0);
        let at = if bypassed { 1.0 } else { 0.0 };
        Self {
            position: at,
            step: 1.0 / samples,
            target: at,
        }
    }

    fn set(&mut self, bypassed: bool) {
        self.target = if bypassed { 1.0 } else { 0.0 };
    }

    fn settle(&mut self, bypassed: bool) {
        self.set(bypassed);
        self.position = self.target;
    }

    fn settled(&self) -> Option<bool> {
        (self.position == self.target).then_some(self.target == 1.0)
    }

    /// `wet ← (1 − t)·wet + t·dry`, t moving one step a sample towards the target.
    fn mix(&mut self, wet: &mut [&mut [f32]], dry: &[[f32; CHUNK]]) {
        let len = wet.first().map_or(0, |c| c.len());
        for i in 0..len {
            self.position = if self.target > self.position {
                (self.position + self.step).min(self.target)
            } else {
                (self.position - self.step).max(self.target)
            };
            let t = self.position;
            for (channel, dry) in wet.iter_mut().zip(dry) {
                channel[i] += t * (dry[i] - channel[i]);
            }
        }
    }
}

impl Engine {
    /// An engine for `channels` channels at `sample_rate_hz`, settled at `settings` (no ramp on
    /// the first block).
    pub fn new(sample_rate_hz: f32, channels: usize, settings: &EngineSettings) -> Self {
        let mut meter = Meter::new(sample_rate_hz, channels);
        meter.set_over_threshold_dbtp(settings.over_threshold_dbtp);
        Self {
            sample_rate_hz,
            pink: PinkNoise::new(f64::from(sample_rate_hz)),
            tone: Tone::new(f64::from(sample_rate_hz)),
            audition: AuditionStage::new(f64::from(sample_rate_hz)),
            spl: SplStage::new(f64::from(sample_rate_hz)),
            exposure: None,
            trim: GainRamp::new(sample_rate_hz, settings.trim_db),
            bypass: Crossfade::new(sample_rate_hz, settings.bypass),
            meter,
            dry: Box::new([[0.0; CHUNK]; MAX_CHANNELS]),
            guard: InputGuard::new(f64::from(sample_rate_hz)),
        }
    }

    /// Keep the exposure totals in `store`: continue from what it holds (a loaded project) and
    /// publish to it after every block.
    pub fn with_exposure_store(mut self, store: Arc<ExposureStore>) -> Self {
        self.spl.attach(&store);
        self.exposure = Some(store);
        self
    }

    /// The exposure totals since the last reset.
    pub fn exposure_totals(&self) -> exposure::ExposureTotals {
        self.spl.totals()
    }

    /// The blocks behind integrated loudness and loudness range since the last reset, to merge
    /// several measurements into one programme (album loudness).
    pub fn loudness_blocks(&self) -> &loudness::GatedBlocks {
        self.meter.loudness_blocks()
    }

    /// The non-finite input replaced by silence since the last "reset all".
    pub fn input_health(&self) -> InputHealth {
        self.guard.health()
    }

    pub fn sample_rate_hz(&self) -> f32 {
        self.sample_rate_hz
    }

    pub fn channels(&self) -> usize {
        self.meter.channels()
    }

    /// Forget the signal history and settle at `settings` (transport jumps, re-activation). The
    /// readings and holds stay: only the user resets them.
    pub fn reset(&mut self, settings: &EngineSettings) {
        self.trim.settle(settings.trim_db);
        self.bypass.settle(settings.bypass);
        self.audition.clear_state();
        self.meter.clear_history();
        self.spl.clear_history();
        self.pink.silence();
        self.tone.silence();
    }

    /// Process one block in place, with no designer for the audition (it stays as it is).
    pub fn process(
        &mut self,
        channels: &mut [&mut [f32]],
        settings: &EngineSettings,
        sink: &mut impl MeterSink,
    ) {
        self.process_with(channels, settings, sink, &mut ());
    }

    /// Process one block in place. `channels` holds one slice per channel (as many as the engine
    /// was made for), all the same length; `link` reaches whoever designs the audition filters.
    pub fn process_with(
        &mut self,
        channels: &mut [&mut [f32]],
        settings: &EngineSettings,
        sink: &mut impl MeterSink,
        link: &mut impl AuditionLink,
    ) {
        let requests = sink.requests();
        if requests.reset_all {
            self.meter.reset();
            self.guard.reset();
        } else if requests.reset_peaks {
            self.meter.reset_peaks();
        }
        self.meter
            .set_over_threshold_dbtp(settings.over_threshold_dbtp);
        if let Some(store) = &self.exposure {
            self.spl.sync(store);
        }
        self.guard.clean_input(channels, settings.timeline_s);
        let len = channels.first().map_or(0, |c| c.len());
        self.audition.update(&settings.audition, len, link);
        if let Some(design) = self.audition.spl_design() {
            self.spl.set_design(&design);
        }
        self.set_stage(settings.stage.as_ref());
        self.trim.set_target_db(settings.trim_db);
        self.bypass.set(settings.bypass);
        match self.bypass.settled() {
            Some(true) => {
                self.audition.keep_warm(channels);
                self.trim.settle(settings.trim_db);
            }
            Some(false) => self.shape(channels, settings.generator, settings.tone),
            None => self.crossfade(channels, len, settings.generator, settings.tone),
        }
        guard::clean_output(channels);

        let mut views: [&[f32]; MAX_CHANNELS] = [&[]; MAX_CHANNELS];
        let n = channels.len().min(MAX_CHANNELS);
        for (view, channel) in views.iter_mut().zip(channels.iter()) {
            *view = channel;
        }
        self.meter.process(&views[..n], |event| sink.over(event));
        self.spl.process(channels);
        if let Some(store) = &self.exposure {
            store.publish(&self.spl.totals());
        }
        sink.frame(&self.frame());
    }

    /// The meters' frame with the SPL readings and the input guard's count.
    fn frame(&self) -> EngineFrame {
        EngineFrame {
            meter: self.meter.frame(),
            input: self.guard.health(),
            spl: self.spl.readings(self.meter.channels()),
        }
    }

    /// Stage mode for this block: the leak from the ambient level and the isolation (the rig
    /// IEM's catalog figure when preferred and known, else the user's).
    fn set_stage(&mut self, stage: Option<&StageSettings>) {
        let catalog = self.spl.catalog_isolation_db();
        let leak = stage.map(|s| {
            Stage {
                ambient_dba: s.ambient_dba,
                isolation_db: Stage::isolation_db(catalog, s.isolation_db, s.prefer_catalog),
            }
            .leak_dba()
        });
        self.spl.set_stage(leak);
    }

    /// What the plugin does to the feed: the calibration noise in place of the feed when on, the
    /// audition, the trim, then the calibration tone in place of all of it when on.
    fn shape(
        &mut self,
        channels: &mut [&mut [f32]],
        generator: Option<PinkBand>,
        tone: Option<ToneSettings>,
    ) {
        self.pink.process(channels, generator);
        self.audition.process(channels);
        self.trim.apply(channels);
        self.tone.process(channels, tone);
    }

    /// Piece by piece, the processed feed crossfaded with the dry one.
    fn crossfade(
        &mut self,
        channels: &mut [&mut [f32]],
        len: usize,
        generator: Option<PinkBand>,
        tone: Option<ToneSettings>,
    ) {
        let n = channels.len().min(MAX_CHANNELS);
        for start in (0..len).step_by(CHUNK) {
            let end = (start + CHUNK).min(len);
            let mut views: [&mut [f32]; MAX_CHANNELS] = Default::default();
            for ((view, channel), dry) in views
                .iter_mut()
                .zip(channels.iter_mut())
                .zip(self.dry.iter_mut())
            {
                *view = &mut channel[start..end];
                dry[..end - start].copy_from_slice(view);
            }
            self.shape(&mut views[..n], generator, tone);
            self.bypass.mix(&mut views[..n], &self.dry[..n]);
        }
    }

    /// End of an offline stream: the signal is silent after it, so pending true peaks are
    /// measured and open overs closed; then the final frame.
    pub fn finish(&mut self, sink: &mut impl MeterSink) {
        self.meter.finish(|event| sink.over(event));
        sink.frame(&self.frame());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::frame::Collector;

    /// NaN and infinities come out as silence and are counted; subnormals as zero; everything
    /// else bit for bit; and the next block is clean (nothing poisoned).
    #[test]
    fn hostile_samples_never_leave() {
        let mut engine = Engine::new(48_000.0, 1, &EngineSettings::default());
        let subnormal = f32::from_bits(1);
        let mut block = vec![
            0.25,
            f32::NAN,
            -0.5,
            f32::INFINITY,
            f32::NEG_INFINITY,
            subnormal,
            -subnormal,
            1e30,
        ];
        engine.process(&mut [&mut block], &EngineSettings::default(), &mut ());
        let expected = [0.25, 0.0, -0.5, 0.0, 0.0, 0.0, 0.0, 1e30];
        for (got, want) in block.iter().zip(expected) {
            assert_eq!(got.abs().to_bits(), f32::abs(want).to_bits(), "{block:?}");
            assert_eq!(got.is_sign_negative() && *got != 0.0, want < 0.0);
        }
        assert_eq!(engine.input_health().non_finite_samples, 3);
        let mut next = vec![0.1f32; 64];
        let mut collector = Collector::default();
        engine.process(&mut [&mut next], &EngineSettings::default(), &mut collector);
        assert!(next.iter().all(|&v| v == 0.1));
        assert!(
            collector.frame.meter.channel[0]
                .sample_peak_max_dbfs
                .is_finite()
        );
    }

    #[test]
    fn default_settings_pass_every_bit_through() {
        let mut engine = Engine::new(48_000.0, 2, &EngineSettings::default());
        let original: Vec<f32> = (0..512)
            .map(|i| ((i as f32) * 0.37).sin() * 0.9 + f32::MIN_POSITIVE * (i % 3) as f32)
            .collect();
        let mut left = original.clone();
        let mut right = original.iter().map(|x| -x).collect::<Vec<_>>();
        engine.process(
            &mut [&mut left, &mut right],
            &EngineSettings::default(),
            &mut (),
        );
        assert!(
            left.iter()
                .zip(&original)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        assert!(
            right
                .iter()
                .zip(&original)
                .all(|(a, b)| a.to_bits() == (-b).to_bits())
        );
    }
}
