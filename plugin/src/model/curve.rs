//! Tabulated curves: a measured impedance (|Z| and phase) and an IEM frequency response, both
//! interpolated linearly on a log-frequency axis and held flat beyond their ends.

use serde::{Deserialize, Serialize};

use super::Complex64;

/// Linear interpolation of `y` over `ln f`, holding the end values outside the table.
/// `table` is sorted by strictly increasing, positive frequency.
pub(crate) fn interpolate<const N: usize>(
    table: &[[f64; N]],
    hz: f64,
    column: usize,
    map: fn(f64) -> f64,
) -> f64 {
    let first = table[0];
    let last = table[table.len() - 1];
    if hz <= first[0] {
        return map(first[column]);
    }
    if hz >= last[0] {
        return map(last[column]);
    }
    let upper = table.partition_point(|row| row[0] <= hz);
    let (a, b) = (table[upper - 1], table[upper]);
    let t = (hz / a[0]).ln() / (b[0] / a[0]).ln();
    map(a[column]) + t * (map(b[column]) - map(a[column]))
}

/// The most points a curve may have: a 1/1000-octave measurement of 10 Hz–24 kHz has 11,000;
/// this leaves room while bounding what a damaged or hostile file or project can make us hold.
pub const MAX_POINTS: usize = 65_536;
/// The highest frequency a curve may hold, Hz: far above any audio rate's Nyquist frequency.
pub const MAX_HZ: f64 = 1e6;

/// A measured or imported impedance: rows of (Hz, |Z| Ω, phase degrees).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<[f64; 3]>", into = "Vec<[f64; 3]>")]
pub struct ImpedanceCurve {
    rows: Vec<[f64; 3]>,
}

/// Why a table of points is unusable; the row is 1-based in the table given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CurveError {
    #[error("needs at least 2 points, got {0}")]
    TooFewPoints(usize),
    #[error("has {0} points; at most {MAX_POINTS} are allowed")]
    TooManyPoints(usize),
    #[error("point {row}: frequency {hz} Hz is not above the one before it")]
    NotIncreasing { row: usize, hz: f64 },
    #[error("point {row}: {what} {value} is out of range ({range})")]
    OutOfRange {
        row: usize,
        what: &'static str,
        value: f64,
        range: &'static str,
    },
}

impl ImpedanceCurve {
    /// Checks the rows: ≥ 2, strictly increasing positive finite frequencies, positive finite
    /// magnitudes, phases within ±90° (a passive one-port's real part is never negative).
    pub fn new(rows: Vec<[f64; 3]>) -> Result<Self, CurveError> {
        check_frequencies(&rows)?;
        for (i, row) in rows.iter().enumerate() {
            if !(row[1].is_finite() && row[1] > 0.0) {
                return Err(CurveError::OutOfRange {
                    row: i + 1,
                    what: "|Z|",
                    value: row[1],
                    range: "above 0 Ω",
                });
            }
            if !(row[2].is_finite() && row[2].abs() <= 90.0) {
                return Err(CurveError::OutOfRange {
                    row: i + 1,
                    what: "phase",
                    value: row[2],
                    range: "-90° to +90° for a passive load",
                });
            }
        }
        Ok(Self { rows })
    }

    pub fn rows(&self) -> &[[f64; 3]] {
        &self.rows
    }

    /// Z(f), interpolating ln|Z| and the phase over ln f.
    pub fn impedance(&self, hz: f64) -> Complex64 {
        let magnitude = interpolate(&self.rows, hz, 1, f64::ln).exp();
        let degrees = interpolate(&self.rows, hz, 2, |d| d);
        Complex64::from_polar(magnitude, degrees.to_radians())
    }
}

fn check_frequencies<const N: usize>(rows: &[[f64; N]]) -> Result<(), CurveError> {
    if rows.len() < 2 {
        return Err(CurveError::TooFewPoints(rows.len()));
    }
    if rows.len() > MAX_POINTS {
        return Err(CurveError::TooManyPoints(rows.len()));
    }
    for (i, row) in rows.iter().enumerate() {
        if !(row[0].is_finite() && row[0] > 0.0 && row[0] <= MAX_HZ) {
            return Err(CurveError::OutOfRange {
                row: i + 1,
                what: "frequency",
                value: row[0],
                range: "above 0 Hz, up to 1 MHz",
            });
        }
        if i > 0 && row[0] <= rows[i - 1][0] {
            return Err(CurveError::NotIncreasing {
                row: i + 1,
                hz: row[0],
            });
        }
    }
    Ok(())
}

