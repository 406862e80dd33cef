//! The audition at run time: the Rig / A / B switch, the requests for new designs, and the bank
//! filter that plays them.
//!
//! Threads: the audio thread owns an [`AuditionStage`]. When the live values change it sends one
//! [`AuditionRequest`] (a plain `Copy` value) through an [`AuditionLink`] — in the plugin a
//! wait-free ring to the instance's designer thread — and waits for the answer before it sends
//! the next, so requests never pile up. A [`Designer`] (that thread, the CLI or a test) designs
//! both audition chains (and the rig's SPL filters when the rig changed) and publishes a [`DesignPair`] through a triple buffer; the stage glides to it. Nothing on the
//! audio side allocates or locks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use atomic_float::AtomicF32;

use super::bank::{BankFilter, Coefficients};
use super::design::{Design, design};
use super::spl::{SplDesign, design_spl};
use crate::model::Chain;
use crate::model::audition::{
    Audition, AuditionChain, ChainValues, DEFAULT_CEILING_DB, LevelMatch, Mode,
};

/// How long a change of design or of the switch takes to complete, milliseconds: a linear
/// crossfade of the old and new filters' outputs.
pub const AUDITION_RAMP_MS: f64 = 10.0;
/// An answer that has not come within this long is given up on, and the request sent again.
const REQUEST_TIMEOUT_S: f64 = 0.5;

/// What the user hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Selection {
    /// The feed unchanged: the rig as it is.
    #[default]
    Rig,
    /// The rig made to sound as audition chain A.
    A,
    /// The rig made to sound as audition chain B.
    B,
}

/// The live values the designs depend on (everything but the switch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AuditionValues {
    pub a: ChainValues,
    pub b: ChainValues,
    pub mode: Mode,
    pub level_match: LevelMatch,
    pub ceiling_db: f64,
    /// Changes whenever the stored chains (catalog picks, imported curves, the rig) change.
    pub chains_revision: u64,
}

impl Default for AuditionValues {
    fn default() -> Self {
        let ideal = ChainValues {
            output_ohms: 0.0,
            series_ohms: 0.0,
            shunt_ohms: None,
            volume_db: 0.0,
        };
        Self {
            a: ideal,
            b: ideal,
            mode: Mode::Coloration,
            level_match: LevelMatch::PinkLoudness,
            ceiling_db: DEFAULT_CEILING_DB,
            chains_revision: 0,
        }
    }
}

/// A request for designs; sent from the audio thread to the designer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AuditionRequest {
    pub sample_rate_hz: f64,
    pub values: AuditionValues,
    /// Set by the stage: which request an answer belongs to.
    pub id: u64,
}

/// The live settings of the audition for one block.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AuditionSettings {
    pub selection: Selection,
    pub values: AuditionValues,
}

impl AuditionValues {
    /// The request these values make at `sample_rate_hz` (the editor and the benchmarks build
    /// the designer's own description of the chains from it).
    pub fn request_at(&self, sample_rate_hz: f64) -> AuditionRequest {
        self.request(sample_rate_hz, 0)
    }

    fn request(&self, sample_rate_hz: f64, id: u64) -> AuditionRequest {
        AuditionRequest {
            sample_rate_hz,
            values: *self,
            id,
        }
    }
}

/// Both audition filters, designed for one request, and the rig's pressure filters for the SPL
/// meter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DesignPair {
    /// The request answered (0: none yet).
    pub request_id: u64,
    pub sample_rate_hz: f64,
    pub a: Coefficients,
    pub b: Coefficients,
    /// `None` until the rig's filters have been designed at this rate.
    pub spl: Option<SplDesign>,
}

impl Default for DesignPair {
    fn default() -> Self {
        Self {
            request_id: 0,
            sample_rate_hz: 0.0,
            a: Coefficients::IDENTITY,
            b: Coefficients::IDENTITY,
            spl: None,
        }
    }
}

/// The engine and its designer on one thread: how the offline front ends (render, demo, the SPL
/// analysis) run exactly the plugin's processing. Designs happen between blocks.
pub struct OfflineEngine {
    engine: super::Engine,
    designer: InlineDesigner,
    settings: super::EngineSettings,
}

