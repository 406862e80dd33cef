//! `earstage exposure` as a user runs it, on a record in a temporary `XDG_DATA_HOME`: the week's
//! dose against its closed form (80 dBA for 40 h is 100 %), a damaged day set aside with a message,
//! and a reset that asks first.

use std::process::Output;

use earstage::model::iem::EARS;
use earstage::model::spl::mean_square_pa2;
use earstage::model::week::{Heard, MINUTE_S};
use earstage::offline::week::WeekStore;

mod support;
use support::TempDir;

fn exposure(data: &TempDir, args: &[&str]) -> Output {
    support::earstage_command()
        .arg("exposure")
        .args(args)
        .env("XDG_DATA_HOME", &**data)
        .output()
        .expect("runs the earstage binary")
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Today's midnight, UTC.
fn midnight() -> f64 {
    (now() / 86_400.0).floor() * 86_400.0
}

/// `hours` at `dba` on both ears from `start_hour` of the day `days_ago`, minute by minute.
fn book(store: &WeekStore, days_ago: f64, start_hour: f64, hours: f64, dba: f64) {
    let minutes = (hours * 60.0) as usize;
    let start = midnight() - days_ago * 86_400.0 + start_hour * 3600.0;
    let pieces: Vec<(f64, Heard)> = (0..minutes)
        .map(|k| {
            let at = start + k as f64 * MINUTE_S + 30.0;
            let heard = Heard {
                seconds: MINUTE_S,
                diffuse_pa2s: [mean_square_pa2(dba) * MINUTE_S; EARS],
                niosh_percent: [0.0; EARS],
            };
            (at, heard)
        })
        .collect();
    store.add("test", &pieces, now()).unwrap();
}

#[test]
fn the_week_reads_and_resets() {
    let data = TempDir::new("exposure");
    let store = WeekStore::at(data.join("earstage").join("exposure"));
    // An empty record reads as nothing heard.
    let out = exposure(&data, &["--json"]);
    support::succeeded(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["heard_s"], 0.0);
    // A day with nothing heard has no level: null, as the text's "-", not a −200 stand-in.
    assert!(json["days"][0]["laeq_df_dba"][0].is_null(), "{json}");
    // 20 h at 80 dBA three days ago and 10 h at 83 dBA yesterday: 50 % + 49.9 % (3 dB is 10^0.3
    // times the energy, and 10 h a quarter of the 40).
    book(&store, 3.0, 1.0, 20.0, 80.0);
    book(&store, 1.0, 2.0, 10.0, 83.0);
    let out = exposure(&data, &["--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want = 50.0 + 50.0 * 10f64.powf(0.3) / 2.0;
    for ear in 0..2 {
        let got = json["weekly_percent"][ear].as_f64().unwrap();
        assert!((got - want).abs() < 1e-6, "{got} vs {want}: {json}");
    }
    assert_eq!(json["days"].as_array().unwrap().len(), 8);
    let levels: Vec<Option<f64>> = json["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["laeq_df_dba"][0].as_f64())
        .collect();
    // 8 days, two of them heard (at 80 and 83 dBA); the others have no level.
    assert_eq!(levels.iter().flatten().count(), 2, "{levels:?}");
    assert!(
        levels
            .iter()
            .flatten()
            .all(|&db| (db - 80.0).abs() < 1e-6 || (db - 83.0).abs() < 1e-6),
        "{levels:?}"
    );
    let text = String::from_utf8(exposure(&data, &[]).stdout).unwrap();
    assert!(
        text.contains("IEC 62368-1") && text.contains("nothing playing"),
        "{text}"
    );
    // A damaged day: set aside, said on stderr, the other day kept.
    let yesterday = earstage::model::units::utc_date(midnight() - 86_400.0);
    let path = data
        .join("earstage")
        .join("exposure")
        .join(format!("{yesterday}.json"));
    std::fs::write(&path, b"not a record").unwrap();
    let out = exposure(&data, &["--json"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&yesterday) && said.contains("set aside"),
        "{said}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!((json["weekly_percent"][0].as_f64().unwrap() - 50.0).abs() < 1e-6);
    // A reset asks for --yes and changes nothing without it.
    let out = exposure(&data, &["--reset"]);
    let said = support::failed(&out);
    assert!(said.contains("--yes"), "{said}");
    support::succeeded(&exposure(&data, &["--json"]));
    let out = exposure(&data, &["--reset", "--yes"]);
    support::succeeded(&out);
    let json: serde_json::Value =
        serde_json::from_slice(&exposure(&data, &["--json"]).stdout).unwrap();
    assert_eq!(json["heard_s"], 0.0);
}
