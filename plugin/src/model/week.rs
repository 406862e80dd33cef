//! The listener's rolling seven days: what each plugin instance delivered, minute by minute, and
//! the doses the standards define on it (docs/spl.md, "Your week"). Pure arithmetic; the files
//! are `offline::week`'s.
//!
//! - **IEC 62368-1 (10.6.3) / EN 50332-3 computed sound dose (CSD):** 100 % is 80 dBA for 40 h in
//!   any 7 days, rolling, on the A-weighted diffuse-field-equivalent level: 1.6 Pa²h. The weekly
//!   reference of WHO/ITU-T H.870 is the same 1.6 Pa²h, so one figure serves both.
//! - **NIOSH:** the day's dose (UTC days), from each instance's 1 s intervals.
//! - **One pair of ears:** instances running at once are not added. In each minute each ear counts
//!   the instance that delivered the most to it; a second instance on another bus of the same
//!   mix then changes nothing, and a louder one replaces the quieter.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::iem::EARS;
use super::spl::{SILENCE_DB, WHO_WEEKLY_PA2H, mean_level_db, who_time_to_full_s};

/// The record's resolution, s.
pub const MINUTE_S: f64 = 60.0;
pub const DAY_S: f64 = 86_400.0;
pub const WEEK_S: f64 = 7.0 * DAY_S;
/// 100 % of the weekly dose (IEC 62368-1 CSD, WHO/ITU-T H.870): 80 dBA for 40 h, Pa²s.
pub const WEEKLY_DOSE_PA2S: f64 = WHO_WEEKLY_PA2H * 3600.0;
/// A momentary exposure level above this is warned of (IEC 62368-1, 10.6.3), dBA.
pub const MOMENTARY_WARNING_DBA: f64 = 100.0;
/// The version of a day's file.
pub const DAY_FORMAT: u32 = 1;

/// What one instance delivered in one minute (or any span), per ear.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Heard {
    /// Seconds of audio heard.
    pub seconds: f64,
    /// A-weighted diffuse-field-equivalent energy, Pa²s.
    pub diffuse_pa2s: [f64; EARS],
    /// NIOSH dose, %.
    pub niosh_percent: [f64; EARS],
}

impl Heard {
    pub fn add(&mut self, other: &Heard) {
        self.seconds += other.seconds;
        for e in 0..EARS {
            self.diffuse_pa2s[e] += other.diffuse_pa2s[e];
            self.niosh_percent[e] += other.niosh_percent[e];
        }
    }

    /// Ear by ear, the larger of the two: what one pair of ears got from two instances at once.
    pub fn louder(&self, other: &Heard) -> Heard {
        Heard {
            seconds: self.seconds.max(other.seconds),
            diffuse_pa2s: std::array::from_fn(|e| self.diffuse_pa2s[e].max(other.diffuse_pa2s[e])),
            niosh_percent: std::array::from_fn(|e| {
                self.niosh_percent[e].max(other.niosh_percent[e])
            }),
        }
    }

    /// Finite and non-negative everywhere, and no more than `limit_s` long.
    pub fn is_valid(&self, limit_s: f64) -> bool {
        let ok = |x: f64| x.is_finite() && x >= 0.0;
        ok(self.seconds)
            && self.seconds <= limit_s
            && self
                .diffuse_pa2s
                .iter()
                .chain(&self.niosh_percent)
                .all(|&x| ok(x))
    }

    pub fn is_empty(&self) -> bool {
        self.seconds == 0.0
    }
}

/// One minute: what each instance (by its id) delivered in it.
pub type Minute = BTreeMap<String, Heard>;

/// One minute's total: each ear's loudest instance.
pub fn minute_total(minute: &Minute) -> Heard {
    minute
        .values()
        .fold(Heard::default(), |total, heard| total.louder(heard))
}

/// One UTC day of the record: what a day's file holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Day {
    pub format: u32,
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// Minute of the day (0–1439) → what each instance delivered in it.
    pub minutes: BTreeMap<u32, Minute>,
}

