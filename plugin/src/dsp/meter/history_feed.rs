//! The loudness history off the audio thread. The audio thread's meter runs without its history
//! and hands each block, as it measured it, to a [`HistoryFeed`]: a copy into an SPSC ring of
//! samples (a length, then each channel's samples in turn: plain slice copies), no arithmetic. A [`HistoryFollower`] on another thread reads the ring and runs a
//! meter with its history on the same samples, in the same order, with the same resets and
//! holds (a second ring carries those, each stamped with the frame it applies at), and writes
//! the points into the [`HistoryStore`] the editor reads. The points are the ones the audio
//! thread's meter would have made: the same loudness meter and true-peak stage on the same
//! samples.
//!
//! If the follower falls so far behind that a block does not fit (two seconds of audio), the
//! block is left out of the history and the history starts a new run at the next block that
//! fits, rather than joining audio across a hole. The audio thread's own readings never miss
//! anything.

use std::mem::MaybeUninit;
use std::sync::Arc;

use super::history::HistoryStore;
use super::{Meter, MeterEvent};

/// Audio the ring holds before the feed gives up on a block, seconds.
const RING_S: f32 = 2.0;
/// Resets, holds and signal clears the control ring holds between two reads.
const CONTROL_RING: usize = 64;
/// The largest block the follower expects before it grows its buffers (on its own thread).
const FOLLOW_BLOCK: usize = 8192;

/// Something that happens to the measurement between two samples.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Action {
    /// A reset of the measurement: the history starts a new run.
    Reset,
    /// Integration held (`true`) or resumed.
    Hold(bool),
    /// The signal's history forgotten (a transport jump): filters and pending peaks.
    ClearSignal,
}

/// An [`Action`] at a frame of the feed (frames written before it).
#[derive(Debug, Clone, Copy)]
struct Control {
    at_frame: u64,
    action: Action,
}

/// The audio thread's end: wait-free, allocation-free.
pub struct HistoryFeed {
    samples: rtrb::Producer<f32>,
    controls: rtrb::Producer<Control>,
    channels: usize,
    /// Frames written so far.
    frames: u64,
    /// The last hold sent.
    held: bool,
    /// A block or a control did not fit: the next block that fits starts a new run.
    broken: bool,
    /// Where a block left out is counted (the follower's store; the plugin's meters hold it
    /// too, so the last reference is never dropped here).
    store: Arc<HistoryStore>,
    sample_rate_hz: f64,
}

/// The other thread's end.
pub struct HistoryFollower {
    samples: rtrb::Consumer<f32>,
    controls: rtrb::Consumer<Control>,
    meter: Meter,
    channels: usize,
    /// Frames read so far.
    frames: u64,
    /// One block, per channel (grown on this thread if a longer block arrives).
    planar: Vec<Vec<f32>>,
    store: Arc<HistoryStore>,
}

/// A connected pair for `channels` channels at `sample_rate_hz`, writing into `store`.
pub fn history_feed(
    sample_rate_hz: f32,
    channels: usize,
    store: Arc<HistoryStore>,
) -> (HistoryFeed, HistoryFollower) {
    // Two seconds of samples, and a header for every block down to 16 frames.
    let frames = (RING_S * sample_rate_hz) as usize;
    let capacity = frames * channels + frames / 16;
    let (samples_in, samples_out) = rtrb::RingBuffer::new(capacity);
    let (controls_in, controls_out) = rtrb::RingBuffer::new(CONTROL_RING);
    (
        HistoryFeed {
            samples: samples_in,
            controls: controls_in,
            channels,
            frames: 0,
            held: false,
            broken: false,
            store: store.clone(),
            sample_rate_hz: f64::from(sample_rate_hz),
        },
        HistoryFollower {
            samples: samples_out,
            controls: controls_out,
            meter: Meter::new(sample_rate_hz, channels),
            channels,
            frames: 0,
            planar: vec![vec![0.0; FOLLOW_BLOCK]; channels],
            store,
        },
    )
}

impl HistoryFeed {
    /// The measurement was reset.
    pub fn reset(&mut self) {
        self.control(Action::Reset);
    }

