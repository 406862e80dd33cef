//! The engine: everything the plugin does to one block of the monitor feed, and the frame of
//! readings it publishes after it.

use std::sync::Arc;

use super::audition::{AuditionSettings, AuditionStage};
use super::frame::{EngineFrame, MeterSink};
use super::guard::{self, InputGuard, InputHealth};
use super::limits::MAX_CHANNELS;
use super::meter::history_feed::HistoryFeed;
use super::meter::loudness;
use super::meter::{Meter, MeterEvent};
use super::signal::gain::GainRamp;
use super::signal::pink::PinkNoise;
use super::signal::tone::{Tone, ToneSettings};
use super::spl::exposure::{self, ExposureStore};
use super::spl::stage::SplStage;
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
    /// The host's playhead at the block's first sample, seconds, when it is known (to say where
    /// bad input was, and where an over began).
    pub timeline_s: Option<f64>,
    /// Whether the host's transport plays, when it says.
    pub playing: Option<bool>,
    /// Start the measurement again when the transport starts.
    pub reset_on_play: bool,
    /// Hold the integrated loudness and range while the transport is stopped.
    pub pause_when_stopped: bool,
    /// The wall-clock time at the block's first sample, seconds since 1970-01-01 UTC (the
    /// plugin's; `None` offline), to say when an over began.
    pub wall_clock_s: Option<f64>,
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
            playing: None,
            reset_on_play: false,
            pause_when_stopped: false,
            wall_clock_s: None,
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
    /// Whether the transport played in the last block (to see it start).
    was_playing: bool,
    /// Where the loudness history is made, when it is made on another thread
    /// ([`Engine::with_history_feed`]); without it the meter keeps its own.
    history_feed: Option<HistoryFeed>,
}

/// Where and when the block began, to place the overs it hands out on the host's timeline and
/// the wall clock: an over that began `d` seconds of measured time after the block's start began
/// `d` seconds after the block's timeline position and clock time (the transport having played
/// on).
#[derive(Debug, Clone, Copy)]
struct OverStamp {
    measured_s: f64,
    timeline_s: Option<f64>,
    wall_clock_s: Option<f64>,
}

impl OverStamp {
    fn apply(&self, event: MeterEvent) -> MeterEvent {
        match event {
            MeterEvent::Over(mut over) => {
                let after = over.time_s - self.measured_s;
                over.timeline_s = self.timeline_s.map(|t| t + after);
                over.wall_clock_s = self.wall_clock_s.map(|t| t + after);
                MeterEvent::Over(over)
            }
            point => point,
        }
    }
}

