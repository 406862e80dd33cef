//! Parsing the figures people copy from spec sheets: "112 dB/mW", "131 dB SPL/V", "+10 dBu",
//! "1.2 Vrms". Every error names the value and what would be accepted.

use thiserror::Error;

/// The voltage of 0 dBu: the voltage that dissipates 1 mW in 600 Ω, √0.6 Vrms.
pub const DBU_REF_VOLTS: f64 = 0.774_596_669_241_483_4;

/// A value the user typed that cannot be used.
#[derive(Debug, Error, PartialEq)]
#[error("{what} {value:?}: {reason}")]
pub struct ValueError {
    /// The field, e.g. "IEM sensitivity".
    pub what: String,
    /// What the user gave.
    pub value: String,
    /// Why it is refused and what is accepted instead.
    pub reason: String,
}

impl ValueError {
    pub fn new(what: &str, value: &str, reason: impl Into<String>) -> Self {
        Self {
            what: what.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A value range declared once in the model, for the parameters, the command line and the
/// editor alike.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

impl Range {
    pub const fn new(min: f64, max: f64) -> Self {
        Self { min, max }
    }

    /// `value` if finite and inside, else an error naming `what` and the range.
    pub fn check(&self, what: &str, value: f64) -> Result<f64, ValueError> {
        check_range(what, &value.to_string(), value, self.min, self.max)
    }

    /// The range for a slider or drag value.
    pub fn inclusive(&self) -> std::ops::RangeInclusive<f64> {
        self.min..=self.max
    }
}

/// Splits "  +10.5dBu " into (10.5, "dbu"): the leading number and the lower-case unit after it
/// with spaces and an "SPL" word removed.
fn number_and_unit(text: &str) -> Option<(f64, String)> {
    let text = text.trim();
    let end = text
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit()
                || c == '.'
                || ((c == '+' || c == '-') && (i == 0 || text[..i].ends_with(['e', 'E'])))
                || ((c == 'e' || c == 'E')
                    && text[i + 1..].starts_with(|n: char| n.is_ascii_digit() || n == '-')))
        })
        .map_or(text.len(), |(i, _)| i);
    let number: f64 = text[..end].parse().ok()?;
    let unit: String = text[end..]
        .to_ascii_lowercase()
        .replace("spl", "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    Some((number, unit))
}

/// Parses a finite number within `min..=max`, naming the field in the error.
pub fn parse_number(what: &str, text: &str, min: f64, max: f64) -> Result<f64, ValueError> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| ValueError::new(what, text, "not a number"))?;
    check_range(what, text, value, min, max)
}

/// Refuses NaN, infinities and values outside `min..=max`.
pub fn check_range(
    what: &str,
    text: &str,
    value: f64,
    min: f64,
    max: f64,
) -> Result<f64, ValueError> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ValueError::new(
            what,
            text,
            format!("allowed range is {min} to {max}"),
        ))
    }
}

/// A voltage given as "1.0", "1.0 V", "1.0 Vrms", "+10 dBu" or "-2 dBV"; returns Vrms.
pub fn parse_volts(what: &str, text: &str) -> Result<f64, ValueError> {
    let (number, unit) = number_and_unit(text).ok_or_else(|| {
        ValueError::new(
            what,
            text,
            "expected a voltage such as \"1.0\", \"1.2 Vrms\" or \"+10 dBu\"",
        )
    })?;
    let volts = match unit.as_str() {
        "" | "v" | "vrms" => number,
        "dbu" => DBU_REF_VOLTS * 10f64.powf(number / 20.0),
        "dbv" => 10f64.powf(number / 20.0),
        _ => {
            return Err(ValueError::new(
                what,
                text,
                format!("unknown unit {unit:?}; use V, Vrms, dBu or dBV"),
            ));
        }
    };
    check_range(what, text, volts, 1e-6, 1000.0)
}

