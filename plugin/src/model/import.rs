//! Reading measured curves: `.zma` / REW impedance text (Hz, Ω, degrees), CSV with a header,
//! magnitude-only impedance (phase reconstructed as minimum phase), and frequency-response text
//! (Hz, dB). Comments (`#`, `*`, `;`, `//`) and blank lines are skipped; columns may be separated
//! by spaces, tabs, commas or semicolons. Errors name the file, the line and the reason; on an
//! error nothing is returned, so whatever the caller had stays as it was.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::curve::{CurveError, FrequencyResponse, ImpedanceCurve, MAX_POINTS};
use super::min_phase::minimum_phase_degrees;

/// The largest file an import reads: far above any measurement (65,536 lines of three numbers
/// are about 3 MB), and a bound on what a wrong or hostile file can make us hold.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Why a file could not be imported.
#[derive(Debug, Error)]
pub enum ImportError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    Line {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
}

/// A problem in text not yet tied to a file; `line` is 1-based, 0 for the whole text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextError {
    pub line: usize,
    pub reason: String,
}

impl TextError {
    fn at(line: usize, reason: impl Into<String>) -> Self {
        Self {
            line,
            reason: reason.into(),
        }
    }

    fn in_file(self, path: &Path) -> ImportError {
        let path = path.to_path_buf();
        match self.line {
            0 => ImportError::File {
                path,
                reason: self.reason,
            },
            line => ImportError::Line {
                path,
                line,
                reason: self.reason,
            },
        }
    }
}

/// Which column holds what.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Columns {
    hz: usize,
    value: usize,
    phase: Option<usize>,
}

/// One data line's values.
struct Picked {
    line: usize,
    hz: f64,
    value: f64,
    phase: Option<f64>,
}

/// Numeric rows with the file line each came from.
struct Table {
    rows: Vec<(usize, Vec<f64>)>,
    columns: Option<Columns>,
}

fn is_comment(line: &str) -> bool {
    line.is_empty() || line.starts_with(['#', '*', ';', '!']) || line.starts_with("//")
}

/// A line's fields. Tabs or semicolons separate when the line has any (a comma inside a field is
/// then part of it); else white space, with a comma that ends a field dropped ("20, 16, 0");
/// else commas. So a decimal comma ("1,5 8 0", "1,5;8;0") stays inside its field and is refused
/// as a number, never read as two.
fn split_fields(line: &str) -> Vec<&str> {
    let fields: Vec<&str> = if line.contains([';', '\t']) {
        line.split([';', '\t']).collect()
    } else if line.trim().contains(char::is_whitespace) {
        line.split_whitespace()
            .map(|f| f.strip_suffix(',').unwrap_or(f))
            .collect()
    } else {
        line.split(',').collect()
    };
    fields
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// A field written with a decimal comma, such as "1,5" (a European-locale export).
fn decimal_comma(field: &str) -> bool {
    let bytes = field.as_bytes();
    bytes
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b',' && w[2].is_ascii_digit())
        && field.replacen(',', ".", 1).parse::<f64>().is_ok()
}