/// The day number and the minute within it of a moment, seconds since the epoch (UTC).
pub fn day_and_minute(unix_s: f64) -> (i64, u32) {
    let day = (unix_s / DAY_S).floor();
    let minute = ((unix_s - day * DAY_S) / MINUTE_S).floor() as u32;
    (day as i64, minute.min(1439))
}

impl Day {
    pub fn new(day: i64) -> Self {
        Self {
            format: DAY_FORMAT,
            day,
            minutes: BTreeMap::new(),
        }
    }

    /// Book what `instance` delivered in `minute`.
    pub fn add(&mut self, minute: u32, instance: &str, heard: &Heard) {
        self.minutes
            .entry(minute)
            .or_default()
            .entry(instance.to_owned())
            .or_default()
            .add(heard);
    }

    /// A day that can be trusted: this format, the day its file is named for, minutes within the
    /// day, every figure finite and non-negative, no instance over a minute long (1 % slack for
    /// the bookkeeping's rounding). The reason names what is wrong.
    pub fn check(&self, day: i64) -> Result<(), String> {
        if self.format != DAY_FORMAT {
            return Err(format!(
                "format {} (this version reads {DAY_FORMAT})",
                self.format
            ));
        }
        if self.day != day {
            return Err(format!(
                "it holds day {} in the file of day {day}",
                self.day
            ));
        }
        for (minute, instances) in &self.minutes {
            if *minute >= 1440 {
                return Err(format!("minute {minute} is past the day's end"));
            }
            for (id, heard) in instances {
                if !heard.is_valid(MINUTE_S * 1.01) {
                    return Err(format!("minute {minute}, instance {id}: {heard:?}"));
                }
            }
        }
        Ok(())
    }

    /// The moment a minute of this day starts, seconds since the epoch.
    pub fn minute_start_s(&self, minute: u32) -> f64 {
        self.day as f64 * DAY_S + f64::from(minute) * MINUTE_S
    }
}

/// How long an instance must have played without a break, at the wall clock's pace, before
/// anything it plays is booked, seconds (what it played in that stretch is booked then, so a
/// session loses nothing). A listening session always lasts longer; the short-lived instances of
/// a validator's fuzzer, a plugin scanner or a test host (a few seconds each, clap-validator's
/// fuzzer up to about 4.5 s), and a validator's long-lived instance that processes in bursts
/// between its tests (pluginval), never reach it.
pub const SUSTAINED_LISTENING_S: f64 = 10.0;

/// How much faster than the wall clock audio may arrive and still be listening: a host's buffers
/// (a quarter of a second: an 8192-sample buffer at 44.1 kHz is 0.19 s) and clock drift (5 %).
pub const REAL_TIME_SLACK_S: f64 = 0.25;
pub const REAL_TIME_PACE: f64 = 1.05;
/// How much slower than the wall clock audio may arrive and still be the same stretch of
/// listening: a host that plays keeps its audio callback running; a validator pauses between its
/// tests.
pub const UNBROKEN_PACE: f64 = 0.5;

/// Whether `heard_s` seconds of audio processed over `wall_s` seconds of wall-clock time can have
/// been heard: a person hears at most one second of audio a second. A validator's fuzzer, a
/// plugin scanner or a test host that calls "real-time" processing as fast as it can goes
/// faster, and is not listening; a host playing to its device never does.
pub fn heard_in_real_time(heard_s: f64, wall_s: f64) -> bool {
    heard_s <= wall_s.max(0.0) * REAL_TIME_PACE + REAL_TIME_SLACK_S
}

/// Whether audio arrived without a break over `wall_s`: at least half the wall clock's pace (less
/// a host's buffer). Stretches end where it did not.
pub fn unbroken(heard_s: f64, wall_s: f64) -> bool {
    heard_s >= wall_s.max(0.0) * UNBROKEN_PACE - REAL_TIME_SLACK_S
}

