//! The one SIMD surface of the audio-thread kernels: four f64 lanes ([`F64x4`]) behind an
//! instruction-set token ([`Portable`], and on x86-64 [`Avx`] and [`AvxFma`]), eight f32 lanes
//! ([`F32x8`]), and the flush of tiny state values. The bank, pressure and true-peak kernels are
//! each written once on it; each module's entry points compile that one body for each instruction
//! set and pick the fastest the CPU has ([`Isa::detect`]). A leaf module: it imports no other part
//! of the engine.
//!
//! - Unfused ([`Portable`], [`Avx`]) an operation is the same IEEE operation in every lane, in the
//!   same order, so the two give the same bits; the parity tests check it.
//! - Fused ([`AvxFma`]) each [`F64x4::mul_add`] rounds once: fewer operations, results within
//!   rounding of the others.
//! - Eight f32 lanes are written lane by lane: LLVM keeps them in one 256-bit register where the
//!   function is compiled with AVX, and never contracts them into fused operations, so every
//!   instruction set gives the same bits.

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

/// The instruction sets the kernels are compiled for. A variant holds its token, so an `Isa` names
/// only a set the CPU runs.
#[derive(Debug, Clone, Copy)]
pub enum Isa {
    /// Whatever the target compiles to by default (SSE2 on x86-64).
    Portable(Portable),
    /// 256-bit registers, no fused multiply-add.
    #[cfg(target_arch = "x86_64")]
    Avx(Avx),
    /// 256-bit registers with fused multiply-add.
    #[cfg(target_arch = "x86_64")]
    AvxFma(AvxFma),
}

impl Isa {
    /// The fastest set this CPU runs.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(t) = AvxFma::detect() {
                return Self::AvxFma(t);
            }
            if let Some(t) = Avx::detect() {
                return Self::Avx(t);
            }
        }
        Self::Portable(Portable)
    }

    /// Every set this CPU runs, the portable one first: what the parity tests compare.
    pub fn available() -> Vec<Self> {
        let mut sets = vec![Self::Portable(Portable)];
        #[cfg(target_arch = "x86_64")]
        {
            sets.extend(Avx::detect().map(Self::Avx));
            sets.extend(AvxFma::detect().map(Self::AvxFma));
        }
        sets
    }

    /// Whether this set's multiply-adds round once (results within rounding of the portable
    /// set's, not the same bits).
    pub fn fused(self) -> bool {
        match self {
            Self::Portable(_) => Portable::FUSED,
            #[cfg(target_arch = "x86_64")]
            Self::Avx(_) => Avx::FUSED,
            #[cfg(target_arch = "x86_64")]
            Self::AvxFma(_) => AvxFma::FUSED,
        }
    }
}

