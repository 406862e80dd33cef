//! What crosses between the audio thread and the designers: the request (plain `Copy` values the
//! audio thread sends when the live values change), the answer (both audition filters and the
//! rig's SPL filters, through a triple buffer), the link trait the audio side talks to, and the
//! designer's status for the editor. Nothing here allocates after construction.

use std::sync::atomic::AtomicU32;

use atomic_float::AtomicF32;

use super::bank::Coefficients;
use super::spl::SplDesign;
use crate::model::Chain;
use crate::model::audition::{AuditionChain, ChainValues, DEFAULT_CEILING_DB, LevelMatch, Mode};
use crate::model::iem::EARS;

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

impl AuditionValues {
    /// The request these values make at `sample_rate_hz` (the editor and the benchmarks build
    /// the designer's own description of the chains from it).
    pub fn request_at(&self, sample_rate_hz: f64) -> AuditionRequest {
        self.request(sample_rate_hz, 0)
    }

    /// The request these values make, numbered `id` (the audio thread numbers its requests so it
    /// knows which answer is which).
    pub fn request(&self, sample_rate_hz: f64, id: u64) -> AuditionRequest {
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
    /// Chain A's filter per ear (left, right).
    pub a: [Coefficients; EARS],
    pub b: [Coefficients; EARS],
    /// `None` until the rig's filters have been designed at this rate.
    pub spl: Option<SplDesign>,
}

impl Default for DesignPair {
    fn default() -> Self {
        Self {
            request_id: 0,
            sample_rate_hz: 0.0,
            a: [Coefficients::IDENTITY; EARS],
            b: [Coefficients::IDENTITY; EARS],
            spl: None,
        }
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
    /// Per chain and ear (left, right; the same where the earpieces are): the gain applied
    /// besides the shape (level match or EMF ratio), dB.
    pub gain_db: [[AtomicF32; EARS]; 2],
    /// Per chain and ear: the level change at 1 kHz the ear gets, dB.
    pub level_at_1k_db: [[AtomicF32; EARS]; 2],
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
