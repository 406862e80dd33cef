//! Eardrum (coupler) SPL to diffuse-field-equivalent SPL. IEM sensitivities are coupler figures,
//! close to eardrum pressure; exposure limits are free- or diffuse-field figures. The difference is
//! the diffuse-field → eardrum transfer, subtracted band by band before A-weighting
//! (docs/spl.md). Data: `data/field_to_eardrum.tsv`, whose diffuse-field column is the outer-ear
//! transfer of ANSI S3.4-2007 (as Moore and Glasberg's loudness models use it); docs/spl.md gives
//! the source and how it is used.

use std::sync::LazyLock;

use super::curve::FrequencyResponse;

const TABLE: &str = include_str!("data/field_to_eardrum.tsv");

/// The table's (Hz, diffuse field → eardrum dB) rows, parsed once.
static DIFFUSE_TO_EARDRUM: LazyLock<SmoothTable> = LazyLock::new(|| {
    let rows: Vec<[f64; 2]> = TABLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split('\t');
            let hz = f.next()?.trim().parse().ok()?;
            let _free_field: f64 = f.next()?.trim().parse().ok()?;
            let diffuse = f.next()?.trim().parse().ok()?;
            Some([hz, diffuse])
        })
        .collect();
    let checked =
        FrequencyResponse::new(rows).expect("the embedded table is valid (checked by the tests)");
    SmoothTable::new(checked.rows())
});

/// The diffuse-field → eardrum transfer at `hz`, dB: a smooth curve through every table row
/// (below), held at the table's ends (20 Hz and 16 kHz).
pub fn diffuse_to_eardrum_db(hz: f64) -> f64 {
    DIFFUSE_TO_EARDRUM.at(hz)
}

/// A shape-preserving cubic through (ln f, dB) points (Fritsch & Carlson, "Monotone piecewise
/// cubic interpolation", SIAM J. Numer. Anal. 17, 1980; slopes by the Fritsch–Butland harmonic
/// mean): it passes through every row, never overshoots between rows that rise or fall, and has
/// no kinks, so a filter fitted to it follows it closely (the physical transfer is smooth; the
/// rows are samples of it at band centres). Flat beyond the ends.
#[derive(Debug, Clone)]
struct SmoothTable {
    ln_hz: Vec<f64>,
    db: Vec<f64>,
    slope: Vec<f64>,
}

impl SmoothTable {
    fn new(rows: &[[f64; 2]]) -> Self {
        let ln_hz: Vec<f64> = rows.iter().map(|r| r[0].ln()).collect();
        let db: Vec<f64> = rows.iter().map(|r| r[1]).collect();
        let n = rows.len();
        let h: Vec<f64> = ln_hz.windows(2).map(|w| w[1] - w[0]).collect();
        let d: Vec<f64> = (0..n - 1).map(|i| (db[i + 1] - db[i]) / h[i]).collect();
        let slope = (0..n)
            .map(|i| {
                if i == 0 || i == n - 1 || d[i - 1] * d[i] <= 0.0 {
                    0.0
                } else {
                    3.0 * (h[i - 1] + h[i])
                        / ((2.0 * h[i] + h[i - 1]) / d[i - 1] + (h[i] + 2.0 * h[i - 1]) / d[i])
                }
            })
            .collect();
        Self { ln_hz, db, slope }
    }