/// `kernel_per_isa!(fn select(arg: Type, …) -> Ret = kernel);` defines
/// `fn select(isa: Isa) -> fn(Type, …) -> Ret`: `kernel`, a function written once on [`F64x4`]
/// (`fn kernel<S: F64x4>(simd: S, arg: Type, …) -> Ret`, `#[inline(always)]`), compiled with each
/// instruction set's target features, the one for `isa` returned.
macro_rules! kernel_per_isa {
    ($(#[$meta:meta])* fn $select:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? = $kernel:path;) => {
        $(#[$meta])*
        fn $select(isa: $crate::dsp::simd::Isa) -> fn($($ty),*) $(-> $ret)? {
            use $crate::dsp::simd::Isa;
            fn portable($($arg: $ty),*) $(-> $ret)? {
                $kernel($crate::dsp::simd::Portable, $($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx")]
            fn avx($($arg: $ty),*) $(-> $ret)? {
                // SAFETY: this function is chosen only with an `Isa::Avx`, which holds a token.
                $kernel(unsafe { $crate::dsp::simd::Avx::new_unchecked() }, $($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx,fma")]
            fn avx_fma($($arg: $ty),*) $(-> $ret)? {
                // SAFETY: this function is chosen only with an `Isa::AvxFma`, which holds a token.
                $kernel(unsafe { $crate::dsp::simd::AvxFma::new_unchecked() }, $($arg),*)
            }
            match isa {
                Isa::Portable(_) => portable,
                // SAFETY (both): the token in the variant proves the CPU has the features.
                #[cfg(target_arch = "x86_64")]
                Isa::Avx(_) => |$($arg),*| unsafe { avx($($arg),*) },
                #[cfg(target_arch = "x86_64")]
                Isa::AvxFma(_) => |$($arg),*| unsafe { avx_fma($($arg),*) },
            }
        }
    };
}
pub(crate) use kernel_per_isa;

/// Four f64 lanes on one instruction set. Implemented by zero-sized tokens: a token exists only
/// where its instructions run, so its operations are safe to call. Every method is inlined into
/// the kernel, which its entry point compiles with the token's target features.
pub trait F64x4: Copy {
    /// One vector of four f64.
    type V: Copy;
    /// Whether [`F64x4::mul_add`] rounds once.
    const FUSED: bool;

    fn splat(self, x: f64) -> Self::V;
    fn load(self, a: &[f64; 4]) -> Self::V;
    fn store(self, v: Self::V, a: &mut [f64; 4]);
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    /// a·b + c (one rounding when [`F64x4::FUSED`]).
    fn mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// c − a·b (one rounding when [`F64x4::FUSED`]).
    fn neg_mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// Lane-wise maximum; where either is NaN, `b`.
    fn max(self, a: Self::V, b: Self::V) -> Self::V;
    fn abs(self, a: Self::V) -> Self::V;
    /// The four lanes' sum, as `(a0 + a2) + (a1 + a3)`.
    fn horizontal_sum(self, v: Self::V) -> f64;

    /// a·b + c on scalars, rounded as the vectors are.
    #[inline(always)]
    fn mul_add_scalar(self, a: f64, b: f64, c: f64) -> f64 {
        if Self::FUSED {
            a.mul_add(b, c)
        } else {
            a * b + c
        }
    }

    /// The sum of `N` vectors as a tree (a short dependency chain): neighbours first, then
    /// neighbouring pairs, and so on (for six: ((v0 + v1) + (v2 + v3)) + (v4 + v5)). Every loop's
    /// trip count follows from `N` alone, so the compiler unrolls it completely.
    #[inline(always)]
    fn sum_tree<const N: usize>(self, mut level: [Self::V; N]) -> Self::V {
        let mut stride = 1;
        while stride < N {
            let mut k = 0;
            while k + stride < N {
                level[k] = self.add(level[k], level[k + stride]);
                k += 2 * stride;
            }
            stride *= 2;
        }
        level[0]
    }
}

/// Plain lane-by-lane arithmetic, on any target.
#[derive(Debug, Clone, Copy)]
pub struct Portable;

impl Portable {
    #[inline(always)]
    fn zip(a: [f64; 4], b: [f64; 4], f: impl Fn(f64, f64) -> f64) -> [f64; 4] {
        std::array::from_fn(|l| f(a[l], b[l]))
    }
}

impl F64x4 for Portable {
    type V = [f64; 4];
    const FUSED: bool = false;

    #[inline(always)]
    fn splat(self, x: f64) -> Self::V {
        [x; 4]
    }
    #[inline(always)]
    fn load(self, a: &[f64; 4]) -> Self::V {
        *a
    }
    #[inline(always)]
    fn store(self, v: Self::V, a: &mut [f64; 4]) {
        *a = v;
    }
    #[inline(always)]
    fn add(self, a: Self::V, b: Self::V) -> Self::V {
        Self::zip(a, b, |x, y| x + y)
    }
    #[inline(always)]
    fn sub(self, a: Self::V, b: Self::V) -> Self::V {
        Self::zip(a, b, |x, y| x - y)
    }
    #[inline(always)]
    fn mul(self, a: Self::V, b: Self::V) -> Self::V {
        Self::zip(a, b, |x, y| x * y)
    }
    #[inline(always)]
    fn mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V {
        std::array::from_fn(|l| a[l] * b[l] + c[l])
    }
    #[inline(always)]
    fn neg_mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V {
        std::array::from_fn(|l| c[l] - a[l] * b[l])
    }
    #[inline(always)]
    fn max(self, a: Self::V, b: Self::V) -> Self::V {
        // The comparison `vmaxpd` makes: `b` unless `a` is greater.
        Self::zip(a, b, |x, y| if x > y { x } else { y })
    }
    #[inline(always)]
    fn abs(self, a: Self::V) -> Self::V {
        a.map(f64::abs)
    }
    #[inline(always)]
    fn horizontal_sum(self, v: Self::V) -> f64 {
        (v[0] + v[2]) + (v[1] + v[3])
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::F64x4;
    use std::arch::x86_64::{
        __m256d, _mm_add_pd, _mm_add_sd, _mm_cvtsd_f64, _mm_unpackhi_pd, _mm256_add_pd,
        _mm256_andnot_pd, _mm256_castpd256_pd128, _mm256_extractf128_pd, _mm256_fmadd_pd,
        _mm256_fnmadd_pd, _mm256_loadu_pd, _mm256_max_pd, _mm256_mul_pd, _mm256_set1_pd,
        _mm256_storeu_pd, _mm256_sub_pd,
    };

    /// 256-bit registers without fused multiply-add. Only [`Avx::detect`] makes one.
    #[derive(Debug, Clone, Copy)]
    pub struct Avx(());

    /// 256-bit registers with fused multiply-add. Only [`AvxFma::detect`] makes one.
    #[derive(Debug, Clone, Copy)]
    pub struct AvxFma(());

    impl Avx {
        /// The token, on a CPU with AVX.
        pub fn detect() -> Option<Self> {
            std::arch::is_x86_feature_detected!("avx").then_some(Self(()))
        }

        /// The token without the check.
        ///
        /// # Safety
        /// Only on a CPU with AVX (inside a function compiled for it, after [`Avx::detect`]).
        pub unsafe fn new_unchecked() -> Self {
            Self(())
        }
    }

    impl AvxFma {
        /// The token, on a CPU with AVX and FMA.
        pub fn detect() -> Option<Self> {
            (std::arch::is_x86_feature_detected!("avx")
                && std::arch::is_x86_feature_detected!("fma"))
            .then_some(Self(()))
        }

        /// The token without the check.
        ///
        /// # Safety
        /// Only on a CPU with AVX and FMA (inside a function compiled for them, after
        /// [`AvxFma::detect`]).
        pub unsafe fn new_unchecked() -> Self {
            Self(())
        }
    }

    // SAFETY (every `unsafe` block below): a token exists only on a CPU with the instructions it
    // uses (its `detect`), and the loads and stores are to `[f64; 4]`, in the unaligned forms.
    macro_rules! avx_ops {
        ($token:ty, $fused:expr, |$t:ident, $a:ident, $b:ident, $c:ident| $mul_add:expr, $neg_mul_add:expr) => {
            impl F64x4 for $token {
                type V = __m256d;
                const FUSED: bool = $fused;

                #[inline(always)]
                fn splat(self, x: f64) -> __m256d {
                    unsafe { _mm256_set1_pd(x) }
                }
                #[inline(always)]
                fn load(self, a: &[f64; 4]) -> __m256d {
                    unsafe { _mm256_loadu_pd(a.as_ptr()) }
                }
                #[inline(always)]
                fn store(self, v: __m256d, a: &mut [f64; 4]) {
                    unsafe { _mm256_storeu_pd(a.as_mut_ptr(), v) }
                }
                #[inline(always)]
                fn add(self, a: __m256d, b: __m256d) -> __m256d {
                    unsafe { _mm256_add_pd(a, b) }
                }
                #[inline(always)]
                fn sub(self, a: __m256d, b: __m256d) -> __m256d {
                    unsafe { _mm256_sub_pd(a, b) }
                }
                #[inline(always)]
                fn mul(self, a: __m256d, b: __m256d) -> __m256d {
                    unsafe { _mm256_mul_pd(a, b) }
                }
                #[inline(always)]
                fn mul_add(self, $a: __m256d, $b: __m256d, $c: __m256d) -> __m256d {
                    let $t = self;
                    $mul_add
                }
                #[inline(always)]
                fn neg_mul_add(self, $a: __m256d, $b: __m256d, $c: __m256d) -> __m256d {
                    let $t = self;
                    $neg_mul_add
                }
                #[inline(always)]
                fn max(self, a: __m256d, b: __m256d) -> __m256d {
                    unsafe { _mm256_max_pd(a, b) }
                }
                #[inline(always)]
                fn abs(self, a: __m256d) -> __m256d {
                    unsafe { _mm256_andnot_pd(_mm256_set1_pd(-0.0), a) }
                }
                #[inline(always)]
                fn horizontal_sum(self, v: __m256d) -> f64 {
                    unsafe {
                        let pair =
                            _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
                        _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)))
                    }
                }
            }
        };
    }

    avx_ops!(
        Avx,
        false,
        |t, a, b, c| t.add(t.mul(a, b), c),
        t.sub(c, t.mul(a, b))
    );
    // The token is not needed by the fused forms.
    avx_ops!(
        AvxFma,
        true,
        |_t, a, b, c| unsafe { _mm256_fmadd_pd(a, b, c) },
        unsafe { _mm256_fnmadd_pd(a, b, c) }
    );
}

#[cfg(target_arch = "x86_64")]
pub use x86::{Avx, AvxFma};

/// Eight f32 lanes, operated on lane by lane (see the module's notes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct F32x8(pub [f32; 8]);

impl F32x8 {
    pub const ZERO: Self = Self([0.0; 8]);

    /// The first eight values of `x`.
    #[inline(always)]
    pub fn load(x: &[f32]) -> Self {
        // One bounds check, then eight loads the compiler sees as one vector load.
        let x = &x[..8];
        Self([x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]])
    }

    #[inline(always)]
    pub fn zip(self, other: Self, f: impl Fn(f32, f32) -> f32) -> Self {
        Self(std::array::from_fn(|i| f(self.0[i], other.0[i])))
    }

    /// self + k·other
    #[inline(always)]
    pub fn add_scaled(self, k: f32, other: Self) -> Self {
        Self(std::array::from_fn(|i| self.0[i] + k * other.0[i]))
    }

    #[inline(always)]
    pub fn abs(self) -> Self {
        Self(self.0.map(f32::abs))
    }

    /// Lane-wise maximum, written so that it compiles to a vector max instruction.
    #[inline(always)]
    pub fn max(self, other: Self) -> Self {
        self.zip(other, max_f32)
    }

    /// The largest lane.
    #[inline(always)]
    pub fn max_lane(self) -> f32 {
        self.0.iter().fold(0.0f32, |m, &v| max_f32(m, v))
    }
}

impl std::ops::Add for F32x8 {
    type Output = Self;

    #[inline(always)]
    fn add(self, other: Self) -> Self {
        self.zip(other, |a, b| a + b)
    }
}

impl std::ops::Sub for F32x8 {
    type Output = Self;

    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        self.zip(other, |a, b| a - b)
    }
}

/// max(a, b) written so that it compiles to a vector max instruction.
#[inline(always)]
pub fn max_f32(a: f32, b: f32) -> f32 {
    if a > b { a } else { b }
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

    /// Every operation of a token, lane by lane, against the IEEE operation on scalars (the
    /// fused forms against `f64::mul_add`, which rounds once): the same bits. The inputs include
    /// signed zeros, NaN, infinities and subnormals.
    fn check<S: F64x4>(simd: S, name: &str) {
        let values = [
            0.0,
            -0.0,
            1.0,
            -2.5,
            1e-310,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
            0.1,
            std::f64::consts::PI,
            -1e300,
            7.0e-3,
        ];
        let pick = |k: usize| -> [f64; 4] { std::array::from_fn(|l| values[(k * 5 + l * 7) % 12]) };
        let bits = |v: [f64; 4]| v.map(f64::to_bits);
        let get = |v: S::V| {
            let mut out = [0.0; 4];
            simd.store(v, &mut out);
            out
        };
        for k in 0..24 {
            let (a, b, c) = (pick(k), pick(k + 1), pick(k + 3));
            let (va, vb, vc) = (simd.load(&a), simd.load(&b), simd.load(&c));
            let lanes = |f: &dyn Fn(usize) -> f64| -> [f64; 4] { std::array::from_fn(f) };
            let fused = |l: usize| a[l].mul_add(b[l], c[l]);
            let neg_fused = |l: usize| (-a[l]).mul_add(b[l], c[l]);
            let cases: [(&str, [f64; 4], [f64; 4]); 9] = [
                ("add", get(simd.add(va, vb)), lanes(&|l| a[l] + b[l])),
                ("sub", get(simd.sub(va, vb)), lanes(&|l| a[l] - b[l])),
                ("mul", get(simd.mul(va, vb)), lanes(&|l| a[l] * b[l])),
                (
                    "mul_add",
                    get(simd.mul_add(va, vb, vc)),
                    if S::FUSED {
                        lanes(&fused)
                    } else {
                        lanes(&|l| a[l] * b[l] + c[l])
                    },
                ),
                (
                    "neg_mul_add",
                    get(simd.neg_mul_add(va, vb, vc)),
                    if S::FUSED {
                        lanes(&neg_fused)
                    } else {
                        lanes(&|l| c[l] - a[l] * b[l])
                    },
                ),
                (
                    "max",
                    get(simd.max(va, vb)),
                    lanes(&|l| if a[l] > b[l] { a[l] } else { b[l] }),
                ),
                ("abs", get(simd.abs(va)), a.map(f64::abs)),
                ("splat", get(simd.splat(a[2])), [a[2]; 4]),
                ("load", get(va), a),
            ];
            for (op, got, want) in cases {
                // NaN payloads are not compared: any NaN stands for a NaN.
                let same = got
                    .iter()
                    .zip(&want)
                    .all(|(g, w)| g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()));
                assert!(same, "{name} {op}: {:?} vs {:?}", bits(got), bits(want));
            }
            let sum = simd.horizontal_sum(va);
            let want = (a[0] + a[2]) + (a[1] + a[3]);
            assert!(
                sum.to_bits() == want.to_bits() || (sum.is_nan() && want.is_nan()),
                "{name} horizontal_sum"
            );
            let want = if S::FUSED {
                0.3f64.mul_add(a[1], c[1])
            } else {
                0.3 * a[1] + c[1]
            };
            let got = simd.mul_add_scalar(0.3, a[1], c[1]);
            assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()));
        }
        // The tree: exact on small integers, and the same pairing as written.
        let vs: [S::V; 5] = std::array::from_fn(|k| {
            let k = k as f64;
            simd.load(&[k, 10.0 * k, 100.0 * k, 1000.0 * k])
        });
        assert_eq!(
            get(simd.sum_tree(vs)),
            [10.0, 100.0, 1000.0, 10000.0],
            "{name}"
        );
    }

    #[test]
    fn every_instruction_set_does_the_ieee_operations() {
        for isa in Isa::available() {
            match isa {
                Isa::Portable(t) => check(t, "portable"),
                #[cfg(target_arch = "x86_64")]
                Isa::Avx(t) => check(t, "avx"),
                #[cfg(target_arch = "x86_64")]
                Isa::AvxFma(t) => check(t, "avx+fma"),
            }
        }
    }

    #[test]
    fn eight_lanes() {
        let a = F32x8(std::array::from_fn(|i| i as f32 - 3.5));
        let b = F32x8([1.0; 8]);
        assert_eq!((a + b).0[0], -2.5);
        assert_eq!((a - b).0[7], 2.5);
        assert_eq!(a.add_scaled(2.0, b).0[3], 1.5);
        assert_eq!(a.abs().0[0], 3.5);
        assert_eq!(a.max(b).0, [1.0, 1.0, 1.0, 1.0, 1.0, 1.5, 2.5, 3.5]);
        assert_eq!(a.abs().max_lane(), 3.5);
        assert_eq!(F32x8::load(&[2.0; 9]).0, [2.0; 8]);
    }
}