    /// Integration is held or not (sent only when it changes).
    pub fn hold(&mut self, held: bool) {
        if held != self.held {
            self.held = held;
            self.control(Action::Hold(held));
        }
    }

    /// The signal's history was forgotten (a transport jump).
    pub fn clear_signal(&mut self) {
        self.control(Action::ClearSignal);
    }

    fn control(&mut self, action: Action) {
        let control = Control {
            at_frame: self.frames,
            action,
        };
        if self.controls.push(control).is_err() {
            self.broken = true;
        }
    }

    /// One block as the meter measured it: one slice per channel, equal lengths.
    pub fn push(&mut self, channels: &[&[f32]]) {
        debug_assert_eq!(channels.len(), self.channels);
        let len = channels.first().map_or(0, |c| c.len());
        if len == 0 {
            return;
        }
        let needed = 1 + len * self.channels;
        if self.broken {
            // Start again only when both the block and the new run's reset fit.
            if self.samples.slots() < needed || self.controls.slots() < 2 {
                self.store.note_dropped(len as f64 / self.sample_rate_hz);
                return;
            }
            self.broken = false;
            self.control(Action::Reset);
            let held = self.held;
            self.control(Action::Hold(held));
        }
        let Ok(mut chunk) = self.samples.write_chunk_uninit(needed) else {
            self.broken = true;
            self.store.note_dropped(len as f64 / self.sample_rate_hz);
            return;
        };
        let header = [block_header(len)];
        let written = copy_in(
            chunk.as_mut_slices(),
            std::iter::once(&header[..]).chain(channels.iter().copied()),
        );
        assert_eq!(written, needed, "every channel is as long as the first");
        // SAFETY: `copy_in` has written all `needed` slots of the chunk (checked above).
        unsafe { chunk.commit_all() };
        self.frames += len as u64;
    }
}

/// A block's length, as the ring's first value of the block (the bits of a `u32`).
fn block_header(len: usize) -> f32 {
    f32::from_bits(u32::try_from(len).unwrap_or(u32::MAX))
}

/// The slices of `sources` one after another into the two parts of a ring's chunk (plain slice
/// copies, no per-sample work); returns how many values were written. Panics if they do not fit.
fn copy_in<'a>(
    dest: (&mut [MaybeUninit<f32>], &mut [MaybeUninit<f32>]),
    sources: impl Iterator<Item = &'a [f32]>,
) -> usize {
    let (mut first, mut second) = dest;
    let mut written = 0;
    for mut source in sources {
        written += source.len();
        let n = source.len().min(first.len());
        let (head, rest) = std::mem::take(&mut first).split_at_mut(n);
        head.write_copy_of_slice(&source[..n]);
        first = rest;
        source = &source[n..];
        let (head, rest) = std::mem::take(&mut second).split_at_mut(source.len());
        head.write_copy_of_slice(source);
        second = rest;
    }
    written
}

/// `dest.len()` values starting at `offset` of the two parts of a ring's chunk.
fn copy_out(src: (&[f32], &[f32]), offset: usize, dest: &mut [f32]) {
    let (first, second) = src;
    let from_first = first.len().saturating_sub(offset).min(dest.len());
    if from_first > 0 {
        dest[..from_first].copy_from_slice(&first[offset..offset + from_first]);
    }
    // Whatever `first` did not give comes from the start of `second`, or from past it.
    let start = offset.saturating_sub(first.len());
    let rest = dest.len() - from_first;
    dest[from_first..].copy_from_slice(&second[start..start + rest]);
}