/// What was heard evenly over the `heard.seconds` before `end_unix_s`, split at the minutes'
/// edges: (the middle of each piece, its share), oldest first.
pub fn split_by_minute(end_unix_s: f64, heard: &Heard) -> Vec<(f64, Heard)> {
    let start = end_unix_s - heard.seconds;
    let mut pieces = Vec::new();
    let mut from = start;
    while from < end_unix_s {
        let to = (((from / MINUTE_S).floor() + 1.0) * MINUTE_S).min(end_unix_s);
        let share = (to - from) / heard.seconds;
        pieces.push((
            0.5 * (from + to),
            Heard {
                seconds: to - from,
                diffuse_pa2s: heard.diffuse_pa2s.map(|x| x * share),
                niosh_percent: heard.niosh_percent.map(|x| x * share),
            },
        ));
        from = to;
    }
    pieces
}

/// The dose, as a percentage of the weekly 1.6 Pa²h, of an A-weighted diffuse-field energy (the
/// WHO/ITU-T H.870 figure, which IEC 62368-1's CSD equals).
pub use super::spl::who_dose_percent as weekly_percent;

/// One day of the week's table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaySummary {
    /// "YYYY-MM-DD" (UTC).
    pub date: String,
    pub heard_s: f64,
    /// Per ear: the level over the time heard, dBA diffuse-field (silence: −200; `null` in
    /// JSON).
    #[serde(serialize_with = "levels_or_null")]
    pub laeq_df_dba: [f64; EARS],
    /// Per ear: this day's share of the rolling week, %.
    pub weekly_percent: [f64; EARS],
    pub niosh_percent: [f64; EARS],
}

/// The rolling seven days up to a moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekSummary {
    /// The moment, seconds since the epoch (UTC).
    pub now_unix_s: f64,
    /// The days the window touches, oldest first (eight calendar days: the window's first one
    /// only in part).
    pub days: Vec<DaySummary>,
    pub heard_s: f64,
    /// Per ear: IEC 62368-1 CSD = WHO/ITU-T H.870 weekly dose, %.
    pub weekly_percent: [f64; EARS],
    /// Per ear: NIOSH, today (UTC), %.
    pub niosh_today_percent: [f64; EARS],
    /// Per ear: the level of the last minute heard, if it ended within the last two minutes,
    /// dBA diffuse-field (an ear that heard nothing: `null` in JSON).
    #[serde(serialize_with = "optional_levels_or_null")]
    pub current_dba: Option<[f64; EARS]>,
    /// Per ear: seconds until the weekly dose reaches 100 % at `current_dba` (infinite without a
    /// current level; zero once reached).
    pub time_to_full_s: [f64; EARS],
    /// How many instances delivered audio in the last two minutes.
    pub instances_now: usize,
}

/// Levels as JSON: a number, or `null` for silence ([`SILENCE_DB`]), never the −200 stand-in.
fn levels_or_null<S: serde::Serializer>(levels: &[f64; EARS], s: S) -> Result<S::Ok, S::Error> {
    let shown: [Option<f64>; EARS] = levels.map(|db| (db > SILENCE_DB).then_some(db));
    shown.serialize(s)
}

fn optional_levels_or_null<S: serde::Serializer>(
    levels: &Option<[f64; EARS]>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match levels {
        Some(levels) => levels_or_null(levels, s),
        None => s.serialize_none(),
    }
}

