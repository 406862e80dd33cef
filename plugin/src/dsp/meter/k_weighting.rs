//! The K-weighting pre-filter of ITU-R BS.1770-5 at run time: both stages of
//! `model::weighting`'s K-weighting with their state, summing squares for the loudness meter.

use crate::model::weighting::Biquad;

/// A NaN or infinity would poison the filter state forever: read it as silence.
#[inline(always)]
fn sanitize(x: f32) -> f64 {
    if x.is_finite() { f64::from(x) } else { 0.0 }
}

/// Both stages with their state (transposed direct form II, f64).
#[derive(Debug, Clone)]
pub struct KWeighting {
    stages: [Biquad; 2],
    state: [[f64; 2]; 2],
}

impl KWeighting {
    pub fn new(sample_rate_hz: f64) -> Self {
        Self {
            stages: [
                Biquad::k_shelf(sample_rate_hz),
                Biquad::k_highpass(sample_rate_hz),
            ],
            state: [[0.0; 2]; 2],
        }
    }

    pub fn reset(&mut self) {
        self.state = [[0.0; 2]; 2];
    }

    /// Filter `input` and return the sum of squares of the output.
    pub fn sum_of_squares(&mut self, input: &[f32]) -> f64 {
        let mut sum = 0.0;
        for &x in input {
            let y = self.tick(x);
            sum += y * y;
        }
        self.flush_denormals();
        sum
    }

    /// Two channels at once, as two lanes of one vector: their recursions are independent, so
    /// the processor runs both in the time of one.
    pub fn sum_of_squares_pair(pair: [&mut KWeighting; 2], inputs: [&[f32]; 2]) -> [f64; 2] {
        let [a, b] = pair;
        debug_assert_eq!(a.stages, b.stages);
        let [s1, s2] = a.stages;
        // state[stage][register][lane]
        let mut z: [[[f64; 2]; 2]; 2] =
            std::array::from_fn(|st| std::array::from_fn(|r| [a.state[st][r], b.state[st][r]]));
        let mut sums = [0.0f64; 2];
        let lanes = |f: &dyn Fn(usize) -> f64| [f(0), f(1)];
        for (&xa, &xb) in inputs[0].iter().zip(inputs[1]) {
            let x = [sanitize(xa), sanitize(xb)];
            let y1 = lanes(&|l| s1.b[0] * x[l] + z[0][0][l]);
            let z10 = lanes(&|l| s1.b[1] * x[l] - s1.a[0] * y1[l] + z[0][1][l]);
            let z11 = lanes(&|l| s1.b[2] * x[l] - s1.a[1] * y1[l]);
            let y2 = lanes(&|l| s2.b[0] * y1[l] + z[1][0][l]);
            let z20 = lanes(&|l| s2.b[1] * y1[l] - s2.a[0] * y2[l] + z[1][1][l]);
            let z21 = lanes(&|l| s2.b[2] * y1[l] - s2.a[1] * y2[l]);
            z = [[z10, z11], [z20, z21]];
            sums = lanes(&|l| sums[l] + y2[l] * y2[l]);
        }
        for (st, stage) in z.iter().enumerate() {
            for (r, reg) in stage.iter().enumerate() {
                a.state[st][r] = reg[0];
                b.state[st][r] = reg[1];
            }
        }
        a.flush_denormals();
        b.flush_denormals();
        sums
    }

    /// One sample through both stages (transposed direct form II).
    #[inline(always)]
    fn tick(&mut self, x: f32) -> f64 {
        let x = sanitize(x);
        let [s1, s2] = &self.stages;
        let [z1, z2] = &mut self.state;
        let y1 = s1.b[0] * x + z1[0];
        z1[0] = s1.b[1] * x - s1.a[0] * y1 + z1[1];
        z1[1] = s1.b[2] * x - s1.a[1] * y1;
        let y2 = s2.b[0] * y1 + z2[0];
        z2[0] = s2.b[1] * y1 - s2.a[0] * y2 + z2[1];
        z2[1] = s2.b[2] * y1 - s2.a[1] * y2;
        y2
    }

    /// Flush denormal state so a long silence costs nothing.
    fn flush_denormals(&mut self) {
        for v in self.state.iter_mut().flatten() {
            if v.abs() < 1e-30 {
                *v = 0.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod sum_of_squares {
        use super::*;

        /// BS.1770-5 Note 1: a 0 dBFS 997 Hz sine in one channel reads −3.01 LKFS. At 48 kHz the
        /// filter is the table's; at other rates the bilinear transform of the prototype moves
        /// the 997 Hz gain by up to 0.03 dB (the same design as libebur128 and ffmpeg).
        #[test]
        fn gain_at_997_hz_is_cancelled_by_the_constant() {
            for fs in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
                let mut k = KWeighting::new(fs);
                let n = (fs * 4.0) as usize;
                let x: Vec<f32> = (0..n)
                    .map(|i| (2.0 * std::f64::consts::PI * 997.0 * i as f64 / fs).sin() as f32)
                    .collect();
                k.sum_of_squares(&x[..n / 2]); // settle
                let power = k.sum_of_squares(&x[n / 2..]) / (n / 2) as f64;
                let loudness = -0.691 + 10.0 * power.log10();
                let tolerance = if fs == 48_000.0 { 0.001 } else { 0.03 };
                assert!(
                    (loudness - (-3.0103)).abs() < tolerance,
                    "{fs} Hz: {loudness}"
                );
            }
        }

        #[test]
        fn pair_matches_two_singles() {
            let x: Vec<f32> = (0..1000)
                .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
                .collect();
            let y: Vec<f32> = x.iter().rev().copied().collect();
            let (mut a, mut b) = (KWeighting::new(48_000.0), KWeighting::new(48_000.0));
            let pair = KWeighting::sum_of_squares_pair([&mut a, &mut b], [&x, &y]);
            let single = [
                KWeighting::new(48_000.0).sum_of_squares(&x),
                KWeighting::new(48_000.0).sum_of_squares(&y),
            ];
            assert_eq!(pair, single);
        }

        #[test]
        fn nan_input_does_not_poison_the_state() {
            let mut k = KWeighting::new(48_000.0);
            k.sum_of_squares(&[f32::NAN, f32::INFINITY, 0.5]);
            assert!(k.sum_of_squares(&[0.1; 64]).is_finite());
        }
    }
}