/// A header's names: split on commas, semicolons or tabs if it has any (names may contain
/// spaces, "Frequency (Hz)"), else on spaces.
fn header_fields(line: &str) -> Vec<&str> {
    if line.contains([',', ';', '\t']) {
        line.split([',', ';', '\t'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    } else {
        split_fields(line)
    }
}

/// Finds the columns a header names, for the value kinds in `value_names` ("ohm", "db", ...).
fn header_columns(
    fields: &[&str],
    value_names: &[&str],
    line: usize,
) -> Result<Columns, TextError> {
    let find = |names: &[&str]| {
        fields.iter().position(|f| {
            let f = f.to_ascii_lowercase();
            names.iter().any(|n| f.contains(n))
        })
    };
    let hz = find(&["freq", "hz"]).ok_or_else(|| {
        TextError::at(
            line,
            "header has no frequency column (a name containing \"freq\" or \"hz\")",
        )
    })?;
    let value = fields
        .iter()
        .enumerate()
        .position(|(i, f)| {
            let f = f.to_ascii_lowercase();
            i != hz && value_names.iter().any(|n| f.contains(n))
        })
        .ok_or_else(|| {
            TextError::at(
                line,
                format!("header has no value column (a name containing one of {value_names:?})"),
            )
        })?;
    let phase = find(&["phase", "deg", "angle", "arg"]).filter(|&p| p != hz && p != value);
    Ok(Columns { hz, value, phase })
}

/// Reads the numeric table; the first non-comment line may be a header.
fn read_table(text: &str, value_names: &[&str]) -> Result<Table, TextError> {
    let mut rows = Vec::new();
    let mut columns = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim().trim_start_matches('\u{feff}');
        if is_comment(trimmed) {
            continue;
        }
        let fields = split_fields(trimmed);
        if let Some(bad) = fields.iter().find(|f| decimal_comma(f)) {
            return Err(TextError::at(
                line,
                format!(
                    "{bad:?} is not a number; numbers must use a decimal point ({})",
                    bad.replacen(',', ".", 1)
                ),
            ));
        }
        let numbers: Result<Vec<f64>, _> = fields.iter().map(|f| f.parse::<f64>()).collect();
        match numbers {
            Ok(numbers) => {
                if numbers.len() < 2 {
                    return Err(TextError::at(
                        line,
                        format!("expected at least 2 numbers, found {}", numbers.len()),
                    ));
                }
                if rows.len() == MAX_POINTS {
                    return Err(TextError::at(
                        line,
                        format!(
                            "more than {MAX_POINTS} data lines; at most {MAX_POINTS} are allowed"
                        ),
                    ));
                }
                rows.push((line, numbers));
            }
            Err(_) if rows.is_empty() && columns.is_none() => {
                columns = Some(header_columns(&header_fields(trimmed), value_names, line)?);
            }
            Err(_) => {
                let bad = fields
                    .iter()
                    .find(|f| f.parse::<f64>().is_err())
                    .unwrap_or(&"");
                return Err(TextError::at(
                    line,
                    format!("{bad:?} is not a number; after the header a line holds numbers only"),
                ));
            }
        }
    }
    if rows.len() < 2 {
        return Err(TextError::at(
            0,
            format!("needs at least 2 data lines, found {}", rows.len()),
        ));
    }
    Ok(Table { rows, columns })
}

impl Table {
    /// Picks (Hz, value, optional phase) from each row. Without a header: Hz, value, and the
    /// phase if `positional_phase` and a third column is there.
    fn pick(&self, positional_phase: bool) -> Result<Vec<Picked>, TextError> {
        let columns = self.columns.unwrap_or(Columns {
            hz: 0,
            value: 1,
            phase: positional_phase.then_some(2),
        });
        let width = columns
            .hz
            .max(columns.value)
            .max(columns.phase.unwrap_or(0))
            + 1;
        self.rows
            .iter()
            .map(|(line, numbers)| {
                let phase_present = columns.phase.is_some_and(|p| p < numbers.len());
                if self.columns.is_none() && positional_phase && numbers.len() > 3 {
                    return Err(TextError::at(
                        *line,
                        format!(
                            "expected 2 or 3 numbers (Hz, Ω and optionally degrees), found {}",
                            numbers.len()
                        ),
                    ));
                }
                if self.columns.is_some() && numbers.len() < width {
                    return Err(TextError::at(
                        *line,
                        format!("expected {width} columns, found {}", numbers.len()),
                    ));
                }
                Ok(Picked {
                    line: *line,
                    hz: numbers[columns.hz],
                    value: numbers[columns.value],
                    phase: columns.phase.filter(|_| phase_present).map(|p| numbers[p]),
                })
            })
            .collect()
    }
}

/// Maps a curve's point index (1-based) back to the file line.
fn curve_error(err: CurveError, lines: &[usize]) -> TextError {
    let line_of = |row: usize| lines.get(row - 1).copied().unwrap_or(0);
    match err {
        CurveError::TooFewPoints(n) => {
            TextError::at(0, format!("needs at least 2 points, found {n}"))
        }
        CurveError::TooManyPoints(n) => TextError::at(
            0,
            format!("has {n} points; at most {MAX_POINTS} are allowed"),
        ),
        CurveError::NotIncreasing { row, hz } => TextError::at(
            line_of(row),
            format!(
                "frequency {hz} Hz is not above the previous line's; frequencies must increase"
            ),
        ),
        CurveError::OutOfRange {
            row,
            what,
            value,
            range,
        } => TextError::at(
            line_of(row),
            format!("{what} {value} is out of range ({range})"),
        ),
    }
}

/// Parses impedance text: rows with a phase are taken as they are; if no row has a phase the
/// phase is reconstructed as minimum phase. A file that gives the phase on some rows only is
/// refused.
pub fn impedance_from_text(text: &str) -> Result<ImpedanceCurve, TextError> {
    let table = read_table(text, &["ohm", "imp", "mag", "|z|", "z"])?;
    let picked = table.pick(true)?;
    let lines: Vec<usize> = picked.iter().map(|p| p.line).collect();
    let with_phase = picked.iter().filter(|p| p.phase.is_some()).count();
    if with_phase != 0 && with_phase != picked.len() {
        let line = picked
            .iter()
            .find(|p| p.phase.is_none())
            .map_or(0, |p| p.line);
        return Err(TextError::at(
            line,
            "no phase on this line, but other lines have one; give a phase on every line or on none",
        ));
    }
    if with_phase == picked.len() {
        let rows = picked
            .iter()
            .map(|p| [p.hz, p.value, p.phase.unwrap_or(0.0)])
            .collect();
        return ImpedanceCurve::new(rows).map_err(|e| curve_error(e, &lines));
    }
    // Magnitude only: check the magnitudes first (the reconstruction needs them positive).
    let magnitudes: Vec<[f64; 2]> = picked.iter().map(|p| [p.hz, p.value]).collect();
    let zero_phase = magnitudes.iter().map(|r| [r[0], r[1], 0.0]).collect();
    ImpedanceCurve::new(zero_phase).map_err(|e| curve_error(e, &lines))?;
    let phase = minimum_phase_degrees(&magnitudes);
    let rows = magnitudes
        .iter()
        .zip(phase)
        .map(|(r, deg)| [r[0], r[1], deg.clamp(-90.0, 90.0)])
        .collect();
    ImpedanceCurve::new(rows).map_err(|e| curve_error(e, &lines))
}

/// Parses frequency-response text: (Hz, dB) rows; extra columns are ignored.
pub fn response_from_text(text: &str) -> Result<FrequencyResponse, TextError> {
    let table = read_table(text, &["db", "spl", "raw", "level", "magnitude"])?;
    let picked = table.pick(false)?;
    let lines: Vec<usize> = picked.iter().map(|p| p.line).collect();
    FrequencyResponse::new(picked.iter().map(|p| [p.hz, p.value]).collect())
        .map_err(|e| curve_error(e, &lines))
}

/// Reads a text file of at most [`MAX_FILE_BYTES`] bytes. What is read is bounded before it is
/// held, so neither a huge file nor an endless one (a device, a pipe) can exhaust memory; bytes
/// that are not UTF-8 are refused with the line they are on.
pub fn read_text(path: &Path) -> Result<String, ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ImportError::File {
            path: path.to_path_buf(),
            reason: format!("larger than {MAX_FILE_BYTES} bytes; at most that much is read"),
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        ImportError::Line {
            path: path.to_path_buf(),
            line: bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1,
            reason: format!(
                "byte {:#04x} at offset {at} is not text; the file must be plain text (UTF-8)",
                bytes[at]
            ),
        }
    })
}