    fn at(&self, hz: f64) -> f64 {
        let x = hz.max(f64::MIN_POSITIVE).ln();
        let n = self.ln_hz.len();
        if x <= self.ln_hz[0] {
            return self.db[0];
        }
        if x >= self.ln_hz[n - 1] {
            return self.db[n - 1];
        }
        let i = self.ln_hz.partition_point(|&v| v <= x) - 1;
        let h = self.ln_hz[i + 1] - self.ln_hz[i];
        let t = (x - self.ln_hz[i]) / h;
        // Cubic Hermite basis.
        let (t2, t3) = (t * t, t * t * t);
        (2.0 * t3 - 3.0 * t2 + 1.0) * self.db[i]
            + (t3 - 2.0 * t2 + t) * h * self.slope[i]
            + (-2.0 * t3 + 3.0 * t2) * self.db[i + 1]
            + (t3 - t2) * h * self.slope[i + 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::weighting::a_weighting_db;

    /// The diffuse-field column as ANSI S3.4-2007 tabulates the diffuse-field outer-ear transfer
    /// (20 Hz–16 kHz), row for row.
    #[test]
    fn the_table_is_ansi_s3_4_2007() {
        const ANSI_HZ: [f64; 38] = [
            20.0, 25.0, 31.5, 40.0, 50.0, 63.0, 80.0, 100.0, 125.0, 160.0, 200.0, 250.0, 315.0,
            400.0, 500.0, 630.0, 750.0, 800.0, 1000.0, 1250.0, 1500.0, 1600.0, 2000.0, 2500.0,
            3000.0, 3150.0, 4000.0, 5000.0, 6000.0, 6300.0, 8000.0, 9000.0, 10000.0, 11200.0,
            12500.0, 14000.0, 15000.0, 16000.0,
        ];
        const ANSI_DB: [f64; 38] = [
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.3, 0.4, 0.5, 1.0, 1.6, 1.7, 2.2, 2.7,
            2.9, 3.8, 5.3, 6.8, 7.2, 10.2, 14.9, 14.5, 14.4, 12.7, 10.8, 8.9, 8.7, 8.5, 6.2, 5.0,
            4.5, 4.0, 3.3, 2.6, 2.0,
        ];
        for (hz, db) in ANSI_HZ.iter().zip(ANSI_DB) {
            assert!((diffuse_to_eardrum_db(*hz) - db).abs() < 1e-9, "{hz} Hz");
        }
    }

    /// What the docs say: A-weighted pink noise (equal energy per octave) reads about 6 dB lower
    /// diffuse-field equivalent than at the eardrum.
    #[test]
    fn pink_noise_loses_about_6_db() {
        let (mut eardrum, mut diffuse) = (0.0, 0.0);
        let steps = 4000;
        for i in 0..=steps {
            let hz = 20.0 * 1000f64.powf(f64::from(i) / f64::from(steps));
            let a = 10f64.powf(a_weighting_db(hz) / 10.0);
            eardrum += a;
            diffuse += a * 10f64.powf(-diffuse_to_eardrum_db(hz) / 10.0);
        }
        let correction = 10.0 * (eardrum / diffuse).log10();
        assert!((5.7..6.3).contains(&correction), "{correction} dB");
    }

    #[test]
    fn table_values_and_interpolation() {
        assert_eq!(diffuse_to_eardrum_db(20.0), 0.0);
        assert_eq!(diffuse_to_eardrum_db(4000.0), 12.7);
        assert_eq!(diffuse_to_eardrum_db(16_000.0), 2.0);
        assert_eq!(diffuse_to_eardrum_db(20_000.0), 2.0);
        assert_eq!(diffuse_to_eardrum_db(5.0), 0.0);
        // Between two falling rows (4 kHz 12.7 dB, 5 kHz 10.8 dB) it falls, without overshoot.
        let mid = (4000.0f64 * 5000.0).sqrt();
        let v = diffuse_to_eardrum_db(mid);
        assert!(v < 12.7 && v > 10.8, "{v}");
        assert!(DIFFUSE_TO_EARDRUM.ln_hz.len() >= 30);
    }

    /// No kinks: the slope just below and just above every row agree.
    #[test]
    fn smooth_through_every_row() {
        let table = &*DIFFUSE_TO_EARDRUM;
        for &ln_hz in &table.ln_hz[1..table.ln_hz.len() - 1] {
            let hz = ln_hz.exp();
            let e = 1e-6;
            let below = (table.at(hz) - table.at(hz * (1.0 - e))) / e;
            let above = (table.at(hz * (1.0 + e)) - table.at(hz)) / e;
            assert!((below - above).abs() < 1e-3, "{hz} Hz: {below} vs {above}");
        }
    }
}
