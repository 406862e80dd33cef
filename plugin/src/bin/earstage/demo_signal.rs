//! The embedded demo signal: eight seconds of a deterministic, music-like stereo mix, made in code
//! so the binary needs no data files. It has what the meters must catch: a bass line, a decaying
//! chord, a noise bed, and at 4 s a 60 ms burst of fs/4 tone whose samples sit 3 dB below its
//! true peaks — an inter-sample over that a sample-peak meter misses.

use std::f64::consts::PI;

pub const SAMPLE_RATE_HZ: u32 = 48_000;
pub const DURATION_S: f64 = 8.0;
/// Level of the music-like mix (the burst is added at full level).
const MIX_GAIN: f64 = 0.6;
pub const DESCRIPTION: &str =
    "embedded demo: 8 s music-like stereo mix with a burst of inter-sample overs at 4 s";

/// Interleaving-free stereo: one `Vec` per channel.
pub fn stereo() -> [Vec<f32>; 2] {
    let fs = f64::from(SAMPLE_RATE_HZ);
    let len = (DURATION_S * fs) as usize;
    let mut left = Vec::with_capacity(len);
    let mut right = Vec::with_capacity(len);
    let mut noise = NoiseSource::new(0x5eed_ea75);
    for n in 0..len {
        let t = n as f64 / fs;
        let beat = (t * 2.0).fract(); // 120 BPM
        let bass_hz = [55.0, 55.0, 73.42, 65.41][(t * 0.5) as usize % 4];
        let bass = 0.30 * (2.0 * PI * bass_hz * t).sin() * (-3.0 * beat).exp();
        let chord: f64 = [261.63, 329.63, 392.0]
            .iter()
            .map(|f| (2.0 * PI * f * t).sin())
            .sum::<f64>()
            * 0.08
            * (-1.5 * (t % 2.0)).exp();
        let hat = 0.05 * noise.next() * (-40.0 * (t * 4.0).fract()).exp();
        let bed = 0.01 * noise.next();
        // At 4.0 s: a tone at fs/4, 45° phase, whose sample peaks read 3 dB under its true
        // peak — the classic inter-sample over.
        let hot = if (4.0..4.06).contains(&t) {
            let envelope = (((t - 4.0) / 0.005).min((4.06 - t) / 0.005)).min(1.0);
            0.95 * envelope * (2.0 * PI * (fs / 4.0) * t + PI / 4.0).sin()
        } else {
            0.0
        };
        left.push((MIX_GAIN * (bass + chord + hat + bed) + hot) as f32);
        right.push((MIX_GAIN * (bass + 0.8 * chord - hat + bed) + hot) as f32);
    }
    [left, right]
}

/// A small deterministic white-noise source (xorshift64*), uniform in [-1, 1).
struct NoiseSource(u64);

impl NoiseSource {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        bits as f64 / (1u64 << 52) as f64 - 1.0
    }
}
