//! Loudness per ITU-R BS.1770-5 and EBU Tech 3341/3342: momentary (400 ms), short-term (3 s),
//! integrated (gated) and loudness range, in bounded memory however long the session.
//!
//! The K-weighted, channel-weighted power is collected in 5 ms sub-blocks. Momentary and
//! short-term are running sums over the last 80 and 600 sub-blocks, read every 5 ms, so their
//! maxima are exact to within 0.03 LU for any burst position (Tech 3341 cases 10–14). Gating
//! blocks (400 ms every 100 ms, BS.1770-5 eq. 3) and the short-term values for loudness range
//! (every 100 ms, Tech 3342) go into histograms of 0.02 LU bins that keep each bin's energy too,
//! so only which blocks sit exactly at a threshold is approximate, never the energy average.

use super::k_weighting::KWeighting;

/// Most channels the meter takes (7.1).
pub const MAX_CHANNELS: usize = 8;

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
/// blocks' powers.
#[derive(Debug, Clone)]
struct Histogram {
    counts: Vec<u64>,
    powers: Vec<f64>,
}

impl Histogram {
    fn new() -> Self {
        Self {
            counts: vec![0; HISTOGRAM_BINS],
            powers: vec![0.0; HISTOGRAM_BINS],
        }
    }

    fn clear(&mut self) {
        self.counts.fill(0);
        self.powers.fill(0.0);
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        for (a, b) in self.powers.iter_mut().zip(&other.powers) {
            *a += b;
        }
    }

    fn bin(lufs: f64) -> usize {
        let i = ((lufs - HISTOGRAM_MIN_LUFS) / HISTOGRAM_BIN_LU).floor();
        (i.max(0.0) as usize).min(HISTOGRAM_BINS - 1)
    }

    fn bin_floor_lufs(bin: usize) -> f64 {
        HISTOGRAM_MIN_LUFS + bin as f64 * HISTOGRAM_BIN_LU
    }

    fn add(&mut self, power: f64) {
        let bin = Self::bin(power_to_lufs(power));
        self.counts[bin] += 1;
        self.powers[bin] += power;
    }

    /// Count and mean power of the blocks at or above `lufs` (bins whose floor is at or above).
    fn gated(&self, lufs: f64) -> (u64, f64) {
        let first = Self::first_bin_at_or_above(lufs);
        let count: u64 = self.counts[first..].iter().sum();
        let power: f64 = self.powers[first..].iter().sum();
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
        let mut seen = 0;
        let start = Self::first_bin_at_or_above(lufs);
        for (bin, &count) in self.counts.iter().enumerate().skip(start) {
            seen += count;
            if seen > rank {
                return Self::bin_floor_lufs(bin) + 0.5 * HISTOGRAM_BIN_LU;
            }
        }
        HISTOGRAM_MAX_LUFS
    }
}

/// The blocks behind the gated readings: the gating blocks of integrated loudness and the
/// short-term values of loudness range. Two sets merge into the set of one programme made of
/// both, which is how loudness scanners' album modes treat several files (EBU R 128 s1:
/// programme loudness over the whole programme, gates applied once to all its blocks).
#[derive(Debug, Clone)]
pub struct GatedBlocks {
    gating_blocks: Histogram,
    short_term_values: Histogram,
}

impl Default for GatedBlocks {
    fn default() -> Self {
        Self {
            gating_blocks: Histogram::new(),
            short_term_values: Histogram::new(),
        }
    }
}

impl GatedBlocks {
    /// Add another measurement's blocks, as if its programme followed this one.
    pub fn merge(&mut self, other: &GatedBlocks) {
        self.gating_blocks.merge(&other.gating_blocks);
        self.short_term_values.merge(&other.short_term_values);
    }

    /// Gated integrated loudness of all the blocks, LUFS; `None` when none passes the gates.
    pub fn integrated_lufs(&self) -> Option<f64> {
        integrated(&self.gating_blocks)
    }

    /// Loudness range of all the short-term values, LU; `None` when none passes the gates.
    pub fn loudness_range_lu(&self) -> Option<f64> {
        loudness_range(&self.short_term_values)
    }

    fn clear(&mut self) {
        self.gating_blocks.clear();
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
        ((index + 1) as f64 * SUB_BLOCK_S * self.sample_rate_hz).round() as u64
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
            if done.is_multiple_of(STEP_SUBS) && m > ABSOLUTE_GATE_LUFS {
                // A gating block: 400 ms ending on a 100 ms step (BS.1770-5 eq. 3).
                self.blocks.gating_blocks.add(power);
                r.integrated_lufs = self.blocks.integrated_lufs();
            }
        }
        if done >= SHORT_TERM_SUBS as u64 {
            let power = self.short_term.power();
            let s = power_to_lufs(power);
            r.short_term_lufs = Some(s);
            r.short_term_max_lufs = Some(r.short_term_max_lufs.map_or(s, |x| x.max(s)));
            if done.is_multiple_of(STEP_SUBS) && s >= ABSOLUTE_GATE_LUFS {
                // Tech 3342: short-term values at 10 Hz.
                self.blocks.short_term_values.add(power);
                r.loudness_range_lu = self.blocks.loudness_range_lu();
            }
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
