//! The audition at run time: the Rig / A / B switch, the requests for new designs, and the bank
//! filter that plays them.
//!
//! The audio thread owns an [`AuditionStage`]. When the live values change it sends one
//! request (a plain `Copy` value, `design::handoff`) through an [`AuditionLink`] and waits for the
//! answer before it sends the next, so requests never pile up; the stage glides to each new
//! design. Nothing here allocates or locks.

use super::bank::BankFilter;
use super::limits::MAX_CHANNELS;
use crate::design::bank::Coefficients;
use crate::design::handoff::{AuditionLink, AuditionRequest, AuditionValues, DesignPair};
use crate::design::spl::SplDesign;

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

/// The live settings of the audition for one block.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AuditionSettings {
    pub selection: Selection,
    pub values: AuditionValues,
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
        let mut views: [&[f32]; MAX_CHANNELS] = [&[]; MAX_CHANNELS];
        let n = channels.len().min(MAX_CHANNELS);
        for (view, channel) in views.iter_mut().zip(channels.iter()) {
            *view = channel;
        }
        self.bank.advance(&views[..n], &mut self.scratch);
    }
}