impl OfflineEngine {
    /// An engine settled on `settings`, with the designs made before the first block.
    pub fn new(
        sample_rate_hz: f64,
        channels: usize,
        settings: super::EngineSettings,
        chains: AuditionChains,
    ) -> Self {
        let mut designer = InlineDesigner::new(chains);
        designer.prime(&settings.audition, sample_rate_hz);
        Self {
            engine: super::Engine::new(sample_rate_hz as f32, channels, &settings),
            designer,
            settings,
        }
    }

    /// Keep the exposure in `store` (see [`super::Engine::with_exposure_store`]).
    pub fn with_exposure_store(
        mut self,
        store: std::sync::Arc<super::exposure::ExposureStore>,
    ) -> Self {
        self.engine = self.engine.with_exposure_store(store);
        self
    }

    /// Settings from the next block on (a switch glides as in the plugin).
    pub fn set_settings(&mut self, settings: super::EngineSettings) {
        self.settings = settings;
    }

    pub fn process(&mut self, channels: &mut [&mut [f32]], sink: &mut impl super::MeterSink) {
        self.engine
            .process_with(channels, &self.settings, sink, &mut self.designer);
        self.designer.run_pending();
    }

    /// End of the stream: pending peaks measured, the final meter frame to `sink`.
    pub fn finish(&mut self, sink: &mut impl super::MeterSink) {
        self.engine.finish(sink);
    }

    /// What the designer last did (gain, what the ceiling held back, fit error).
    pub fn status(&self) -> &AuditionStatus {
        self.designer.status()
    }
}

/// The audio thread's connection to whoever designs the filters.
pub trait AuditionLink {
    /// Ask for designs for these values. Called only when they change, at most once a block,
    /// and not again until the answer has come (or timed out).
    fn request(&mut self, request: AuditionRequest);
    /// The newest designs, if any arrived since the last call.
    fn receive(&mut self) -> Option<DesignPair>;
}

/// No designer: the audition stays where it is (metering only, benches of the meters).
impl AuditionLink for () {
    fn request(&mut self, _request: AuditionRequest) {}
    fn receive(&mut self) -> Option<DesignPair> {
        None
    }
}

/// The designer's end of the design handoff.
pub struct DesignSender {
    input: triple_buffer::Input<DesignPair>,
}

/// The audio thread's end.
pub struct DesignReceiver {
    output: triple_buffer::Output<DesignPair>,
}

/// A connected pair: the designer publishes, the audio thread takes the newest.
pub fn design_link() -> (DesignSender, DesignReceiver) {
    let (input, output) = triple_buffer::triple_buffer(&DesignPair::default());
    (DesignSender { input }, DesignReceiver { output })
}

impl DesignSender {
    pub fn publish(&mut self, pair: DesignPair) {
        self.input.write(pair);
    }
}

impl DesignReceiver {
    /// The newest pair if it is new since the last call.
    pub fn take_new(&mut self) -> Option<DesignPair> {
        self.output.update().then(|| *self.output.output_buffer())
    }
}

/// What the designer last produced, for the editor. Written by the designer's thread, read by the
/// GUI.
#[derive(Debug, Default)]
pub struct AuditionStatus {
    /// Per chain (A, B): the boost the ceiling held back, dB.
    pub held_back_db: [AtomicF32; 2],
    /// Per chain: the gain applied besides the shape (level match or EMF ratio), dB.
    pub gain_db: [AtomicF32; 2],
    /// Per chain: the level change at 1 kHz the ear gets, dB.
    pub level_at_1k_db: [AtomicF32; 2],
    /// Per chain: the largest deviation of the filter from its target, 20 Hz–20 kHz.
    pub fit_error_db: [AtomicF32; 2],
    pub fit_error_deg: [AtomicF32; 2],
    /// How long the last design took, microseconds.
    pub design_us: AtomicU32,
}

/// The chains that are stored (not automated): the rig and the two audition chains as picked.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditionChains {
    pub rig: Chain,
    pub a: AuditionChain,
    pub b: AuditionChain,
}

