//! The audition at run time: the Rig / A / B switch, the requests for new designs, and the bank
//! filter that plays them.
//!
//! The audio thread owns an [`AuditionStage`]. When the live values change it sends one
//! request (a plain `Copy` value, `design::handoff`) through an [`AuditionLink`] and waits for the
//! answer before it sends the next, so requests never pile up; the stage glides to each new
//! design. Nothing here allocates or locks.

use super::bank::BankFilter;
use super::limits::{EARS, MAX_CHANNELS};
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
            Selection::Rig => [Coefficients::IDENTITY; EARS],
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

#[cfg(test)]
mod tests {
    use super::*;

    const FS: f64 = 48_000.0;

    /// A link that records the requests and answers only when told to.
    #[derive(Default)]
    struct Recorder {
        sent: Vec<AuditionRequest>,
        answer: Option<DesignPair>,
    }

    impl AuditionLink for Recorder {
        fn request(&mut self, request: AuditionRequest) {
            self.sent.push(request);
        }
        fn receive(&mut self) -> Option<DesignPair> {
            self.answer.take()
        }
    }

    fn settings(output_ohms: f64, selection: Selection) -> AuditionSettings {
        let mut values = AuditionValues::default();
        values.a.output_ohms = output_ohms;
        AuditionSettings { selection, values }
    }

    /// A gain-only design: the FIR's first tap.
    fn gain(request_id: u64, sample_rate_hz: f64, g: f64) -> DesignPair {
        let mut a = Coefficients::IDENTITY;
        a.fir[0] = g;
        DesignPair {
            request_id,
            sample_rate_hz,
            a: [a; EARS],
            ..DesignPair::default()
        }
    }

    /// One request per change, none while its answer is awaited, the newest values once it has
    /// come; an answer that never comes is asked for again after the timeout.
    #[test]
    fn requests_wait_for_their_answers() {
        let mut stage = AuditionStage::new(FS);
        let mut link = Recorder::default();
        stage.update(&settings(10.0, Selection::Rig), 64, &mut link);
        assert_eq!(link.sent.len(), 1);
        stage.update(&settings(20.0, Selection::Rig), 64, &mut link);
        stage.update(&settings(30.0, Selection::Rig), 64, &mut link);
        assert_eq!(link.sent.len(), 1, "no request while one is awaited");
        link.answer = Some(gain(link.sent[0].id, FS, 1.0));
        stage.update(&settings(30.0, Selection::Rig), 64, &mut link);
        assert_eq!(link.sent.len(), 2);
        assert_eq!(link.sent[1].values.a.output_ohms, 30.0);
        assert!(link.sent[1].id > link.sent[0].id);
        let blocks = (REQUEST_TIMEOUT_S * FS / 64.0).ceil() as usize + 1;
        for _ in 0..blocks {
            stage.update(&settings(40.0, Selection::Rig), 64, &mut link);
        }
        assert_eq!(link.sent.len(), 3, "asked again after the timeout");
        assert_eq!(link.sent[2].values.a.output_ohms, 40.0);
    }

    /// The rig passes bit for bit while a design for A is in place; A plays the design (after its
    /// glide) and a design for another rate is ignored.
    #[test]
    fn the_switch_plays_the_designs_of_its_rate() {
        let mut stage = AuditionStage::new(FS);
        let mut link = Recorder::default();
        stage.update(&settings(10.0, Selection::Rig), 64, &mut link);
        link.answer = Some(gain(link.sent[0].id, FS, 0.5));
        stage.update(&settings(10.0, Selection::Rig), 64, &mut link);
        let mut x = vec![0.25f32; 64];
        stage.process(&mut [&mut x]);
        assert!(x.iter().all(|&v| v == 0.25), "the rig passes bit for bit");
        let ramp = (AUDITION_RAMP_MS / 1000.0 * FS) as usize;
        for _ in 0..ramp / 64 + 2 {
            stage.update(&settings(10.0, Selection::A), 64, &mut link);
            let mut x = vec![0.25f32; 64];
            stage.process(&mut [&mut x]);
        }
        let mut x = vec![0.25f32; 64];
        stage.update(&settings(10.0, Selection::A), 64, &mut link);
        stage.process(&mut [&mut x]);
        assert!(x.iter().all(|&v| (v - 0.125).abs() < 1e-6), "{:?}", &x[..4]);
        // A design made for 44.1 kHz does not reach a 48 kHz stage.
        link.answer = Some(gain(99, 44_100.0, 2.0));
        stage.update(&settings(10.0, Selection::A), 64, &mut link);
        let mut x = vec![0.25f32; 64];
        stage.process(&mut [&mut x]);
        assert!(x.iter().all(|&v| (v - 0.125).abs() < 1e-6), "{:?}", &x[..4]);
    }
}