/// Reads an impedance file (`.zma`, REW text, CSV, magnitude-only).
pub fn read_impedance(path: &Path) -> Result<ImpedanceCurve, ImportError> {
    impedance_from_text(&read_text(path)?).map_err(|e| e.in_file(path))
}

/// Reads a frequency-response file (Hz, dB).
pub fn read_response(path: &Path) -> Result<FrequencyResponse, ImportError> {
    response_from_text(&read_text(path)?).map_err(|e| e.in_file(path))
}

/// Reads a list of frequencies, one per line or separated by commas, for `--at FILE`.
pub fn frequencies_from_text(text: &str) -> Result<Vec<f64>, TextError> {
    let mut out = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if is_comment(line) {
            continue;
        }
        for field in split_fields(line) {
            let hz: f64 = field.parse().map_err(|_| {
                TextError::at(index + 1, format!("{field:?} is not a frequency in Hz"))
            })?;
            if !(hz.is_finite() && hz > 0.0 && hz <= 1e6) {
                return Err(TextError::at(
                    index + 1,
                    format!("{hz} Hz is out of range (above 0 to 1 MHz)"),
                ));
            }
            out.push(hz);
        }
    }
    if out.is_empty() {
        return Err(TextError::at(0, "no frequencies found"));
    }
    Ok(out)
}

/// Reads `--at FILE`.
pub fn read_frequencies(path: &Path) -> Result<Vec<f64>, ImportError> {
    frequencies_from_text(&read_text(path)?).map_err(|e| e.in_file(path))
}

/// `.zma` text: a comment line, then "Hz Ω degrees" rows.
pub fn zma_text(curve: &ImpedanceCurve) -> String {
    let mut out = String::from("* Earstage impedance export: Hz, Ohm, degrees\n");
    for r in curve.rows() {
        let _ = writeln!(out, "{:.6e} {:.6e} {:.6}", r[0], r[1], r[2]);
    }
    out
}

/// CSV with a header: frequency_hz, impedance_ohms, phase_deg.
pub fn csv_text(curve: &ImpedanceCurve) -> String {
    let mut out = String::from("frequency_hz,impedance_ohms,phase_deg\n");
    for r in curve.rows() {
        let _ = writeln!(out, "{},{},{}", r[0], r[1], r[2]);
    }
    out
}

/// Frequency-response text: "Hz dB" rows after a header.
pub fn response_text(response: &FrequencyResponse) -> String {
    let mut out = String::from("frequency_hz, db\n");
    for r in response.rows() {
        let _ = writeln!(out, "{}, {}", r[0], r[1]);
    }
    out
}
