//! Loudness per ITU-R BS.1770-5 and EBU Tech 3341/3342: momentary (400 ms), short-term (3 s),
//! integrated (gated) and loudness range, in bounded memory however long the session.
//!
//! The K-weighted, channel-weighted power is collected in 5 ms sub-blocks. Momentary and
//! short-term are running sums over the last 80 and 600 sub-blocks, read every 5 ms, so their
//! maxima are exact to within 0.03 LU for any burst position (Tech 3341 cases 10–14). Gating
//! blocks (400 ms every 100 ms, BS.1770-5 eq. 3) and the short-term values for loudness range
//! (every 100 ms, Tech 3342) go into histograms of 0.02 LU bins that keep each bin's energy too,
//! so only which blocks sit exactly at a threshold is approximate, never the energy average. For
//! integrated loudness the first hour of gating blocks is also kept one by one, so it is exact
//! (the gates applied to the blocks themselves) until the histogram's approximation has become
//! negligible. Integrated loudness and loudness range are updated on every 100 ms step at a cost
//! that does not grow with the session: the histograms are summed in groups of bins and the kept
//! blocks are chained by bin, so an update reads a few hundred values, not the hour of blocks.
//! Each 100 ms step's readings are handed out too ([`Loudness::take_step`]): the loudness
//! history.

use super::k_weighting::KWeighting;

use crate::dsp::limits::MAX_CHANNELS;

/// Sub-block length, seconds.
const SUB_BLOCK_S: f64 = 0.005;
/// Sub-blocks per momentary window (400 ms), per short-term window (3 s) and per 100 ms step.
const MOMENTARY_SUBS: usize = 80;
const SHORT_TERM_SUBS: usize = 600;
const STEP_SUBS: u64 = 20;
/// BS.1770-5 eq. 2: the constant that makes a 997 Hz sine at −x dBFS in L and R read −x LUFS.
const LOUDNESS_OFFSET_DB: f64 = -0.691;
/// BS.1770-5 §2.7 absolute gate, LUFS; relative gates for integrated (−10 LU, BS.1770-5) and for
/// loudness range (−20 LU, Tech 3342).
const ABSOLUTE_GATE_LUFS: f64 = -70.0;
const INTEGRATED_RELATIVE_GATE_LU: f64 = -10.0;
const LRA_RELATIVE_GATE_LU: f64 = -20.0;
/// Tech 3342 percentiles.
const LRA_LOW_PERCENTILE: f64 = 10.0;
const LRA_HIGH_PERCENTILE: f64 = 95.0;
/// Histogram range and resolution: 4500 bins of 0.02 LU from −70 to +20 LUFS (louder blocks
/// land in the top bin, their energy still counted exactly).
const HISTOGRAM_MIN_LUFS: f64 = -70.0;
const HISTOGRAM_BIN_LU: f64 = 0.02;
const HISTOGRAM_BINS: usize = 4_500;
const HISTOGRAM_MAX_LUFS: f64 = HISTOGRAM_MIN_LUFS + HISTOGRAM_BINS as f64 * HISTOGRAM_BIN_LU;

/// The gating step, seconds (BS.1770-5: 400 ms blocks every 100 ms; Tech 3342: short-term values
/// at 10 Hz).
pub const STEP_S: f64 = STEP_SUBS as f64 * SUB_BLOCK_S;

/// The sample (counted from the start of the measurement) where sub-block `subs − 1` ends:
/// `round(subs · 5 ms · fs)`, so windows are exact to a sample at any rate.
fn sub_blocks_end_sample(subs: u64, sample_rate_hz: f64) -> u64 {
    (subs as f64 * SUB_BLOCK_S * sample_rate_hz).round() as u64
}

/// The sample (counted from the start of the measurement) where 100 ms step `step` ends.
pub fn step_end_sample(step: u64, sample_rate_hz: f64) -> u64 {
    sub_blocks_end_sample(step * STEP_SUBS, sample_rate_hz)
}

/// The readings at the end of one 100 ms step ([`Loudness::take_step`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepReadings {
    /// The step, 1-based since the reset.
    pub step: u64,
    /// `None` while the window is not yet full.
    pub momentary_lufs: Option<f64>,
    pub short_term_lufs: Option<f64>,
    /// `None` while no block has passed the gates.
    pub integrated_lufs: Option<f64>,
}

/// Channel weights G_i of BS.1770-5 Table 3/4 for a channel count, in the usual WAV/SMPTE order
/// (L R C LFE Ls Rs …): front channels 1.0, surround 1.41, LFE 0.
pub fn channel_weights(channels: usize) -> [f64; MAX_CHANNELS] {
    const S: f64 = 1.41;
    let w: &[f64] = match channels {
        1 => &[1.0],
        2 => &[1.0, 1.0],
        3 => &[1.0, 1.0, 1.0],
        4 => &[1.0, 1.0, S, S],
        5 => &[1.0, 1.0, 1.0, S, S],
        6 => &[1.0, 1.0, 1.0, 0.0, S, S],
        7 => &[1.0, 1.0, 1.0, 0.0, S, S, S],
        _ => &[1.0, 1.0, 1.0, 0.0, S, S, S, S],
    };
    let mut out = [0.0; MAX_CHANNELS];
    out[..w.len()].copy_from_slice(w);
    out
}

/// Loudness of a mean-square power (already channel-weighted), LUFS.
pub fn power_to_lufs(power: f64) -> f64 {
    if power > 0.0 {
        LOUDNESS_OFFSET_DB + 10.0 * power.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// Energy and sample count of a stretch of signal.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Energy {
    sum: f64,
    samples: u64,
}

impl Energy {
    fn power(self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            self.sum / self.samples as f64
        }
    }
}