/// Designs the filters for requests; keeps the last design of each chain so an unchanged one
/// costs nothing.
pub struct Designer {
    sender: DesignSender,
    status: Arc<AuditionStatus>,
    last: [Option<(SlotKey, Design)>; 2],
    /// The rig's SPL design and what it was made for.
    last_spl: Option<(Chain, f64, SplDesign)>,
}

/// Everything one chain's design depends on.
#[derive(Debug, Clone, PartialEq)]
struct SlotKey {
    audition: Audition,
    sample_rate_hz: f64,
}

impl Designer {
    pub fn new(sender: DesignSender, status: Arc<AuditionStatus>) -> Self {
        Self {
            sender,
            status,
            last: [None, None],
            last_spl: None,
        }
    }

    /// The audition `request` describes for one chain, from the stored `chains`.
    pub fn audition(request: &AuditionRequest, chains: &AuditionChains, slot: usize) -> Audition {
        let v = &request.values;
        let (stored, values) = if slot == 0 {
            (&chains.a, &v.a)
        } else {
            (&chains.b, &v.b)
        };
        Audition {
            rig: chains.rig.clone(),
            chain: stored.with_values(values).on(&chains.rig),
            mode: v.mode,
            level_match: v.level_match,
            ceiling_db: v.ceiling_db,
        }
    }

    /// Design both chains for `request` and publish them.
    pub fn run(&mut self, request: &AuditionRequest, chains: &AuditionChains) {
        let start = std::time::Instant::now();
        let designs: [Design; 2] = std::array::from_fn(|slot| {
            let key = SlotKey {
                audition: Self::audition(request, chains, slot),
                sample_rate_hz: request.sample_rate_hz,
            };
            match &self.last[slot] {
                Some((last_key, last)) if *last_key == key => *last,
                _ => {
                    let made = design(&key.audition, key.sample_rate_hz);
                    self.last[slot] = Some((key, made));
                    made
                }
            }
        });
        let fs = request.sample_rate_hz;
        let spl_current = self
            .last_spl
            .as_ref()
            .filter(|(rig, rate, _)| *rig == chains.rig && *rate == fs)
            .map(|(_, _, d)| *d);
        let mut pair = DesignPair {
            request_id: request.id,
            sample_rate_hz: fs,
            a: designs[0].coefficients,
            b: designs[1].coefficients,
            spl: spl_current,
        };
        if spl_current.is_none() {
            // What is heard comes first: publish the audition, then design the SPL meter's
            // filters (the meter keeps the previous rig's until they come).
            pair.spl = self
                .last_spl
                .as_ref()
                .filter(|(_, rate, _)| *rate == fs)
                .map(|(_, _, d)| *d);
            self.sender.publish(pair);
            let made = design_spl(&chains.rig, fs);
            self.last_spl = Some((chains.rig.clone(), fs, made));
            pair.spl = Some(made);
        }
        self.sender.publish(pair);
        let status = &self.status;
        for (slot, d) in designs.iter().enumerate() {
            let put = |a: &AtomicF32, v: f64| a.store(v as f32, Ordering::Relaxed);
            put(&status.held_back_db[slot], d.gain.held_back_db);
            put(&status.gain_db[slot], d.gain.gain_db);
            put(&status.level_at_1k_db[slot], d.gain.level_at_1k_db);
            put(&status.fit_error_db[slot], d.fit_error_db);
            put(&status.fit_error_deg[slot], d.fit_error_deg);
        }
        let micros = start.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        status.design_us.store(micros, Ordering::Relaxed);
    }
}

/// A link that designs on the caller's thread, between blocks: for the command line and tests.
/// [`InlineDesigner::run_pending`] must be called outside the audio path (it allocates).
pub struct InlineDesigner {
    designer: Designer,
    receiver: DesignReceiver,
    pending: Option<AuditionRequest>,
    chains: AuditionChains,
}

impl InlineDesigner {
    pub fn new(chains: AuditionChains) -> Self {
        let (sender, receiver) = design_link();
        Self {
            designer: Designer::new(sender, Arc::default()),
            receiver,
            pending: None,
            chains,
        }
    }

    /// Design for `settings` now, so that a fresh engine starts on the designs with no glide.
    pub fn prime(&mut self, settings: &AuditionSettings, sample_rate_hz: f64) {
        self.designer
            .run(&settings.values.request(sample_rate_hz, 0), &self.chains);
    }