/// The week's figures from its days (any order; days outside the window are ignored, and of the
/// first day only the minutes inside it count).
pub fn summarise(days: &[Day], now_unix_s: f64) -> WeekSummary {
    let start = now_unix_s - WEEK_S;
    let (today, _) = day_and_minute(now_unix_s);
    let (first, _) = day_and_minute(start);
    let mut summaries = Vec::new();
    let mut total = Heard::default();
    let mut niosh_today = [0.0; EARS];
    let mut last: Option<(f64, Heard, usize)> = None;
    for d in first..=today {
        let mut heard = Heard::default();
        for day in days.iter().filter(|x| x.day == d) {
            for (minute, instances) in &day.minutes {
                let begins = day.minute_start_s(*minute);
                if begins < start - MINUTE_S || begins > now_unix_s {
                    continue;
                }
                // The window's first minute counts in the proportion inside it.
                let share = ((begins + MINUTE_S - start) / MINUTE_S).clamp(0.0, 1.0);
                let mut m = minute_total(instances);
                m.seconds *= share;
                m.diffuse_pa2s.iter_mut().for_each(|x| *x *= share);
                m.niosh_percent.iter_mut().for_each(|x| *x *= share);
                heard.add(&m);
                if last.is_none_or(|(t, _, _)| begins > t) {
                    last = Some((begins, minute_total(instances), instances.len()));
                }
            }
        }
        total.add(&heard);
        if d == today {
            niosh_today = heard.niosh_percent;
        }
        summaries.push(DaySummary {
            date: super::units::utc_date(d as f64 * DAY_S),
            heard_s: heard.seconds,
            laeq_df_dba: std::array::from_fn(|e| {
                mean_level_db(heard.diffuse_pa2s[e], heard.seconds)
            }),
            weekly_percent: heard.diffuse_pa2s.map(weekly_percent),
            niosh_percent: heard.niosh_percent,
        });
    }
    let weekly = total.diffuse_pa2s.map(weekly_percent);
    let recent = last.filter(|(t, _, _)| now_unix_s - t < 2.0 * MINUTE_S);
    let current_dba = recent
        .map(|(_, h, _)| std::array::from_fn(|e| mean_level_db(h.diffuse_pa2s[e], h.seconds)));
    let time_to_full_s = std::array::from_fn(|e| match current_dba {
        _ if weekly[e] >= 100.0 => 0.0,
        Some(levels) if levels[e] > SILENCE_DB => who_time_to_full_s(weekly[e], levels[e]),
        _ => f64::INFINITY,
    });
    WeekSummary {
        now_unix_s,
        days: summaries,
        heard_s: total.seconds,
        weekly_percent: weekly,
        niosh_today_percent: niosh_today,
        current_dba,
        time_to_full_s,
        instances_now: recent.map_or(0, |(_, _, n)| n),
    }
}