/// A Unix time as "YYYY-MM-DD hh:mm UTC" (the proleptic Gregorian calendar, from the day count).
pub fn format_utc(unix_s: f64) -> String {
    let secs = unix_s.max(0.0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (H. Hinnant's days_from_civil, inverted).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60
    )
}

/// A Unix time's UTC date, "YYYY-MM-DD".
pub fn utc_date(unix_s: f64) -> String {
    format_utc(unix_s)[..10].to_owned()
}

/// The date now, UTC ("YYYY-MM-DD"), or `None` if the clock is before 1970.
pub fn today_utc() -> Option<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(utc_date(now.as_secs_f64()))
}

/// Seconds as "m:ss", or "h:mm:ss" from an hour (rounded to the second; negative reads 0:00).
pub fn format_clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// "3 h 12 min", "45 min", "> 1 week", "now".
pub fn format_time_left(seconds: f64) -> String {
    if seconds <= 0.0 {
        "now".to_owned()
    } else if !seconds.is_finite() || seconds > 7.0 * 86_400.0 {
        "> 1 week".to_owned()
    } else if seconds >= 3600.0 {
        format!(
            "{} h {:02} min",
            (seconds / 3600.0) as u64,
            (seconds / 60.0) as u64 % 60
        )
    } else {
        format!("{} min", (seconds / 60.0).ceil() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_minutes_and_hours() {
        assert_eq!(format_clock(0.04), "0:00");
        assert_eq!(format_clock(-3.0), "0:00");
        assert_eq!(format_clock(75.0), "1:15");
        assert_eq!(format_clock(3725.0), "1:02:05");
    }

    mod parse_volts {
        use super::*;

        #[test]
        fn plain_and_rms() {
            assert_eq!(parse_volts("v", "1.0"), Ok(1.0));
            assert_eq!(parse_volts("v", " 2.5 Vrms"), Ok(2.5));
            assert_eq!(parse_volts("v", "0.5V"), Ok(0.5));
        }

        #[test]
        fn dbu_and_dbv() {
            // +4 dBu = 1.2277 Vrms; 0 dBV = 1 V.
            let v = parse_volts("v", "+4 dBu").unwrap();
            assert!((v - 1.227_653).abs() < 1e-6, "{v}");
            assert!((parse_volts("v", "0 dBV").unwrap() - 1.0).abs() < 1e-12);
            let v = parse_volts("v", "-10dBV").unwrap();
            assert!((v - 0.316_227_8).abs() < 1e-6, "{v}");
        }

        #[test]
        fn refuses_junk_units_and_ranges() {
            assert!(
                parse_volts("v", "1 furlong")
                    .unwrap_err()
                    .reason
                    .contains("unknown unit")
            );
            assert!(parse_volts("v", "volts").is_err());
            assert!(
                parse_volts("v", "-1")
                    .unwrap_err()
                    .reason
                    .contains("allowed range")
            );
            assert!(parse_volts("v", "+100 dBu").is_err());
        }
    }

    mod number_and_unit {
        use super::*;

        #[test]
        fn drops_spl_and_spaces() {
            assert_eq!(
                number_and_unit("112 dB SPL/mW"),
                Some((112.0, "db/mw".into()))
            );
            assert_eq!(number_and_unit("-3.5e-1 dBu"), Some((-0.35, "dbu".into())));
            assert_eq!(number_and_unit("1e3"), Some((1000.0, String::new())));
        }
    }

    #[test]
    fn time_left() {
        assert_eq!(format_time_left(0.0), "now");
        assert_eq!(format_time_left(f64::INFINITY), "> 1 week");
        assert_eq!(format_time_left(15.0 * 60.0), "15 min");
        assert_eq!(format_time_left(3.0 * 3600.0 + 12.0 * 60.0), "3 h 12 min");
    }

    /// Known instants: the epoch, a leap day, and 2026-11-22 12:34 UTC (1795350840 s).
    #[test]
    fn utc_dates() {
        assert_eq!(utc_date(1_795_350_840.0), "2026-11-22");
        assert_eq!(format_utc(0.0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(951_782_400.0), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(1_795_350_840.0), "2026-11-22 12:34 UTC");
    }
}