    /// What the designer last did.
    pub fn status(&self) -> &AuditionStatus {
        &self.designer.status
    }

    /// Answer the request the engine made, if any.
    pub fn run_pending(&mut self) {
        if let Some(request) = self.pending.take() {
            self.designer.run(&request, &self.chains);
        }
    }
}

impl AuditionLink for InlineDesigner {
    fn request(&mut self, request: AuditionRequest) {
        self.pending = Some(request);
    }
    fn receive(&mut self) -> Option<DesignPair> {
        self.receiver.take_new()
    }
}

/// The audition on the audio thread.
pub struct AuditionStage {
    sample_rate_hz: f64,
    bank: BankFilter,
    designs: DesignPair,
    /// The values of the last request sent, and whether its answer is awaited.
    sent: Option<AuditionRequest>,
    awaiting_samples: Option<u64>,
    next_id: u64,
    /// Whether any audio has been processed: designs before that are taken without a glide.
    started: bool,
    /// For [`BankFilter::advance`].
    scratch: Box<[f32]>,
}

/// Samples the stage keeps the filter warm on at a time while its output is not used.
const SCRATCH_LEN: usize = 1024;

impl AuditionStage {
    pub fn new(sample_rate_hz: f64) -> Self {
        let ramp = (AUDITION_RAMP_MS / 1000.0 * sample_rate_hz).round() as u32;
        Self {
            sample_rate_hz,
            bank: BankFilter::new(sample_rate_hz, ramp),
            designs: DesignPair::default(),
            sent: None,
            awaiting_samples: None,
            next_id: 1,
            started: false,
            scratch: vec![0.0; SCRATCH_LEN].into_boxed_slice(),
        }
    }

    /// Forget the signal; keep the designs and the switch.
    pub fn clear_state(&mut self) {
        self.bank.clear_state();
    }

    /// Take new designs, ask for new ones when the values changed, and follow the switch.
    pub fn update(
        &mut self,
        settings: &AuditionSettings,
        block_len: usize,
        link: &mut impl AuditionLink,
    ) {
        if let Some(pair) = link.receive()
            && pair.sample_rate_hz == self.sample_rate_hz
        {
            if self.sent.is_some_and(|s| s.id == pair.request_id) {
                self.awaiting_samples = None;
            }
            self.designs = pair;
        }
        if let Some(waited) = &mut self.awaiting_samples {
            *waited += block_len as u64;
            if *waited as f64 > REQUEST_TIMEOUT_S * self.sample_rate_hz {
                self.awaiting_samples = None;
            }
        }
        let wanted = settings.values.request(self.sample_rate_hz, self.next_id);
        let changed = self.sent.is_none_or(|sent| sent.values != wanted.values);
        if changed && self.awaiting_samples.is_none() {
            link.request(wanted);
            self.sent = Some(wanted);
            self.awaiting_samples = Some(0);
            self.next_id += 1;
        }
        let target = match settings.selection {
            Selection::Rig => Coefficients::IDENTITY,
            Selection::A => self.designs.a,
            Selection::B => self.designs.b,
        };
        if self.started {
            self.bank.set_target(&target);
        } else {
            self.bank.settle(&target);
        }
    }

    /// The rig's SPL design from the newest answer, if it has come.
    pub fn spl_design(&self) -> Option<SplDesign> {
        self.designs.spl
    }

    /// Filter the block in place (nothing is touched while the rig is selected and settled: the
    /// feed passes bit for bit, and the filter runs on a copy to stay warm).
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        self.started = true;
        if self.bank.is_settled_identity() {
            self.keep_warm(channels);
        } else {
            self.bank.process(channels);
        }
    }

    /// Run the filter's state on the block without changing it.
    pub fn keep_warm(&mut self, channels: &[&mut [f32]]) {
        self.started = true;
        let mut views: [&[f32]; super::MAX_CHANNELS] = [&[]; super::MAX_CHANNELS];
        let n = channels.len().min(super::MAX_CHANNELS);
        for (view, channel) in views.iter_mut().zip(channels.iter()) {
            *view = channel;
        }
        self.bank.advance(&views[..n], &mut self.scratch);
    }
}