/// A histogram of block loudness in 0.02 LU bins, each bin keeping its count and the sum of its
/// blocks' powers. Bins are also summed in groups of [`GROUP_BINS`], so a query over the bins at
/// or above a threshold reads at most one partial group and the group totals: about 140 values
/// whatever the session's length, which is what lets the gated readings be updated on every
/// 100 ms step on the audio thread.
#[derive(Debug, Clone)]
struct Histogram {
    counts: Vec<u64>,
    powers: Vec<f64>,
    group_counts: Vec<u64>,
    group_powers: Vec<f64>,
}

/// Bins per group of the histogram's second level.
const GROUP_BINS: usize = 64;
const HISTOGRAM_GROUPS: usize = HISTOGRAM_BINS.div_ceil(GROUP_BINS);

impl Histogram {
    fn new() -> Self {
        Self {
            counts: vec![0; HISTOGRAM_BINS],
            powers: vec![0.0; HISTOGRAM_BINS],
            group_counts: vec![0; HISTOGRAM_GROUPS],
            group_powers: vec![0.0; HISTOGRAM_GROUPS],
        }
    }

    fn clear(&mut self) {
        self.counts.fill(0);
        self.powers.fill(0.0);
        self.group_counts.fill(0);
        self.group_powers.fill(0.0);
    }

    fn merge(&mut self, other: &Histogram) {
        for bin in 0..HISTOGRAM_BINS {
            self.add_to_bin(bin, other.counts[bin], other.powers[bin]);
        }
    }

    fn bin(lufs: f64) -> usize {
        let i = ((lufs - HISTOGRAM_MIN_LUFS) / HISTOGRAM_BIN_LU).floor();
        (i.max(0.0) as usize).min(HISTOGRAM_BINS - 1)
    }

    /// The bin a block of `power` goes in.
    fn bin_of_power(power: f64) -> usize {
        Self::bin(power_to_lufs(power))
    }

    fn bin_floor_lufs(bin: usize) -> f64 {
        HISTOGRAM_MIN_LUFS + bin as f64 * HISTOGRAM_BIN_LU
    }

    fn add(&mut self, power: f64) {
        self.add_to_bin(Self::bin_of_power(power), 1, power);
    }

    /// `count` blocks of `power` in all into `bin`.
    fn add_to_bin(&mut self, bin: usize, count: u64, power: f64) {
        self.counts[bin] += count;
        self.powers[bin] += power;
        self.group_counts[bin / GROUP_BINS] += count;
        self.group_powers[bin / GROUP_BINS] += power;
    }

    /// Count and summed power of the blocks in bins `first` and above.
    fn bins_from(&self, first: usize) -> (u64, f64) {
        if first >= HISTOGRAM_BINS {
            return (0, 0.0);
        }
        let group = first / GROUP_BINS;
        let group_end = ((group + 1) * GROUP_BINS).min(HISTOGRAM_BINS);
        let count = self.counts[first..group_end].iter().sum::<u64>()
            + self.group_counts[group + 1..].iter().sum::<u64>();
        let power = self.powers[first..group_end].iter().sum::<f64>()
            + self.group_powers[group + 1..].iter().sum::<f64>();
        (count, power)
    }

    /// Count and mean power of the blocks at or above `lufs` (bins whose floor is at or above).
    fn gated(&self, lufs: f64) -> (u64, f64) {
        let (count, power) = self.bins_from(Self::first_bin_at_or_above(lufs));
        let mean = if count > 0 { power / count as f64 } else { 0.0 };
        (count, mean)
    }

    /// The first bin whose floor is at or above `lufs` (the gate rule both readings use).
    fn first_bin_at_or_above(lufs: f64) -> usize {
        let bin = Self::bin(lufs);
        let bin = if Self::bin_floor_lufs(bin) < lufs - 1e-9 {
            bin + 1
        } else {
            bin
        };
        bin.min(HISTOGRAM_BINS)
    }

    /// The loudness of the `rank`-th block (0-based, ascending) among those at or above `lufs`:
    /// the centre of its bin.
    fn ranked(&self, lufs: f64, rank: u64) -> f64 {
        let start = Self::first_bin_at_or_above(lufs);
        if start >= HISTOGRAM_BINS {
            return HISTOGRAM_MAX_LUFS;
        }
        // The blocks before the target: the rest of the first group, then whole groups.
        let first_group = start / GROUP_BINS;
        let first_end = ((first_group + 1) * GROUP_BINS).min(HISTOGRAM_BINS);
        let mut seen = 0;
        let mut bins = start..first_end;
        for group in first_group..HISTOGRAM_GROUPS {
            if group > first_group {
                let in_group = self.group_counts[group];
                if seen + in_group <= rank {
                    seen += in_group;
                    continue;
                }
                bins = group * GROUP_BINS..((group + 1) * GROUP_BINS).min(HISTOGRAM_BINS);
            }
            for bin in bins.clone() {
                seen += self.counts[bin];
                if seen > rank {
                    return Self::bin_floor_lufs(bin) + 0.5 * HISTOGRAM_BIN_LU;
                }
            }
        }
        HISTOGRAM_MAX_LUFS
    }
}

/// Gating blocks kept one by one for integrated loudness: an hour of them (10 a second).
const EXACT_BLOCKS: usize = 36_000;
/// Ends a chain of [`BlockList`] blocks.
const NO_BLOCK: u32 = u32::MAX;

/// The gating blocks' powers, each kept while they fit in [`EXACT_BLOCKS`], so integrated
/// loudness is BS.1770-5 eqs. 5–7 on the blocks themselves, exact however few there are. Past
/// that the histogram decides; its one approximation, which blocks within a bin (0.02 LU) of the
/// relative gate pass it, then moves the result by less than 4/36 000 LU a block.
///
/// The blocks of each histogram bin are chained, so the relative gate is applied one by one only
/// in the bin that holds it: every bin above passes whole (its blocks are louder than the gate)
/// and every bin below fails whole. An update reads that one bin and the histogram's sums, not
/// the hour of blocks.
#[derive(Debug, Clone)]
struct BlockList {
    powers: Vec<f64>,
    /// For each block, the block before it in the same histogram bin ([`NO_BLOCK`]: none).
    previous_in_bin: Vec<u32>,
    /// For each histogram bin, its newest block ([`NO_BLOCK`]: none).
    newest_in_bin: Vec<u32>,
    /// The sum of all the blocks' powers.
    total: f64,
    overflowed: bool,
}