/// One of the meter's events, to the sink method it belongs to.
fn deliver(sink: &mut impl MeterSink, event: MeterEvent) {
    match event {
        MeterEvent::Over(over) => sink.over(over),
        MeterEvent::Point(point) => sink.history(point),
    }
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
            was_playing: false,
            history_feed: None,
        }
    }

    /// Make the loudness history on another thread: the meter runs without it and hands every
    /// block, with its resets, holds and jumps, to `feed` (the plugin's audio thread, where
    /// the history's refinement work would otherwise count against the block).
    pub fn with_history_feed(mut self, feed: HistoryFeed) -> Self {
        self.meter.keep_history(false);
        self.history_feed = Some(feed);
        self
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
        if let Some(feed) = &mut self.history_feed {
            feed.clear_signal();
        }
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
        let playing = settings.playing.unwrap_or(true);
        let started = settings.playing == Some(true) && !self.was_playing;
        self.was_playing = settings.playing == Some(true);
        if requests.reset_all || (settings.reset_on_play && started) {
            self.meter.reset();
            self.guard.reset();
            if let Some(feed) = &mut self.history_feed {
                feed.reset();
            }
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
        let held = settings.pause_when_stopped && !playing;
        self.meter.hold_integration(held);
        let stamp = OverStamp {
            measured_s: self.meter.measured_s(),
            timeline_s: settings.timeline_s.filter(|_| playing),
            wall_clock_s: settings.wall_clock_s,
        };
        self.meter
            .process_events(&views[..n], |event| deliver(sink, stamp.apply(event)));
        if let Some(feed) = &mut self.history_feed {
            feed.hold(held);
            feed.push(&views[..n]);
        }
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
        self.meter.finish_events(|event| deliver(sink, event));
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

    /// Blocks of 4800 samples of a 997 Hz sine at `amplitude`, `seconds` long, each with
    /// `settings` made by `at(t)` for the block starting at t.
    fn play(
        engine: &mut Engine,
        sink: &mut Collector,
        amplitude: f32,
        seconds: f64,
        at: impl Fn(f64) -> EngineSettings,
    ) {
        let blocks = (seconds * 10.0).round() as usize;
        let start = engine.meter.measured_s();
        for b in 0..blocks {
            let t0 = b as f64 * 0.1;
            let mut block: Vec<f32> = (0..4800)
                .map(|i| {
                    let t = start + t0 + i as f64 / 48_000.0;
                    amplitude * (2.0 * std::f64::consts::PI * 997.0 * t).sin() as f32
                })
                .collect();
            engine.process(&mut [&mut block], &at(t0), sink);
        }
    }

    /// With "pause when stopped", a loud stretch while the transport is stopped changes neither
    /// the integrated loudness nor the range (bit for bit), though momentary follows it; without
    /// the option it would have been counted.
    #[test]
    fn a_stopped_transport_holds_integration_when_asked() {
        let run = |pause: bool| {
            let mut engine = Engine::new(48_000.0, 1, &EngineSettings::default());
            let mut sink = Collector::default();
            let with = |playing| EngineSettings {
                playing: Some(playing),
                pause_when_stopped: pause,
                ..EngineSettings::default()
            };
            play(&mut engine, &mut sink, 0.1, 4.0, |_| with(true));
            let before = sink.frame.meter.loudness;
            play(&mut engine, &mut sink, 0.9, 2.0, |_| with(false));
            (before, sink.frame.meter.loudness)
        };
        let (before, stopped) = run(true);
        assert_eq!(stopped.integrated_lufs, before.integrated_lufs);
        assert_eq!(stopped.loudness_range_lu, before.loudness_range_lu);
        assert!(stopped.momentary_lufs.unwrap() > before.integrated_lufs.unwrap() + 15.0);
        let (_, counted) = run(false);
        assert!(counted.integrated_lufs.unwrap() > before.integrated_lufs.unwrap() + 10.0);
    }

    /// With "reset on play", the measurement after the transport starts again is that of a fresh
    /// engine fed only what follows (to 1e-9 LU); stopping alone resets nothing.
    #[test]
    fn a_transport_start_resets_when_asked() {
        let with = |playing| EngineSettings {
            playing: Some(playing),
            reset_on_play: true,
            ..EngineSettings::default()
        };
        let mut engine = Engine::new(48_000.0, 1, &EngineSettings::default());
        let mut sink = Collector::default();
        play(&mut engine, &mut sink, 0.9, 2.0, |_| with(true));
        play(&mut engine, &mut sink, 0.9, 0.5, |_| with(false));
        assert!(sink.frame.meter.loudness.measured_s > 2.4);
        play(&mut engine, &mut sink, 0.05, 1.5, |_| with(true));
        let mut fresh = Engine::new(48_000.0, 1, &EngineSettings::default());
        let mut fresh_sink = Collector::default();
        // The fresh engine's sine starts at its own time 0; the phase does not move loudness.
        play(&mut fresh, &mut fresh_sink, 0.05, 1.5, |_| {
            EngineSettings::default()
        });
        let (got, want) = (
            sink.frame.meter.loudness.integrated_lufs.unwrap(),
            fresh_sink.frame.meter.loudness.integrated_lufs.unwrap(),
        );
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        assert!((sink.frame.meter.loudness.measured_s - 1.5).abs() < 1e-9);
    }

    /// An over 1.25 s into a run whose blocks say where the playhead (100 s + t) and the clock
    /// (1.7e9 s + t) were: the over carries both, to the refiner's look-ahead (1 ms).
    #[test]
    fn overs_carry_the_timeline_and_the_wall_clock() {
        let mut engine = Engine::new(48_000.0, 1, &EngineSettings::default());
        let mut sink = Collector::default();
        for b in 0..20 {
            let t0 = b as f64 * 0.1;
            let mut block = vec![0.0f32; 4800];
            if b == 12 {
                // A full-scale-plus click at 1.25 s.
                block[2400] = 1.5;
            }
            let settings = EngineSettings {
                playing: Some(true),
                timeline_s: Some(100.0 + t0),
                wall_clock_s: Some(1.7e9 + t0),
                ..EngineSettings::default()
            };
            engine.process(&mut [&mut block], &settings, &mut sink);
        }
        let over = sink.overs.first().copied().expect("an over");
        assert!((over.time_s - 1.25).abs() < 1e-3, "{over:?}");
        assert!((over.timeline_s.unwrap() - 101.25).abs() < 1e-3, "{over:?}");
        assert!(
            (over.wall_clock_s.unwrap() - (1.7e9 + 1.25)).abs() < 1e-3,
            "{over:?}"
        );
    }
}