/// Whether the weekly dose has passed a further 100 % since the last warning: the new count of
/// hundreds to remember, and whether to warn now. A dose that rolled back below a warned hundred
/// lowers the count, so crossing it again warns again (IEC 62368-1 warns at 100 % and at every
/// 100 % after).
pub fn next_warning(weekly_percent: f64, warned_hundreds: u32) -> (u32, bool) {
    let hundreds = (weekly_percent / 100.0)
        .floor()
        .clamp(0.0, f64::from(u32::MAX)) as u32;
    (hundreds, hundreds > warned_hundreds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::spl::mean_square_pa2;

    /// `seconds` at a steady `dba` on both ears, with the NIOSH dose's closed form.
    fn steady(dba: f64, seconds: f64) -> Heard {
        let niosh = super::super::spl::niosh_percent_per_s(dba) * seconds;
        Heard {
            seconds,
            diffuse_pa2s: [mean_square_pa2(dba) * seconds; EARS],
            niosh_percent: [niosh; EARS],
        }
    }

    /// Book `hours` at `dba` from `start_s`, minute by minute, for `instance`.
    fn listen(days: &mut Vec<Day>, instance: &str, start_s: f64, hours: f64, dba: f64) {
        let minutes = (hours * 60.0).round() as usize;
        for k in 0..minutes {
            let (d, m) = day_and_minute(start_s + k as f64 * MINUTE_S);
            if !days.iter().any(|x| x.day == d) {
                days.push(Day::new(d));
            }
            let day = days.iter_mut().find(|x| x.day == d).unwrap();
            day.add(m, instance, &steady(dba, MINUTE_S));
        }
    }

    /// 2026-12-04 00:00 UTC (any midnight will do).
    const MIDNIGHT: f64 = 1_796_342_400.0;

    /// 40 h at 80 dBA within the week is 100 % (the standards' definition); 83 dBA for 20 h is too
    /// (3 dB doubles the energy); the NIOSH day is its closed form, 8 h at 85 dBA = 100 %.
    #[test]
    fn the_standards_reference_exposures() {
        let mut days = Vec::new();
        // Five days of 8 h at 80 dBA.
        for d in 0..5 {
            listen(
                &mut days,
                "a",
                MIDNIGHT + f64::from(d) * DAY_S + 9.0 * 3600.0,
                8.0,
                80.0,
            );
        }
        let week = summarise(&days, MIDNIGHT + 5.0 * DAY_S);
        for e in 0..EARS {
            assert!((week.weekly_percent[e] - 100.0).abs() < 1e-9, "{week:?}");
        }
        assert!((week.heard_s - 40.0 * 3600.0).abs() < 1e-6);
        let mut days = Vec::new();
        listen(&mut days, "a", MIDNIGHT, 20.0, 83.0);
        let week = summarise(&days, MIDNIGHT + 21.0 * 3600.0);
        assert!((week.weekly_percent[0] / 100.0 - 10f64.powf(0.3) / 2.0).abs() < 1e-9);
        let mut days = Vec::new();
        listen(&mut days, "a", MIDNIGHT + 3600.0, 8.0, 85.0);
        let week = summarise(&days, MIDNIGHT + 10.0 * 3600.0);
        assert!((week.niosh_today_percent[1] - 100.0).abs() < 1e-9);
        assert_eq!(
            week.days.last().unwrap().date,
            super::super::units::utc_date(MIDNIGHT)
        );
    }

    /// A simulated week on a fake clock: listening rolls off exactly seven days later, minute by
    /// minute (half of a minute that straddles the window's start counts half).
    #[test]
    fn the_week_rolls() {
        let mut days = Vec::new();
        listen(&mut days, "a", MIDNIGHT + 10.0 * 3600.0, 2.0, 90.0);
        let one_hour = weekly_percent(mean_square_pa2(90.0) * 3600.0);
        let at = |s: f64| summarise(&days, s).weekly_percent[0];
        assert!((at(MIDNIGHT + 13.0 * 3600.0) - 2.0 * one_hour).abs() < 1e-9);
        // Six days and 23 h later: all of it; seven days after its first hour: half of it.
        assert!((at(MIDNIGHT + 6.0 * DAY_S + 23.0 * 3600.0) - 2.0 * one_hour).abs() < 1e-9);
        assert!((at(MIDNIGHT + 7.0 * DAY_S + 11.0 * 3600.0) - one_hour).abs() < 1e-9);
        let straddle = MIDNIGHT + 7.0 * DAY_S + 11.0 * 3600.0 + 30.0;
        assert!((at(straddle) - one_hour * (1.0 - 0.5 / 60.0)).abs() < 1e-9);
        assert_eq!(at(MIDNIGHT + 7.0 * DAY_S + 12.0 * 3600.0), 0.0);
        let week = summarise(&days, MIDNIGHT + 7.0 * DAY_S + 12.0 * 3600.0);
        assert_eq!(week.days.len(), 8, "the window touches eight calendar days");
        assert_eq!(week.current_dba, None);
    }

    /// Two instances at once are one pair of ears: the same feed twice counts once, and a louder
    /// one replaces the quieter, ear by ear; one after the other they add.
    #[test]
    fn instances_at_once_count_once() {
        let mut one = Vec::new();
        listen(&mut one, "a", MIDNIGHT, 1.0, 85.0);
        let mut both = one.clone();
        listen(&mut both, "b", MIDNIGHT, 1.0, 85.0);
        let now = MIDNIGHT + 3600.0;
        assert_eq!(
            summarise(&both, now).weekly_percent,
            summarise(&one, now).weekly_percent
        );
        let mut louder = one.clone();
        listen(&mut louder, "b", MIDNIGHT, 1.0, 91.0);
        let mut alone = Vec::new();
        listen(&mut alone, "b", MIDNIGHT, 1.0, 91.0);
        assert_eq!(
            summarise(&louder, now).weekly_percent,
            summarise(&alone, now).weekly_percent
        );
        let summary = summarise(&louder, now);
        assert_eq!(summary.instances_now, 2);
        assert!((summary.current_dba.unwrap()[0] - 91.0).abs() < 1e-9);
        let mut after = one.clone();
        listen(&mut after, "b", MIDNIGHT + 3600.0, 1.0, 85.0);
        let twice = summarise(&after, MIDNIGHT + 2.0 * 3600.0).weekly_percent[0];
        assert!((twice - 2.0 * summarise(&one, now).weekly_percent[0]).abs() < 1e-9);
    }

    /// The time left at the current level is the remaining energy over the level's power.
    #[test]
    fn time_left_at_the_current_level() {
        let mut days = Vec::new();
        listen(&mut days, "a", MIDNIGHT, 10.0, 80.0);
        let week = summarise(&days, MIDNIGHT + 10.0 * 3600.0);
        // 10 of the 40 h at 80 dBA spent: 30 h left.
        assert!(
            (week.time_to_full_s[0] - 30.0 * 3600.0).abs() < 1e-3,
            "{week:?}"
        );
        let later = summarise(&days, MIDNIGHT + 11.0 * 3600.0);
        assert_eq!(
            later.time_to_full_s[0],
            f64::INFINITY,
            "nothing playing now"
        );
    }

    /// A span split at the minutes' edges adds back up to the whole, each piece in its minute.
    #[test]
    fn spans_split_by_minute() {
        let heard = steady(88.0, 150.0);
        let end = MIDNIGHT + 130.0;
        let pieces = split_by_minute(end, &heard);
        assert_eq!(pieces.len(), 4, "{pieces:?}");
        let mut total = Heard::default();
        for (at, piece) in &pieces {
            total.add(piece);
            let (_, m) = day_and_minute(*at);
            let (_, m_start) = day_and_minute(at - 0.5 * piece.seconds + 1e-6);
            assert_eq!(m, m_start);
        }
        assert!((total.seconds - 150.0).abs() < 1e-9);
        assert!((total.diffuse_pa2s[0] / heard.diffuse_pa2s[0] - 1.0).abs() < 1e-12);
        assert_eq!(
            pieces[0].1.seconds, 20.0,
            "the last 20 s of the minute before midnight"
        );
        assert_eq!(pieces[3].1.seconds, 10.0);
        assert!(split_by_minute(end, &Heard::default()).is_empty());
    }

    /// Warnings come once per further 100 %, and again after the dose rolled back and rose.
    #[test]
    fn warnings_once_per_hundred() {
        let mut warned = 0;
        let mut said = Vec::new();
        for percent in [
            50.0, 99.9, 100.0, 150.0, 199.0, 230.0, 310.0, 310.0, 180.0, 205.0,
        ] {
            let (hundreds, warn) = next_warning(percent, warned);
            warned = hundreds;
            if warn {
                said.push(percent);
            }
        }
        assert_eq!(said, [100.0, 230.0, 310.0, 205.0]);
    }

    /// A day is refused with a reason for another format, another day, a minute past midnight,
    /// or a figure that is negative, not finite or more than a minute long.
    #[test]
    fn damaged_days_are_named() {
        let mut day = Day::new(20_000);
        day.add(5, "a", &steady(80.0, 60.0));
        assert_eq!(day.check(20_000), Ok(()));
        assert!(day.check(20_001).unwrap_err().contains("day 20000"));
        let mut late = day.clone();
        late.minutes.insert(1440, Minute::new());
        assert!(late.check(20_000).unwrap_err().contains("1440"));
        for bad in [f64::NAN, -1.0, 120.0] {
            let mut d = Day::new(20_000);
            d.add(
                7,
                "a",
                &Heard {
                    seconds: bad,
                    ..Heard::default()
                },
            );
            assert!(d.check(20_000).unwrap_err().contains("minute 7"), "{bad}");
        }
        let mut other = day.clone();
        other.format = 9;
        assert!(other.check(20_000).unwrap_err().contains("format 9"));
    }

    /// Audio at the wall clock's pace (and a host's buffer) is listening; a minute of audio in ten
    /// seconds is not, nor 1.5 s of audio in a second; and a second with under half a second of
    /// audio breaks a stretch.
    #[test]
    fn only_real_time_is_heard() {
        assert!(heard_in_real_time(10.0, 10.0));
        assert!(heard_in_real_time(10.7, 10.0));
        assert!(!heard_in_real_time(60.0, 10.0));
        assert!(heard_in_real_time(0.2, 0.0));
        assert!(!heard_in_real_time(1.5, 1.0));
        assert!(unbroken(1.0, 1.0) && unbroken(0.3, 1.0));
        assert!(!unbroken(0.2, 1.0) && !unbroken(0.0, 10.0));
    }
}
