//! Printing the offline reports as text.

use earstage::model::delivery::DeliveryTarget;
use earstage::offline::analysis::{MeterReport, SplReport};

/// Overs listed one by one in the text report; the rest are counted (`--json` lists them all).
const OVERS_LISTED: usize = 20;

/// The meters, one line per reading, channels side by side.
pub fn print_meters(report: &MeterReport) {
    print_peaks(report);
    let lufs = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.1}"));
    println!(
        "  integrated            {} LUFS",
        lufs(report.integrated_lufs)
    );
    println!(
        "  momentary max         {} LUFS",
        lufs(report.momentary_max_lufs)
    );
    println!(
        "  short-term max        {} LUFS",
        lufs(report.short_term_max_lufs)
    );
    println!(
        "  loudness range        {} LU",
        lufs(report.loudness_range_lu)
    );
    println!(
        "  PLR                   {} LU (true peak max − integrated)",
        lufs(report.plr_lu)
    );
}

/// The peaks per channel, and the overs counted and the first of them listed.
fn print_peaks(report: &MeterReport) {
    let list = |values: &[Option<f32>]| {
        values
            .iter()
            .map(|v| v.map_or("   -inf".to_owned(), |v| format!("{v:+7.2}")))
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!(
        "  true peak (precise)   {} dBTP",
        list(&report.true_peak_dbtp)
    );
    println!(
        "  true peak (BS.1770)   {} dBTP",
        list(&report.true_peak_bs1770_dbtp)
    );
    println!(
        "  sample peak           {} dBFS",
        list(&report.sample_peak_dbfs)
    );
    println!(
        "  overs above {:+.1} dBTP {}",
        report.over_threshold_dbtp,
        report
            .overs
            .iter()
            .map(|c| format!("{c:7}"))
            .collect::<Vec<_>>()
            .join("  ")
    );
    for e in report.over_log.iter().take(OVERS_LISTED) {
        println!(
            "      at {:9.3} s  ch {}  {:+.2} dBTP",
            e.time_s, e.channel, e.level_dbtp
        );
    }
    if report.over_log.len() > OVERS_LISTED {
        println!(
            "      … {} more (see --json)",
            report.over_log.len() - OVERS_LISTED
        );
    }
}

/// The programme against a delivery target.
pub fn print_target(report: &MeterReport, target: &DeliveryTarget) {
    let peak = MeterReport::highest(&report.true_peak_dbtp).map(f64::from);
    println!("  target                {target}");
    println!(
        "                        {}",
        target.verdict(report.integrated_lufs, peak)
    );
}

/// What a chain delivers, per ear.
pub fn print_spl(report: &SplReport) {
    let list = |v: &[f64], digits: usize| {
        v.iter()
            .map(|x| format!("{x:7.digits$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!(
        "  delivered by          {} on {}{}",
        report.chain_iem,
        report.chain_source,
        if report.chain_attenuator == "none" {
            String::new()
        } else {
            format!(" via {}", report.chain_attenuator)
        }
    );
    println!("  level                 {}", report.level.describe());
    for flag in &report.level.flags {
        println!("  WARNING               {flag}");
    }
    if report.headroom_db < 0.0 {
        println!(
            "  WARNING               the chain CLIPS: its output stage clips {:.1} dB below \
             these peaks, so the levels below are of a signal it cannot deliver",
            -report.headroom_db
        );
    }
    println!("  LAeq at the eardrum   {} dBA", list(&report.laeq_dba, 1));
    println!(
        "  LAeq diffuse-field    {} dBA",
        list(&report.laeq_df_dba, 1)
    );
    println!(
        "  LCpeak                {} dBC",
        list(&report.lcpeak_dbc, 1)
    );
    println!(
        "  NIOSH dose            {} % of the daily allowance",
        list(&report.dose_niosh_percent, 3)
    );
    println!(
        "  WHO dose              {} % of the weekly allowance",
        list(&report.dose_who_percent, 3)
    );
}

/// An error with its causes, each said once: a cause whose text the message already holds (an
/// error that prints its source, or an OS error wrapped with its own words) is left out.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let said = cause.to_string();
        if text.contains(&said) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&said);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::error_text;

    #[derive(Debug)]
    struct Wrapped(std::io::Error);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "x.zma: cannot read: {}", self.0)
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    /// A cause the message already says is not said again; a new one is.
    #[test]
    fn each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let err = anyhow::Error::new(Wrapped(io)).context("importing the curve");
        assert_eq!(
            error_text(&err),
            "importing the curve: x.zma: cannot read: no such file"
        );
    }
}