impl HistoryFollower {
    /// Measure everything the feed has written so far, writing the history's points into the
    /// store. Returns whether there was anything to do.
    pub fn follow(&mut self) -> bool {
        let mut busy = false;
        loop {
            while let Ok(control) = self.controls.peek() {
                if control.at_frame > self.frames {
                    break;
                }
                let action = control.action;
                let _ = self.controls.pop();
                self.apply(action);
                busy = true;
            }
            let Ok(&header) = self.samples.peek() else {
                return busy;
            };
            self.measure(header.to_bits() as usize);
            busy = true;
        }
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::Reset => self.meter.reset(),
            Action::Hold(held) => self.meter.hold_integration(held),
            Action::ClearSignal => self.meter.clear_history(),
        }
    }

    /// The next block, `frames` long, from the ring through the meter.
    fn measure(&mut self, frames: usize) {
        let Ok(chunk) = self.samples.read_chunk(1 + frames * self.channels) else {
            // The feed commits a block whole, so this does not happen; drop the header.
            let _ = self.samples.pop();
            return;
        };
        if frames > self.planar[0].len() {
            self.planar.iter_mut().for_each(|c| c.resize(frames, 0.0));
        }
        for (ch, channel) in self.planar.iter_mut().enumerate() {
            copy_out(chunk.as_slices(), 1 + ch * frames, &mut channel[..frames]);
        }
        chunk.commit_all();
        self.frames += frames as u64;
        let mut views: [&[f32]; crate::dsp::MAX_CHANNELS] = [&[]; crate::dsp::MAX_CHANNELS];
        for (view, channel) in views.iter_mut().zip(&self.planar) {
            *view = &channel[..frames];
        }
        let store = &self.store;
        self.meter.process_events(&views[..self.channels], |event| {
            if let MeterEvent::Point(point) = event {
                store.push(&point);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::meter::history::StoredPoint;

    /// A programme with something for every reading: a tone that steps in level, noise bursts
    /// with inter-sample peaks, and a silent gap.
    fn programme(fs: f32, seconds: f32) -> [Vec<f32>; 2] {
        let n = (fs * seconds) as usize;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut noise = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        };
        let mut left = Vec::with_capacity(n);
        let mut right = Vec::with_capacity(n);
        for i in 0..n {
            let t = i as f32 / fs;
            let level = [0.5, 0.05, 0.0, 0.3][(t / 1.3) as usize % 4];
            let tone = level * (2.0 * std::f32::consts::PI * 997.0 * t).sin();
            let burst = if (t * 3.0).fract() < 0.05 {
                0.4 * noise()
            } else {
                0.0
            };
            left.push(tone + burst);
            right.push(0.8 * tone - burst);
        }
        [left, right]
    }

    /// What happens at which block: a reset, a hold and its release, a transport jump.
    fn action_at(block: usize) -> Option<Action> {
        match block {
            40 => Some(Action::Reset),
            90 => Some(Action::Hold(true)),
            130 => Some(Action::Hold(false)),
            170 => Some(Action::ClearSignal),
            _ => None,
        }
    }

    /// The store's points, oldest first.
    fn points(store: &HistoryStore) -> Vec<StoredPoint> {
        let mut words = Vec::new();
        store.read_words_from(0, &mut words);
        words.into_iter().map(StoredPoint::unpack).collect()
    }

    /// The follower, fed host blocks of 300 frames and read every few blocks, stores the points a
    /// meter with its history makes when it measures the blocks itself (the same resets, hold and
    /// jump at the same frames): loudness to the store's 0.01 LU, true peak to 0.01 dB.
    #[test]
    fn the_follower_stores_what_the_meter_would() {
        let fs = 48_000.0;
        let input = programme(fs, 8.0);
        let direct = HistoryStore::default();
        let mut meter = Meter::new(fs, 2);
        let followed = Arc::new(HistoryStore::default());
        let (mut feed, mut follower) = history_feed(fs, 2, followed.clone());
        for (k, (l, r)) in input[0].chunks(300).zip(input[1].chunks(300)).enumerate() {
            match action_at(k) {
                Some(Action::Reset) => {
                    meter.reset();
                    feed.reset();
                }
                Some(Action::Hold(held)) => {
                    meter.hold_integration(held);
                    feed.hold(held);
                }
                Some(Action::ClearSignal) => {
                    meter.clear_history();
                    feed.clear_signal();
                }
                None => {}
            }
            meter.process_events(&[l, r], |event| {
                if let MeterEvent::Point(point) = event {
                    direct.push(&point);
                }
            });
            feed.push(&[l, r]);
            if k % 7 == 0 {
                follower.follow();
            }
        }
        follower.follow();
        let (want, got) = (points(&direct), points(&followed));
        // The run after the reset at block 40 (12 000 frames): 8 s − 0.25 s of it.
        assert_eq!(want.len(), 77);
        assert_eq!(got.len(), want.len());
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => a == b || (a - b).abs() <= 0.0100001,
            (a, b) => a == b,
        };
        for (k, (w, g)) in want.iter().zip(&got).enumerate() {
            assert!(
                close(g.momentary_lufs, w.momentary_lufs),
                "point {k}: {g:?} vs {w:?}"
            );
            assert!(
                close(g.short_term_lufs, w.short_term_lufs),
                "point {k}: {g:?} vs {w:?}"
            );
            assert!(
                close(g.integrated_lufs, w.integrated_lufs),
                "point {k}: {g:?} vs {w:?}"
            );
            let tp = (g.true_peak_dbtp - w.true_peak_dbtp).abs();
            assert!(
                g.true_peak_dbtp == w.true_peak_dbtp || tp <= 0.0100001,
                "point {k}: {g:?} vs {w:?}"
            );
        }
    }

    /// Slices copied into a ring's two parts and back from any offset come out as they went in.
    #[test]
    fn copies_cross_the_ring_s_wrap() {
        let a: Vec<f32> = (0..5).map(|i| i as f32).collect();
        let b: Vec<f32> = (5..12).map(|i| i as f32).collect();
        for split in 0..=12 {
            let mut slots = [MaybeUninit::new(-1.0f32); 12];
            let (first, second) = slots.split_at_mut(split);
            assert_eq!(copy_in((first, second), [&a[..], &b[..]].into_iter()), 12);
            // SAFETY: every slot was made with `MaybeUninit::new`.
            let ring = slots.map(|v| unsafe { v.assume_init() });
            let want: Vec<f32> = (0..12).map(|i| i as f32).collect();
            assert_eq!(ring.to_vec(), want, "split at {split}");
            let (first, second) = ring.split_at(split);
            for offset in 0..12 {
                for len in 0..=12 - offset {
                    let mut out = vec![0.0; len];
                    copy_out((first, second), offset, &mut out);
                    assert_eq!(
                        out,
                        want[offset..offset + len],
                        "split {split}, {offset}+{len}"
                    );
                }
            }
        }
    }

    /// A follower that stops reading: the feed gives up on what does not fit without blocking,
    /// and once the follower reads again the history starts a new run (step 1) instead of
    /// joining the audio across the hole.
    #[test]
    fn a_stalled_follower_costs_a_new_run_not_a_hole() {
        let fs = 8_000.0;
        let input = programme(fs, 5.0);
        let store = Arc::new(HistoryStore::default());
        let (mut feed, mut follower) = history_feed(fs, 2, store.clone());
        let block = 400;
        let blocks: Vec<(&[f32], &[f32])> =
            input[0].chunks(block).zip(input[1].chunks(block)).collect();
        // 2 s of ring: about 40 blocks fit, the next ones are dropped and counted.
        for &(l, r) in &blocks[..60] {
            feed.push(&[l, r]);
        }
        let ring = (RING_S * fs) as usize;
        let fit = (ring * 2 + ring / 16) / (1 + block * 2);
        let dropped = (60 - fit) as u64;
        let (blocks_left_out, seconds_left_out) = store.dropped();
        assert_eq!(blocks_left_out, dropped);
        assert!(
            (seconds_left_out - (dropped as usize * block) as f64 / f64::from(fs)).abs() < 1e-9
        );
        follower.follow();
        // About 2 s of steps before the ring filled (each run's last step waits for the
        // true-peak stage's look-ahead past its end).
        let first_run = points(&store).len();
        assert!(
            (19..=20).contains(&first_run),
            "{first_run} steps in the first run"
        );
        for &(l, r) in &blocks[60..] {
            feed.push(&[l, r]);
        }
        follower.follow();
        let second_run = points(&store);
        // The 40 blocks after the hole, 2 s, 20 steps of which the last waits: a run of its own
        // (a reader gets only the newest), whose first momentary reading waits for its own
        // 400 ms again.
        assert_eq!(second_run.len(), 19);
        assert_eq!(second_run[0].momentary_lufs, None);
        assert!(second_run[4].momentary_lufs.is_some());
        assert_eq!(store.dropped().0, dropped, "nothing more was left out");
    }
}
