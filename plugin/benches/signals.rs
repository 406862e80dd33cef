//! Benchmark inputs: the same buffers for Earstage and the reference.

#![allow(dead_code)] // each bench target uses its own part of this module

/// Seconds of audio per benchmark iteration.
pub const SECONDS: f64 = 1.0;
pub const FS: u32 = 48_000;
/// Host block size the buffers are fed in.
pub const BLOCK: usize = 512;

/// A deterministic noise source (xorshift64*), uniform in [-1, 1).
fn noise(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        (s.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// Stereo "music": decaying chords, a noise layer with percussive envelope, quiet and loud bars.
pub fn music() -> [Vec<f32>; 2] {
    music_at(FS)
}

/// [`music`] at another sample rate (one second of it).
pub fn music_at(fs: u32) -> [Vec<f32>; 2] {
    let n = (SECONDS * f64::from(fs)) as usize;
    let mut rnd = noise(17);
    let mut out = [Vec::with_capacity(n), Vec::with_capacity(n)];
    for i in 0..n {
        let t = i as f64 / f64::from(fs);
        let beat = (t * 4.0).fract();
        let tone: f64 = [110.0, 164.8, 220.0, 277.2, 329.6]
            .iter()
            .map(|f| (2.0 * std::f64::consts::PI * f * t).sin())
            .sum::<f64>()
            * 0.12
            * (-3.0 * beat).exp();
        let hit = 0.3 * rnd() * (-25.0 * beat).exp();
        out[0].push((tone + hit) as f32);
        out[1].push((0.9 * tone - hit) as f32);
    }
    out
}

/// Stereo white noise at −12 dBFS RMS (many peaks near the running maximum).
pub fn noise_stereo() -> [Vec<f32>; 2] {
    let n = (SECONDS * f64::from(FS)) as usize;
    let mut rnd = noise(5);
    let mut out = [Vec::with_capacity(n), Vec::with_capacity(n)];
    for _ in 0..n {
        out[0].push((0.43 * rnd()) as f32);
        out[1].push((0.43 * rnd()) as f32);
    }
    out
}