impl BlockList {
    fn new() -> Self {
        Self {
            powers: Vec::with_capacity(EXACT_BLOCKS),
            previous_in_bin: Vec::with_capacity(EXACT_BLOCKS),
            newest_in_bin: vec![NO_BLOCK; HISTOGRAM_BINS],
            total: 0.0,
            overflowed: false,
        }
    }

    fn add(&mut self, power: f64) {
        self.add_in_bin(Histogram::bin_of_power(power), power);
    }

    /// A block of `power`, which is in histogram bin `bin`.
    fn add_in_bin(&mut self, bin: usize, power: f64) {
        if self.powers.len() >= EXACT_BLOCKS {
            self.overflowed = true;
            return;
        }
        self.previous_in_bin.push(self.newest_in_bin[bin]);
        self.newest_in_bin[bin] = self.powers.len() as u32;
        self.powers.push(power);
        self.total += power;
    }

    fn merge(&mut self, other: &BlockList) {
        if !self.overflowed
            && !other.overflowed
            && self.powers.len() + other.powers.len() <= EXACT_BLOCKS
        {
            for &power in &other.powers {
                self.add(power);
            }
        } else {
            self.overflowed = true;
        }
    }

    fn clear(&mut self) {
        self.powers.clear();
        self.previous_in_bin.clear();
        self.newest_in_bin.fill(NO_BLOCK);
        self.total = 0.0;
        self.overflowed = false;
    }

    /// BS.1770-5 eqs. 5–7 on the blocks (every block kept passed the absolute gate): the mean of
    /// all, the relative gate 10 LU under it, the mean of the blocks above the gate. `binned`
    /// must hold exactly these blocks. `None` once the list has overflowed.
    fn integrated(&self, binned: &Histogram) -> Option<Option<f64>> {
        if self.overflowed {
            return None;
        }
        if self.powers.is_empty() {
            return Some(None);
        }
        let mean = self.total / self.powers.len() as f64;
        let gate = mean * 10f64.powf(INTEGRATED_RELATIVE_GATE_LU / 10.0);
        // Loudness is monotonic in power and the bin in loudness, so a block in a higher bin
        // than the gate's is louder than the gate and one in a lower bin is quieter.
        let gate_bin = Histogram::bin_of_power(gate);
        let (mut count, mut sum) = binned.bins_from(gate_bin + 1);
        let mut block = self.newest_in_bin[gate_bin];
        while block != NO_BLOCK {
            let power = self.powers[block as usize];
            if power > gate {
                sum += power;
                count += 1;
            }
            block = self.previous_in_bin[block as usize];
        }
        Some((count > 0).then(|| power_to_lufs(sum / count as f64)))
    }
}

/// The blocks behind the gated readings: the gating blocks of integrated loudness and the
/// short-term values of loudness range. Two sets merge into the set of one programme made of
/// both, which is how loudness scanners' album modes treat several files (EBU R 128 s1:
/// programme loudness over the whole programme, gates applied once to all its blocks).
#[derive(Debug, Clone)]
pub struct GatedBlocks {
    gating_blocks: Histogram,
    /// The same blocks one by one, while they fit.
    exact: BlockList,
    short_term_values: Histogram,
}

impl Default for GatedBlocks {
    fn default() -> Self {
        Self {
            gating_blocks: Histogram::new(),
            exact: BlockList::new(),
            short_term_values: Histogram::new(),
        }
    }
}

impl GatedBlocks {
    /// Add another measurement's blocks, as if its programme followed this one.
    pub fn merge(&mut self, other: &GatedBlocks) {
        self.gating_blocks.merge(&other.gating_blocks);
        self.exact.merge(&other.exact);
        self.short_term_values.merge(&other.short_term_values);
    }

    /// Gated integrated loudness of all the blocks, LUFS; `None` when none passes the gates.
    pub fn integrated_lufs(&self) -> Option<f64> {
        self.exact
            .integrated(&self.gating_blocks)
            .unwrap_or_else(|| integrated(&self.gating_blocks))
    }

    /// A gating block of `power` (mean square, channel-weighted) that passed the absolute gate.
    fn add_gating_block(&mut self, power: f64) {
        let bin = Histogram::bin_of_power(power);
        self.gating_blocks.add_to_bin(bin, 1, power);
        self.exact.add_in_bin(bin, power);
    }

    /// Loudness range of all the short-term values, LU; `None` when none passes the gates.
    pub fn loudness_range_lu(&self) -> Option<f64> {
        loudness_range(&self.short_term_values)
    }

    fn clear(&mut self) {
        self.gating_blocks.clear();
        self.exact.clear();
        self.short_term_values.clear();
    }
}

/// The loudness readings at one moment, LUFS and LU; `None` until the window is full.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoudnessReadings {
    pub momentary_lufs: Option<f64>,
    pub short_term_lufs: Option<f64>,
    pub momentary_max_lufs: Option<f64>,
    pub short_term_max_lufs: Option<f64>,
    pub integrated_lufs: Option<f64>,
    pub loudness_range_lu: Option<f64>,
    /// Seconds measured since the last reset (Tech 3341 §2.4: LRA is not stable before 60 s).
    pub measured_s: f64,
}