impl TryFrom<Vec<[f64; 3]>> for ImpedanceCurve {
    type Error = CurveError;
    fn try_from(rows: Vec<[f64; 3]>) -> Result<Self, CurveError> {
        Self::new(rows)
    }
}

impl From<ImpedanceCurve> for Vec<[f64; 3]> {
    fn from(curve: ImpedanceCurve) -> Self {
        curve.rows
    }
}

/// An IEM's frequency response: rows of (Hz, dB), e.g. from a squig-style text export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<[f64; 2]>", into = "Vec<[f64; 2]>")]
pub struct FrequencyResponse {
    rows: Vec<[f64; 2]>,
}

impl FrequencyResponse {
    pub fn new(rows: Vec<[f64; 2]>) -> Result<Self, CurveError> {
        check_frequencies(&rows)?;
        if let Some(i) = rows
            .iter()
            .position(|r| !(r[1].is_finite() && r[1].abs() < 400.0))
        {
            return Err(CurveError::OutOfRange {
                row: i + 1,
                what: "level",
                value: rows[i][1],
                range: "-400 dB to +400 dB",
            });
        }
        Ok(Self { rows })
    }

    pub fn rows(&self) -> &[[f64; 2]] {
        &self.rows
    }

    /// 0 dB at every frequency: an IEM whose eardrum response is flat (the worked examples'
    /// idealisation).
    pub fn flat() -> Self {
        Self {
            rows: vec![[10.0, 0.0], [100_000.0, 0.0]],
        }
    }

    /// The level at `hz`, dB, interpolated over ln f.
    pub fn db_at(&self, hz: f64) -> f64 {
        interpolate(&self.rows, hz, 1, |d| d)
    }
}

impl TryFrom<Vec<[f64; 2]>> for FrequencyResponse {
    type Error = CurveError;
    fn try_from(rows: Vec<[f64; 2]>) -> Result<Self, CurveError> {
        Self::new(rows)
    }
}

impl From<FrequencyResponse> for Vec<[f64; 2]> {
    fn from(response: FrequencyResponse) -> Self {
        response.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_on_log_frequency_and_holds_ends() {
        let c = ImpedanceCurve::new(vec![[100.0, 10.0, 0.0], [10_000.0, 1000.0, 40.0]]).unwrap();
        // 1 kHz is half way in ln f: |Z| is the geometric mean, the phase the mean.
        let z = c.impedance(1000.0);
        assert!((z.norm() - 100.0).abs() < 1e-9 && (z.arg().to_degrees() - 20.0).abs() < 1e-9);
        assert!((c.impedance(10.0).norm() - 10.0).abs() < 1e-12);
        assert!((c.impedance(1e6).arg().to_degrees() - 40.0).abs() < 1e-12);
    }

    #[test]
    fn refuses_bad_tables() {
        assert_eq!(
            ImpedanceCurve::new(vec![[1.0, 1.0, 0.0]]),
            Err(CurveError::TooFewPoints(1))
        );
        assert!(matches!(
            ImpedanceCurve::new(vec![[10.0, 1.0, 0.0], [10.0, 1.0, 0.0]]),
            Err(CurveError::NotIncreasing { row: 2, .. })
        ));
        assert!(matches!(
            ImpedanceCurve::new(vec![[10.0, 1.0, 0.0], [20.0, -1.0, 0.0]]),
            Err(CurveError::OutOfRange {
                row: 2,
                what: "|Z|",
                ..
            })
        ));
        assert!(matches!(
            ImpedanceCurve::new(vec![[10.0, 1.0, 95.0], [20.0, 1.0, 0.0]]),
            Err(CurveError::OutOfRange {
                row: 1,
                what: "phase",
                ..
            })
        ));
        assert!(FrequencyResponse::new(vec![[10.0, f64::NAN], [20.0, 0.0]]).is_err());
    }
}
