//! What the audio-thread kernels share: the flush of tiny state values, and the pieces of the
//! hand-written x86-64 (AVX) kernels used by more than one of them. A leaf module: it imports no
//! other part of the engine.

/// Smallest magnitude a filter state keeps: below it a value is flushed to zero (once a block), so
/// a decay into silence never turns subnormal (many times slower on most processors).
pub const FLUSH_BELOW: f64 = 1e-30;

/// `x` to zero if it is below [`FLUSH_BELOW`] in magnitude.
#[inline(always)]
pub fn flush_tiny(x: &mut f64) {
    if x.abs() < FLUSH_BELOW {
        *x = 0.0;
    }
}

/// The sum of `N` vectors as a tree (a short dependency chain).
///
/// # Safety
/// Only from a function compiled with AVX, on a CPU that has it.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub unsafe fn sum_tree<const N: usize>(
    mut level: [std::arch::x86_64::__m256d; N],
) -> std::arch::x86_64::__m256d {
    let mut n = N;
    while n > 1 {
        let half = n.div_ceil(2);
        for k in 0..n / 2 {
            // SAFETY: the caller guarantees AVX.
            level[k] = unsafe { std::arch::x86_64::_mm256_add_pd(level[2 * k], level[2 * k + 1]) };
        }
        if n % 2 == 1 {
            level[n / 2] = level[n - 1];
        }
        n = half;
    }
    level[0]
}

/// The four lanes' sum in registers, as `(a0 + a2) + (a1 + a3)`.
///
/// # Safety
/// Only from a function compiled with AVX, on a CPU that has it.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub unsafe fn horizontal_sum(v: std::arch::x86_64::__m256d) -> f64 {
    use std::arch::x86_64::{
        _mm_add_pd, _mm_add_sd, _mm_cvtsd_f64, _mm_unpackhi_pd, _mm256_castpd256_pd128,
        _mm256_extractf128_pd,
    };
    // SAFETY: the caller guarantees AVX.
    unsafe {
        let pair = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
        _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_values_flush_and_others_stay() {
        for (x, want) in [(1e-31, 0.0), (-1e-31, 0.0), (1e-29, 1e-29), (-0.5, -0.5)] {
            let mut v = x;
            flush_tiny(&mut v);
            assert_eq!(v, want);
        }
    }

    /// The tree and the horizontal sum against the plain sums (exact: small integers).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn sums_in_registers() {
        if !std::arch::is_x86_feature_detected!("avx") {
            return;
        }
        #[target_feature(enable = "avx")]
        fn run() -> (f64, [f64; 4]) {
            use std::arch::x86_64::{_mm256_setr_pd, _mm256_storeu_pd};
            let vs: [_; 5] = std::array::from_fn(|k| {
                let k = k as f64;
                _mm256_setr_pd(k, 10.0 * k, 100.0 * k, 1000.0 * k)
            });
            // SAFETY: compiled with AVX, run only where the CPU has it.
            let tree = unsafe { sum_tree(vs) };
            let mut lanes = [0.0; 4];
            // SAFETY: a pointer to four f64.
            unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), tree) };
            (unsafe { horizontal_sum(tree) }, lanes)
        }
        // SAFETY: the CPU has AVX.
        let (sum, lanes) = unsafe { run() };
        assert_eq!(lanes, [10.0, 100.0, 1000.0, 10000.0]);
        assert_eq!(sum, 11110.0);
    }
}