/// A BS.1770 / EBU Mode loudness meter for up to [`MAX_CHANNELS`] channels.
pub struct Loudness {
    sample_rate_hz: f64,
    channels: usize,
    weights: [f64; MAX_CHANNELS],
    filters: Vec<KWeighting>,
    /// Samples since the reset.
    samples: u64,
    /// Index of the sub-block being filled, and the absolute sample where it ends.
    sub_index: u64,
    sub_end: u64,
    current: Energy,
    /// The last `SHORT_TERM_SUBS` sub-blocks (ring).
    ring: Vec<Energy>,
    momentary: Energy,
    short_term: Energy,
    blocks: GatedBlocks,
    readings: LoudnessReadings,
    /// The readings of the last 100 ms step, until taken.
    step: Option<StepReadings>,
    /// Integrated loudness and range hold: no gating block or short-term value is added.
    integration_held: bool,
}

impl Loudness {
    pub fn new(sample_rate_hz: f64, channels: usize) -> Self {
        assert!((1..=MAX_CHANNELS).contains(&channels));
        let mut meter = Self {
            sample_rate_hz,
            channels,
            weights: channel_weights(channels),
            filters: vec![KWeighting::new(sample_rate_hz); channels],
            samples: 0,
            sub_index: 0,
            sub_end: 0,
            current: Energy::default(),
            ring: vec![Energy::default(); SHORT_TERM_SUBS],
            momentary: Energy::default(),
            short_term: Energy::default(),
            blocks: GatedBlocks::default(),
            readings: LoudnessReadings::default(),
            step: None,
            integration_held: false,
        };
        meter.reset();
        meter
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Start a new measurement: integrated, range and the maxima start again.
    pub fn reset(&mut self) {
        self.filters.iter_mut().for_each(KWeighting::reset);
        self.samples = 0;
        self.sub_index = 0;
        self.sub_end = self.sub_block_end(0);
        self.current = Energy::default();
        self.ring.fill(Energy::default());
        self.momentary = Energy::default();
        self.short_term = Energy::default();
        self.blocks.clear();
        self.readings = LoudnessReadings::default();
        self.step = None;
    }

    /// The readings at the last 100 ms step since this was last called, if one has ended. A
    /// caller that processes at most one step's samples at a time sees every step.
    pub fn take_step(&mut self) -> Option<StepReadings> {
        self.step.take()
    }

    /// Hold (or resume) the integrated loudness and the loudness range: while held, what is
    /// measured is not part of the programme. Momentary and short-term go on.
    pub fn hold_integration(&mut self, held: bool) {
        self.integration_held = held;
    }

    pub fn readings(&self) -> LoudnessReadings {
        self.readings
    }

    /// The blocks behind integrated loudness and loudness range since the reset.
    pub fn gated_blocks(&self) -> &GatedBlocks {
        &self.blocks
    }

    /// Measure one block: one slice per channel, all the same length.
    pub fn process(&mut self, channels: &[&[f32]]) {
        debug_assert_eq!(channels.len(), self.channels);
        let len = channels.first().map_or(0, |c| c.len());
        let mut start = 0;
        while start < len {
            let take = ((self.sub_end - self.samples) as usize).min(len - start);
            let span = start..start + take;
            let mut sum = 0.0;
            let mut ch = 0;
            for pair in self.filters.chunks_exact_mut(2) {
                let [a, b] = pair else { unreachable!() };
                let energy = KWeighting::sum_of_squares_pair(
                    [a, b],
                    [&channels[ch][span.clone()], &channels[ch + 1][span.clone()]],
                );
                sum += self.weights[ch] * energy[0] + self.weights[ch + 1] * energy[1];
                ch += 2;
            }
            if ch < self.channels {
                sum += self.weights[ch] * self.filters[ch].sum_of_squares(&channels[ch][span]);
            }
            self.current.sum += sum;
            self.current.samples += take as u64;
            self.samples += take as u64;
            start += take;
            if self.samples == self.sub_end {
                self.close_sub_block();
            }
        }
        self.readings.measured_s = self.samples as f64 / self.sample_rate_hz;
    }

    /// Absolute sample index where sub-block `index` ends (boundaries rounded to the nearest
    /// sample, so windows are exact to a sample at any rate).
    fn sub_block_end(&self, index: u64) -> u64 {
        sub_blocks_end_sample(index + 1, self.sample_rate_hz)
    }

    fn close_sub_block(&mut self) {
        let slot = (self.sub_index % SHORT_TERM_SUBS as u64) as usize;
        let momentary_out = self.ring[(slot + SHORT_TERM_SUBS - MOMENTARY_SUBS) % SHORT_TERM_SUBS];
        let short_term_out = self.ring[slot];
        let new = std::mem::take(&mut self.current);
        self.ring[slot] = new;
        // Running sums (Tech 3341: no re-summing of the window on every read).
        add(&mut self.momentary, new, momentary_out);
        add(&mut self.short_term, new, short_term_out);
        self.sub_index += 1;
        self.sub_end = self.sub_block_end(self.sub_index);
        if slot == SHORT_TERM_SUBS - 1 {
            self.resum_windows();
        }
        self.update_readings();
    }

    /// Recompute the running sums from the ring (every 3 s), so rounding never accumulates.
    fn resum_windows(&mut self) {
        let newest = (self.sub_index % SHORT_TERM_SUBS as u64) as usize;
        let mut momentary = Energy::default();
        for k in 1..=MOMENTARY_SUBS {
            let e = self.ring[(newest + SHORT_TERM_SUBS - k) % SHORT_TERM_SUBS];
            momentary.sum += e.sum;
            momentary.samples += e.samples;
        }
        let mut short_term = Energy::default();
        for e in &self.ring {
            short_term.sum += e.sum;
            short_term.samples += e.samples;
        }
        self.momentary = momentary;
        self.short_term = short_term;
    }

    fn update_readings(&mut self) {
        let done = self.sub_index;
        let r = &mut self.readings;
        if done >= MOMENTARY_SUBS as u64 {
            let power = self.momentary.power();
            let m = power_to_lufs(power);
            r.momentary_lufs = Some(m);
            r.momentary_max_lufs = Some(r.momentary_max_lufs.map_or(m, |x| x.max(m)));
            if done.is_multiple_of(STEP_SUBS) && m > ABSOLUTE_GATE_LUFS && !self.integration_held {
                // A gating block: 400 ms ending on a 100 ms step (BS.1770-5 eq. 3).
                self.blocks.add_gating_block(power);
                r.integrated_lufs = self.blocks.integrated_lufs();
            }
        }
        if done >= SHORT_TERM_SUBS as u64 {
            let power = self.short_term.power();
            let s = power_to_lufs(power);
            r.short_term_lufs = Some(s);
            r.short_term_max_lufs = Some(r.short_term_max_lufs.map_or(s, |x| x.max(s)));
            if done.is_multiple_of(STEP_SUBS) && s > ABSOLUTE_GATE_LUFS && !self.integration_held {
                // Tech 3342: short-term values at 10 Hz.
                self.blocks.short_term_values.add(power);
                r.loudness_range_lu = self.blocks.loudness_range_lu();
            }
        }
        if done.is_multiple_of(STEP_SUBS) {
            self.step = Some(StepReadings {
                step: done / STEP_SUBS,
                momentary_lufs: (done >= MOMENTARY_SUBS as u64)
                    .then_some(r.momentary_lufs)
                    .flatten(),
                short_term_lufs: (done >= SHORT_TERM_SUBS as u64)
                    .then_some(r.short_term_lufs)
                    .flatten(),
                integrated_lufs: r.integrated_lufs,
            });
        }
    }
}

fn add(window: &mut Energy, new: Energy, old: Energy) {
    window.sum = (window.sum + new.sum - old.sum).max(0.0);
    window.samples = window.samples + new.samples - old.samples;
}

/// BS.1770-5 eqs. 5–7: the mean of the blocks above the absolute gate gives the relative gate;
/// the mean of the blocks above both is the integrated loudness.
fn integrated(blocks: &Histogram) -> Option<f64> {
    let (count, mean) = blocks.gated(ABSOLUTE_GATE_LUFS);
    if count == 0 {
        return None;
    }
    let relative_gate = power_to_lufs(mean) + INTEGRATED_RELATIVE_GATE_LU;
    let (count, mean) = blocks.gated(relative_gate.max(ABSOLUTE_GATE_LUFS));
    (count > 0).then(|| power_to_lufs(mean))
}

/// EBU Tech 3342 §5: the spread between the 10th and 95th percentiles of the short-term values
/// above the relative gate (−20 LU below their power mean).
fn loudness_range(values: &Histogram) -> Option<f64> {
    let (count, mean) = values.gated(ABSOLUTE_GATE_LUFS);
    if count == 0 {
        return None;
    }
    let gate = (power_to_lufs(mean) + LRA_RELATIVE_GATE_LU).max(ABSOLUTE_GATE_LUFS);
    let (n, _) = values.gated(gate);
    if n == 0 {
        return None;
    }
    // Tech 3342's index rule: round((n − 1)·p/100 + 1), 1-based.
    let rank = |p: f64| ((n - 1) as f64 * p / 100.0).round() as u64;
    Some(
        values.ranked(gate, rank(LRA_HIGH_PERCENTILE))
            - values.ranked(gate, rank(LRA_LOW_PERCENTILE)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mean-square power whose loudness is `lufs`: BS.1770-5 eq. 2 solved for the power,
    /// 10^((L + 0.691)/10). Hand-built histograms use it so each bin's power matches its bin.
    fn power_of(lufs: f64) -> f64 {
        10f64.powf((lufs + 0.691) / 10.0)
    }

    /// A histogram holding `count` blocks at the centre of each listed bin (−70 + 0.02·bin +
    /// 0.01 LUFS).
    fn histogram(bins: &[(usize, u64)]) -> Histogram {
        let mut h = Histogram::new();
        for &(bin, count) in bins {
            h.add_to_bin(
                bin,
                count,
                count as f64 * power_of(-70.0 + 0.02 * bin as f64 + 0.01),
            );
        }
        h
    }

    mod channel_weights {
        use super::*;

        /// BS.1770-5 Table 3: G = 1.0 for left, right and centre, 1.41 for the surrounds, and the
        /// LFE is not measured (0). WAV/SMPTE order: L R C LFE Ls Rs, then the back pair.
        #[test]
        fn every_layout_from_mono_to_7_1() {
            const S: f64 = 1.41;
            let expected: [[f64; MAX_CHANNELS]; MAX_CHANNELS] = [
                [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], // mono
                [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], // L R
                [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0], // L R C
                [1.0, 1.0, S, S, 0.0, 0.0, 0.0, 0.0],     // L R Ls Rs
                [1.0, 1.0, 1.0, S, S, 0.0, 0.0, 0.0],     // 5.0
                [1.0, 1.0, 1.0, 0.0, S, S, 0.0, 0.0],     // 5.1
                [1.0, 1.0, 1.0, 0.0, S, S, S, 0.0],       // 6.1
                [1.0, 1.0, 1.0, 0.0, S, S, S, S],         // 7.1
            ];
            for (channels, want) in (1..=MAX_CHANNELS).zip(expected) {
                assert_eq!(channel_weights(channels), want, "{channels} channels");
            }
        }
    }

    mod power_to_lufs {
        use super::*;

        /// BS.1770-5 eq. 2: −0.691 + 10·log10(1) = −0.691.
        #[test]
        fn power_of_one_is_the_bs1770_offset() {
            assert_eq!(power_to_lufs(1.0), -0.691);
        }

        /// Each decade of power is 10 LU: log10(10) = 1 and log10(100) = 2 exactly, and
        /// −0.691 + 10 and −0.691 + 20 round to the doubles nearest 9.309 and 19.309. 0.1 is not
        /// exact in binary, so −10.691 is checked to 1e-12 (an ulp at 10 is 1.8e-15).
        #[test]
        fn a_decade_of_power_is_ten_lu() {
            assert_eq!(power_to_lufs(10.0), 9.309);
            assert_eq!(power_to_lufs(100.0), 19.309);
            assert!((power_to_lufs(0.1) + 10.691).abs() < 1e-12);
        }

        /// No power, a negative one (impossible, but not a panic) or NaN reads as silence.
        #[test]
        fn no_power_is_minus_infinity() {
            assert_eq!(power_to_lufs(0.0), f64::NEG_INFINITY);
            assert_eq!(power_to_lufs(-1.0), f64::NEG_INFINITY);
            assert_eq!(power_to_lufs(f64::NAN), f64::NEG_INFINITY);
        }
    }

    mod histogram_bins {
        use super::*;

        /// bin = floor((L + 70)/0.02), clamped to 0..=4499: −70 LUFS opens bin 0,
        /// −23 LUFS is floor(47/0.02) = 2350, −0.691 LUFS is floor(3465.45) = 3465, 19.99 LUFS is
        /// floor(4499.5) = 4499. Anything quieter than −70 (or NaN) lands in bin 0, anything at or
        /// above +20 in the top bin.
        #[test]
        fn bins_are_0_02_lu_from_minus_70() {
            assert_eq!(Histogram::bin(-70.0), 0);
            assert_eq!(Histogram::bin(-23.0), 2350);
            assert_eq!(Histogram::bin(-0.691), 3465);
            assert_eq!(Histogram::bin(19.99), 4499);
            assert_eq!(Histogram::bin(-100.0), 0);
            assert_eq!(Histogram::bin(f64::NEG_INFINITY), 0);
            assert_eq!(Histogram::bin(f64::NAN), 0);
            assert_eq!(Histogram::bin(20.0), 4499);
            assert_eq!(Histogram::bin(f64::INFINITY), 4499);
        }

        /// floor = −70 + 0.02·bin: 2350·0.02 and 4500·0.02 round to 47 and 90 exactly.
        #[test]
        fn bin_floors() {
            assert_eq!(Histogram::bin_floor_lufs(0), -70.0);
            assert_eq!(Histogram::bin_floor_lufs(2350), -23.0);
            assert_eq!(Histogram::bin_floor_lufs(3000), -10.0);
            assert_eq!(Histogram::bin_floor_lufs(HISTOGRAM_BINS), 20.0);
            assert_eq!(HISTOGRAM_MAX_LUFS, 20.0);
        }

        /// A gate on a bin floor starts at that bin; a gate inside a bin starts at the next one.
        /// −69.98 is the floor of bin 1, but (−69.98 + 70)/0.02 = 0.99999… in binary, so `bin`
        /// puts it in bin 0: the 1e-9 allowance must still start the gate at bin 1. A gate at or
        /// above +20 LUFS passes no bin (4500 is one past the last).
        #[test]
        fn first_bin_at_or_above_a_gate() {
            assert_eq!(Histogram::first_bin_at_or_above(-70.0), 0);
            assert_eq!(Histogram::first_bin_at_or_above(-100.0), 0);
            assert_eq!(Histogram::first_bin_at_or_above(f64::NEG_INFINITY), 0);
            assert_eq!(Histogram::first_bin_at_or_above(-23.0), 2350);
            assert_eq!(Histogram::first_bin_at_or_above(-22.99), 2351);
            assert_eq!(Histogram::bin(-69.98), 0);
            assert_eq!(Histogram::first_bin_at_or_above(-69.98), 1);
            assert_eq!(Histogram::first_bin_at_or_above(20.0), HISTOGRAM_BINS);
            assert_eq!(Histogram::first_bin_at_or_above(100.0), HISTOGRAM_BINS);
        }
    }

    mod histogram_readings {
        use super::*;

        /// Two blocks in bin 1000 (floor −50 LUFS) with 0.5 of power between them and one in bin
        /// 3000 (floor −10) with 1.0 (powers picked so the means are exact; `gated` only sums
        /// them). Gated at −70: 3 blocks, mean 1.5/3 = 0.5. At −50 (bin 1000's floor): the same.
        /// Just above, at −49.99: only bin 3000, mean 1.0. At −10: still bin 3000. At −9.99: none.
        #[test]
        fn gated_counts_and_averages_the_bins_at_or_above() {
            let mut h = Histogram::new();
            assert_eq!(h.gated(ABSOLUTE_GATE_LUFS), (0, 0.0));
            h.add_to_bin(1000, 2, 0.5);
            h.add_to_bin(3000, 1, 1.0);
            assert_eq!(h.gated(-70.0), (3, 0.5));
            assert_eq!(h.gated(-50.0), (3, 0.5));
            assert_eq!(h.gated(-49.99), (1, 1.0));
            assert_eq!(h.gated(-10.0), (1, 1.0));
            assert_eq!(h.gated(-9.99), (0, 0.0));
        }

        /// Ranks count blocks upwards from the gate; each reads its bin's centre, floor + 0.01:
        /// ranks 0 and 1 are the two blocks of bin 1000 (−49.99), rank 2 the one of bin 3000
        /// (−9.99). A rank past the last block reads the top of the range, +20 LUFS.
        #[test]
        fn ranked_reads_bin_centres_in_ascending_order() {
            let h = histogram(&[(1000, 2), (3000, 1)]);
            assert_eq!(h.ranked(-70.0, 0), -49.99);
            assert_eq!(h.ranked(-70.0, 1), -49.99);
            assert_eq!(h.ranked(-70.0, 2), -9.99);
            assert_eq!(h.ranked(-70.0, 3), 20.0);
            assert_eq!(h.ranked(-10.0, 0), -9.99);
            assert_eq!(h.ranked(-9.99, 0), 20.0);
            assert_eq!(Histogram::new().ranked(-70.0, 0), 20.0);
        }

        /// Merging adds counts and powers bin by bin and leaves the other histogram as it was.
        #[test]
        fn merge_adds_bin_by_bin() {
            let mut a = Histogram::new();
            a.add_to_bin(1000, 1, 0.25);
            let mut b = Histogram::new();
            b.add_to_bin(1000, 2, 0.5);
            b.add_to_bin(3000, 1, 1.0);
            a.merge(&b);
            assert_eq!((a.counts[1000], a.powers[1000]), (3, 0.75));
            assert_eq!((a.counts[3000], a.powers[3000]), (1, 1.0));
            assert_eq!(a.counts.iter().sum::<u64>(), 4);
            assert_eq!(b.counts.iter().sum::<u64>(), 3);
            assert_eq!(b.powers[1000], 0.5);
        }

        proptest::proptest! {
            /// The grouped sums and the grouped rank search read what a scan of every bin reads,
            /// from every kind of threshold: below the range, in it, on a group edge, above it.
            #[test]
            fn grouped_queries_match_a_scan_of_every_bin(
                blocks in proptest::collection::vec((0..HISTOGRAM_BINS, 1u64..4), 0..300),
                threshold in -75.0f64..25.0,
                rank in 0u64..400,
            ) {
                let mut h = Histogram::new();
                for &(bin, count) in &blocks {
                    h.add_to_bin(bin, count, count as f64 * power_of(Histogram::bin_floor_lufs(bin)));
                }
                for lufs in [threshold, Histogram::bin_floor_lufs(GROUP_BINS * 7), -80.0, 30.0] {
                    let first = Histogram::first_bin_at_or_above(lufs);
                    let count: u64 = h.counts[first.min(HISTOGRAM_BINS)..].iter().sum();
                    let power: f64 = h.powers[first.min(HISTOGRAM_BINS)..].iter().sum();
                    let (c, p) = h.bins_from(first);
                    proptest::prop_assert_eq!(c, count);
                    proptest::prop_assert!((p - power).abs() <= 1e-12 * power.max(1e-30));
                    let mut seen = 0;
                    let mut want = HISTOGRAM_MAX_LUFS;
                    for bin in first..HISTOGRAM_BINS {
                        seen += h.counts[bin];
                        if seen > rank {
                            want = Histogram::bin_floor_lufs(bin) + 0.5 * HISTOGRAM_BIN_LU;
                            break;
                        }
                    }
                    proptest::prop_assert_eq!(h.ranked(lufs, rank), want);
                }
            }
        }
    }

    mod integrated {
        use super::*;

        #[test]
        fn no_blocks_give_none() {
            assert_eq!(integrated(&Histogram::new()), None);
        }

        /// One block of power 1: the relative gate is −0.691 − 10 = −10.691 LUFS, the block
        /// passes, and the reading is −0.691 + 10·log10(1/1) = −0.691 exactly.
        #[test]
        fn one_block_reads_its_own_loudness() {
            let mut h = Histogram::new();
            h.add(1.0);
            assert_eq!(integrated(&h), Some(-0.691));
        }

        /// BS.1770-5 eqs. 5–7 with blocks of power 1 (−0.691 LUFS) and 0.01 (−20.691 LUFS): the
        /// ungated mean 0.505 is −3.658 LUFS, so the relative gate is −13.658; the quiet block is
        /// dropped and the reading is that of the loud one alone, −0.691 exactly.
        #[test]
        fn the_relative_gate_drops_blocks_more_than_10_lu_down() {
            let mut h = Histogram::new();
            h.add(1.0);
            h.add(0.01);
            assert_eq!(integrated(&h), Some(-0.691));
        }

        /// Blocks of power 1 and 0.1 (−10.691 LUFS): the ungated mean 0.55 is −3.287 LUFS, the
        /// gate −13.287, both pass, so the reading is −0.691 + 10·log10(0.55) = −3.2874 (to 1e-12:
        /// two roundings of a number near 3, an ulp is 4.4e-16).
        #[test]
        fn blocks_within_10_lu_all_count() {
            let mut h = Histogram::new();
            h.add(1.0);
            h.add(0.1);
            let want = -0.691 + 10.0 * 0.55f64.log10();
            let got = integrated(&h).unwrap();
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }

        /// Blocks of power 1.9 and 0.1: the ungated mean is exactly 1, so the relative gate is
        /// −10.691 LUFS, the quiet block's own loudness. BS.1770-5 eq. 6 keeps only blocks above
        /// the gate (and the histogram only bins whose floor is at or above it; that block's bin
        /// starts at −10.70), so the reading is the loud block's: −0.691 + 10·log10(1.9).
        #[test]
        fn a_block_exactly_at_the_relative_gate_is_left_out() {
            let mut h = Histogram::new();
            h.add(1.9);
            h.add(0.1);
            let want = -0.691 + 10.0 * 1.9f64.log10();
            let got = integrated(&h).unwrap();
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }

    mod loudness_range {
        use super::*;

        #[test]
        fn no_values_give_none() {
            assert_eq!(loudness_range(&Histogram::new()), None);
        }

        /// One value: both percentiles are rank round(0·p) = 0, the same block, so 0 LU.
        #[test]
        fn one_value_has_no_range() {
            assert_eq!(loudness_range(&histogram(&[(3465, 1)])), Some(0.0));
        }

        /// Tech 3342's index rule on 20 values, one in each of bins 2000…2019 (−29.99…−29.61
        /// LUFS, all far above the gate): the 95th percentile is rank round(19·0.95) = 18 (bin
        /// 2018), the 10th is round(19·0.10) = 2 (bin 2002), so LRA = 16·0.02 = 0.32 LU (to
        /// 1e-12: differences of bin centres near −30 carry ulps of 3.6e-15).
        #[test]
        fn percentiles_follow_the_tech_3342_index_rule() {
            let bins: Vec<(usize, u64)> = (2000..2020).map(|bin| (bin, 1)).collect();
            let lra = loudness_range(&histogram(&bins)).unwrap();
            assert!((lra - 0.32).abs() < 1e-12, "{lra}");
        }

        /// 10 values at bin 1000 (−49.99 LUFS), 50 at bin 2000 (−29.99) and 50 at bin 2500
        /// (−19.99). Their power mean is −23.0 LUFS, so the relative gate is −43.0 (Tech 3342:
        /// −20 LU) and the quiet ten are left out. Of the 100 left, rank round(99·0.95) = 94 is in
        /// bin 2500 and rank round(99·0.10) = 10 in bin 2000: LRA = 500·0.02 = 10 LU (to 1e-12).
        #[test]
        fn the_relative_gate_drops_values_more_than_20_lu_down() {
            let lra = loudness_range(&histogram(&[(1000, 10), (2000, 50), (2500, 50)])).unwrap();
            assert!((lra - 10.0).abs() < 1e-12, "{lra}");
        }
    }

    mod gated_blocks {
        use super::*;

        /// Nine blocks at −20 LUFS and one 0.005 LU above the relative gate they and it make
        /// (found by iterating x ← gate(x) + 0.005), in the same 0.02 LU bin as the gate: BS.1770
        /// counts it, so integrated is the mean of all ten (to 1e-9); the histogram's bin rule
        /// would drop it and read more than 0.01 LU louder. Past an hour of blocks the histogram
        /// takes over.
        #[test]
        fn integrated_is_exact_on_the_blocks_while_they_fit() {
            let power = |lufs: f64| 10f64.powf((lufs + 0.691) / 10.0);
            let gate_of = |x: f64| power_to_lufs((9.0 * power(-20.0) + power(x)) / 10.0) - 10.0;
            let mut x = -30.0;
            for _ in 0..50 {
                x = gate_of(x) + 0.005;
            }
            let gate = gate_of(x);
            assert!((x - gate - 0.005).abs() < 1e-9);
            let bin = |l: f64| ((l - HISTOGRAM_MIN_LUFS) / HISTOGRAM_BIN_LU).floor();
            assert_eq!(
                bin(x),
                bin(gate),
                "{x} and {gate}: the test needs them in one bin"
            );
            let mut list = GatedBlocks::default();
            for _ in 0..9 {
                list.add_gating_block(power(-20.0));
            }
            list.add_gating_block(power(x));
            let want = power_to_lufs((9.0 * power(-20.0) + power(x)) / 10.0);
            let exact = list.integrated_lufs().unwrap();
            assert!((exact - want).abs() < 1e-9, "{exact} vs {want}");
            let binned = integrated(&list.gating_blocks).unwrap();
            assert!(binned - exact > 0.01, "{binned} vs {exact}");
            for _ in 0..EXACT_BLOCKS {
                list.add_gating_block(power(-20.0));
            }
            assert!(list.exact.integrated(&list.gating_blocks).is_none());
            assert!((list.integrated_lufs().unwrap() + 20.0).abs() < 1e-3);
        }

        /// BS.1770-5 eqs. 5–7 written out on the blocks: the mean of all, the gate 10 LU under
        /// it, the mean of those strictly above.
        fn integrated_by_definition(powers: &[f64]) -> Option<f64> {
            let mean = powers.iter().sum::<f64>() / powers.len() as f64;
            let gate = mean / 10.0;
            let above: Vec<f64> = powers.iter().copied().filter(|&p| p > gate).collect();
            (!above.is_empty())
                .then(|| power_to_lufs(above.iter().sum::<f64>() / above.len() as f64))
        }

        proptest::proptest! {
            /// Chained bins read what applying the gate to every block reads (to 1e-9 LU),
            /// for programmes with a loud part and a quiet part whose blocks crowd around the
            /// relative gate, and after merging two such programmes.
            #[test]
            fn chained_bins_give_the_definition(
                loud in proptest::collection::vec(-30.0f64..-5.0, 1..200),
                near_gate in proptest::collection::vec(-1.0f64..1.0, 0..200),
                second in proptest::collection::vec(-69.9f64..10.0, 0..100),
            ) {
                let power = |lufs: f64| 10f64.powf((lufs + 0.691) / 10.0);
                let mut powers: Vec<f64> = loud.iter().map(|&l| power(l)).collect();
                let gate = power_to_lufs(powers.iter().sum::<f64>() / powers.len() as f64) - 10.0;
                // Within a bin or two of where the gate will be (it moves as these are added).
                powers.extend(near_gate.iter().map(|&d| power(gate + 0.03 * d)));
                let mut blocks = GatedBlocks::default();
                for &p in &powers {
                    blocks.add_gating_block(p);
                }
                let got = blocks.integrated_lufs().unwrap();
                let want = integrated_by_definition(&powers).unwrap();
                proptest::prop_assert!((got - want).abs() < 1e-9, "{} vs {}", got, want);
                let mut other = GatedBlocks::default();
                for &l in &second {
                    other.add_gating_block(power(l));
                }
                blocks.merge(&other);
                powers.extend(second.iter().map(|&l| power(l)));
                let got = blocks.integrated_lufs().unwrap();
                let want = integrated_by_definition(&powers).unwrap();
                proptest::prop_assert!((got - want).abs() < 1e-9, "{} vs {}", got, want);
            }
        }

        #[test]
        fn merge_gates_both_programmes_as_one() {
            let mut a = GatedBlocks::default();
            a.add_gating_block(1.0);
            a.short_term_values.add(1.0);
            let mut b = GatedBlocks::default();
            b.add_gating_block(0.1);
            b.short_term_values.add(0.1);
            assert_eq!(a.integrated_lufs(), Some(-0.691));
            assert!((b.integrated_lufs().unwrap() + 10.691).abs() < 1e-12);
            assert_eq!(a.loudness_range_lu(), Some(0.0));
            assert_eq!(b.loudness_range_lu(), Some(0.0));

            a.merge(&b);
            let want = -0.691 + 10.0 * 0.55f64.log10();
            let integrated = a.integrated_lufs().unwrap();
            assert!((integrated - want).abs() < 1e-12, "{integrated} vs {want}");
            let lra = a.loudness_range_lu().unwrap();
            assert!((lra - 10.0).abs() < 1e-12, "{lra}");
        }
    }
}
