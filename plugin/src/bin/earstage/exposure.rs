//! `earstage exposure`: the listener's rolling week, as every instance of the plugin booked it.

use std::fmt::Write as _;

use anyhow::{Result, bail};
use clap::Args;
use earstage::model::iem::EARS;
use earstage::model::spl::SILENCE_DB;
use earstage::model::units::{format_time_left, format_utc};
use earstage::model::week::{MOMENTARY_WARNING_DBA, WeekSummary};
use earstage::offline::week::WeekStore;
use serde::Serialize;

#[derive(Args)]
pub struct ExposureCommand {
    /// Print the week as JSON.
    #[arg(long, conflicts_with = "reset")]
    json: bool,
    /// Clear the whole record (every day of every project); needs --yes.
    #[arg(long)]
    reset: bool,
    /// Confirm --reset.
    #[arg(long, requires = "reset")]
    yes: bool,
}

#[derive(Serialize)]
struct JsonWeek<'a> {
    /// Where the record is.
    folder: String,
    #[serde(flatten)]
    week: &'a WeekSummary,
    /// Files that could not be read and were set aside.
    set_aside: &'a [String],
}

pub fn run(cmd: &ExposureCommand) -> Result<()> {
    let store = WeekStore::for_user()?;
    if cmd.reset {
        if !cmd.yes {
            bail!(
                "--reset clears your whole exposure record in {} (every day, every project); \
                 add --yes to do it",
                store.dir().display()
            );
        }
        let days = store.reset()?;
        println!(
            "Cleared the exposure record: {days} day file{} removed from {}",
            if days == 1 { "" } else { "s" },
            store.dir().display()
        );
        return Ok(());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs_f64();
    let (week, set_aside) = store.week(now)?;
    for message in &set_aside {
        eprintln!("earstage: {message}");
    }
    if cmd.json {
        let json = JsonWeek {
            folder: store.dir().display().to_string(),
            week: &week,
            set_aside: &set_aside,
        };
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", text(&week, &store.dir().display().to_string()));
    }
    Ok(())
}

fn hours(seconds: f64) -> String {
    let minutes = (seconds / 60.0).round() as u64;
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

fn dba(db: f64) -> String {
    if db <= SILENCE_DB {
        "-".to_owned()
    } else {
        format!("{db:.1}")
    }
}

fn pair(values: [f64; EARS], f: impl Fn(f64) -> String) -> String {
    format!("{} / {}", f(values[0]), f(values[1]))
}

/// The week as a table and the totals.
pub fn text(week: &WeekSummary, folder: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Your exposure, the 7 days to {} (every instance and project; {folder})",
        format_utc(week.now_unix_s)
    );
    o.push_str(&day_table(week));
    let _ = writeln!(
        o,
        "\n  sound dose, rolling 7 days   {} % (IEC 62368-1 CSD, the same as WHO/ITU-T H.870's \
         weekly 1.6 Pa²h; 100 % = 80 dBA for 40 h)",
        pair(week.weekly_percent, |p| format!("{p:.1}"))
    );
    let _ = writeln!(
        o,
        "  NIOSH, today (UTC)           {} % (100 % = 85 dBA for 8 h)",
        pair(week.niosh_today_percent, |p| format!("{p:.0}"))
    );
    let _ = writeln!(
        o,
        "  heard                        {} h",
        hours(week.heard_s)
    );
    o.push_str(&now_text(week));
    if week.weekly_percent.iter().any(|&p| p >= 100.0) {
        let _ = writeln!(
            o,
            "  WARNING                      the weekly dose is spent: give your ears a rest"
        );
    }
    o
}

/// A row per day: how long was heard, the level, the day's share of the weekly dose and its
/// NIOSH dose, each per ear.
fn day_table(week: &WeekSummary) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\n  {:<10}  {:>6}  {:>15}  {:>17}  {:>15}",
        "day (UTC)", "heard", "LAeq dBA L / R", "week share % L/R", "NIOSH % L / R"
    );
    for d in &week.days {
        let _ = writeln!(
            o,
            "  {:<10}  {:>6}  {:>15}  {:>17}  {:>15}",
            d.date,
            hours(d.heard_s),
            pair(d.laeq_df_dba, dba),
            pair(d.weekly_percent, |p| format!("{p:.1}")),
            pair(d.niosh_percent, |p| format!("{p:.0}")),
        );
    }
    o
}

/// What is playing now: the level and how soon the week is spent at it, warned above the
/// momentary limit; or that nothing is.
fn now_text(week: &WeekSummary) -> String {
    let Some(levels) = week.current_dba else {
        return "  now                          nothing playing\n".to_owned();
    };
    let mut o = String::new();
    let _ = writeln!(
        o,
        "  now                          {} dBA, 100 % of the week in {} / {}",
        pair(levels, dba),
        format_time_left(week.time_to_full_s[0]),
        format_time_left(week.time_to_full_s[1])
    );
    if levels.iter().any(|&l| l > MOMENTARY_WARNING_DBA) {
        let _ = writeln!(
            o,
            "  WARNING                      above {MOMENTARY_WARNING_DBA:.0} dBA: turn \
             it down"
        );
    }
    if week.instances_now > 1 {
        let _ = writeln!(
            o,
            "  instances playing            {} (each ear counts the loudest, not the sum)",
            week.instances_now
        );
    }
    o
}
