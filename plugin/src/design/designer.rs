//! The designer: turns a request and the stored chains into both audition filters and the rig's
//! SPL filters, and publishes them. It allocates and takes milliseconds, so it runs off the audio
//! thread: on the instance's design thread in the plugin ([`super::thread`]), or between blocks in
//! the offline front ends and tests ([`InlineDesigner`]).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use atomic_float::AtomicF32;

use super::fit::{Design, design};
use super::handoff::{
    AuditionChains, AuditionLink, AuditionRequest, AuditionStatus, AuditionValues, DesignPair,
    DesignReceiver, DesignSender, design_link,
};
use super::spl::{SplDesign, design_spl};
use crate::model::Chain;
use crate::model::audition::Audition;
use crate::model::iem::{EARS, Ear};

/// Designs the filters for requests; keeps the last design of each chain so an unchanged one
/// costs nothing.
pub struct Designer {
    sender: DesignSender,
    status: Arc<AuditionStatus>,
    /// Per chain (A, B), per ear.
    last: [[Option<(SlotKey, Design)>; EARS]; 2],
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
            last: Default::default(),
            last_spl: None,
        }
    }

    /// The audition `request` describes for one chain, from the stored `chains` (both earpieces
    /// in the rig; [`Audition::ear`] takes one).
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

    /// The design of `slot`'s `ear` for `key`: the one made already (`made`), else the last one
    /// if it is for the same key, else a new one; kept as the last.
    fn cached_or(&mut self, slot: usize, ear: Ear, key: SlotKey, made: Option<Design>) -> Design {
        let last = &mut self.last[slot][ear.index()];
        match (made, last.as_ref()) {
            (Some(made), _) => {
                *last = Some((key, made));
                made
            }
            (None, Some((last_key, cached))) if *last_key == key => *cached,
            (None, _) => {
                let made = design(&key.audition, key.sample_rate_hz);
                *last = Some((key, made));
                made
            }
        }
    }

    /// Design both chains for `request` and publish them.
    pub fn run(&mut self, request: &AuditionRequest, chains: &AuditionChains) {
        let start = std::time::Instant::now();
        let ears_differ = chains.rig.iem.ears_differ();
        let designs: [[Design; EARS]; 2] = std::array::from_fn(|slot| {
            let audition = Self::audition(request, chains, slot);
            let key = |ear: Ear| SlotKey {
                audition: audition.ear(ear),
                sample_rate_hz: request.sample_rate_hz,
            };
            let left = key(Ear::Left);
            if !ears_differ {
                let made = self.cached_or(slot, Ear::Left, left, None);
                return [made, made];
            }
            let right = key(Ear::Right);
            // Each ear's design is a whole fit: where both must be made, the right ear's runs on
            // a second thread beside the left's, so a per-ear redesign takes the time of one.
            let stale = |ear: Ear, key: &SlotKey| !matches!(&self.last[slot][ear.index()], Some((last, _)) if last == key);
            let right_made = (stale(Ear::Left, &left) && stale(Ear::Right, &right))
                .then(|| design_ears(&left.audition, &right.audition, request.sample_rate_hz));
            let (left_made, right_made) = match right_made {
                Some((l, r)) => (Some(l), Some(r)),
                None => (None, None),
            };
            [
                self.cached_or(slot, Ear::Left, left, left_made),
                self.cached_or(slot, Ear::Right, right, right_made),
            ]
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
            a: designs[0].map(|d| d.coefficients),
            b: designs[1].map(|d| d.coefficients),
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
        for (slot, [left, right]) in designs.iter().enumerate() {
            // The gains per ear; what was held back and the fit's error are the larger of the
            // two.
            let put = |a: &AtomicF32, v: f64| a.store(v as f32, Ordering::Relaxed);
            let worse = |f: fn(&Design) -> f64| f(left).max(f(right));
            put(&status.held_back_db[slot], worse(|d| d.gain.held_back_db));
            for (ear, design) in [left, right].into_iter().enumerate() {
                put(&status.gain_db[slot][ear], design.gain.gain_db);
                put(
                    &status.level_at_1k_db[slot][ear],
                    design.gain.level_at_1k_db,
                );
            }
            put(&status.fit_error_db[slot], worse(|d| d.fit_error_db));
            put(&status.fit_error_deg[slot], worse(|d| d.fit_error_deg));
        }
        let micros = start.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        status.design_us.store(micros, Ordering::Relaxed);
    }
}

/// The designs of one chain's two earpieces, the right ear's on a second thread beside the
/// left's: a per-ear redesign takes about the time of one design where a second core is free.
pub fn design_ears(left: &Audition, right: &Audition, sample_rate_hz: f64) -> (Design, Design) {
    std::thread::scope(|scope| {
        let other = scope.spawn(|| design(right, sample_rate_hz));
        let left_made = design(left, sample_rate_hz);
        let right_made = other
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (left_made, right_made)
    })
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
    pub fn prime(&mut self, values: &AuditionValues, sample_rate_hz: f64) {
        self.designer
            .run(&values.request(sample_rate_hz, 0), &self.chains);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::audition::AuditionChain;
    use crate::model::catalog::Catalog;

    fn chains() -> AuditionChains {
        let rig = Catalog::builtin().default_chain().unwrap();
        AuditionChains {
            a: AuditionChain::from_rig(&rig),
            b: AuditionChain::from_rig(&rig),
            rig,
        }
    }

    fn answer(designer: &mut InlineDesigner, request: AuditionRequest) -> DesignPair {
        designer.request(request);
        designer.run_pending();
        designer.receive().expect("a design was published")
    }

    /// An answer names its request and rate and brings the rig's SPL filters; the same request
    /// again gives the same bits (the unchanged chains are not redesigned); a changed chain B gives
    /// another filter for B only.
    #[test]
    fn answers_follow_their_requests() {
        let mut designer = InlineDesigner::new(chains());
        let mut values = AuditionValues::default();
        let first = answer(&mut designer, values.request(48_000.0, 7));
        assert_eq!((first.request_id, first.sample_rate_hz), (7, 48_000.0));
        assert!(first.spl.is_some());
        let again = answer(&mut designer, values.request(48_000.0, 8));
        assert_eq!(again.request_id, 8);
        assert_eq!((again.a, again.b, again.spl), (first.a, first.b, first.spl));
        values.b.output_ohms = 75.0;
        let changed = answer(&mut designer, values.request(48_000.0, 9));
        assert_eq!(changed.a, first.a);
        assert_ne!(changed.b, first.b);
        let other_rate = answer(&mut designer, values.request(96_000.0, 10));
        assert_eq!(other_rate.sample_rate_hz, 96_000.0);
        assert_ne!(other_rate.b, changed.b);
        assert!(designer.status().design_us.load(Ordering::Relaxed) > 0);
    }
}
