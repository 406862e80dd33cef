//! `earstage catalog`: the built-in presets and where their figures come from.

use std::fmt::Write as _;

use anyhow::Result;
use earstage::model::ImpedanceModel;
use earstage::model::catalog::Catalog;
use earstage::model::chain::{BAND_START_HZ, BAND_STOP_HZ, log_grid};

pub fn run(json: bool) -> Result<()> {
    let catalog = Catalog::builtin();
    if json {
        println!("{}", serde_json::to_string_pretty(&catalog)?);
    } else {
        print!("{}", text(&catalog));
    }
    Ok(())
}

/// Where an IEM's curve comes from, and for a modeled one how to replace it by a measurement.
fn impedance_origin(model: &ImpedanceModel) -> String {
    match model {
        ImpedanceModel::Measured { .. } => model.describe(),
        _ => format!(
            "{} (modeled, not measured); measure your own with `earstage measure` \
             (docs/measure.md) and use it with --iem-impedance",
            model.describe()
        ),
    }
}

fn text(catalog: &Catalog) -> String {
    let band = log_grid(BAND_START_HZ, BAND_STOP_HZ, 24.0);
    let mut o = String::new();
    let _ = writeln!(o, "IEMs ({})", catalog.iems.len());
    let _ = writeln!(
        o,
        "  {:<28} {:<16} {:>14} {:>8} {:>17}",
        "name", "drivers", "sensitivity", "nominal", "|Z| 20 Hz–20 kHz"
    );
    for iem in &catalog.iems {
        let (lo, hi) = band
            .iter()
            .map(|&f| iem.impedance(f).norm())
            .fold((f64::INFINITY, 0.0f64), |(lo, hi), z| {
                (lo.min(z), hi.max(z))
            });
        let _ = writeln!(
            o,
            "  {:<28} {:<16} {:>14} {:>6} Ω {:>7.1}–{:<6.1} Ω",
            iem.name,
            iem.drivers,
            iem.sensitivity.to_string(),
            iem.nominal_ohms,
            lo,
            hi
        );
        let _ = writeln!(o, "      {}", iem.provenance);
        let _ = writeln!(o, "      impedance: {}", impedance_origin(&iem.impedance));
    }
    let _ = writeln!(o, "\nSources ({})", catalog.sources.len());
    let _ = writeln!(
        o,
        "  {:<38} {:>9} {:>8} {:>9} {:>9} {:>10}",
        "name", "Vfs Vrms", "Zo Ω", "volume", "noise µV", "clip Vrms"
    );
    for s in &catalog.sources {
        let _ = writeln!(
            o,
            "  {:<38} {:>9.2} {:>8.2} {:>+9.1} {:>9.1} {:>10}{}",
            s.name,
            s.vfs_volts,
            s.output_ohms,
            s.volume_db,
            s.noise_uv,
            // No clip point: the DAC's full scale at maximum volume is the limit.
            s.clip_volts
                .map_or("= Vfs".to_owned(), |v| format!("{v:.2}")),
            s.coupling_uf
                .map_or(String::new(), |uf| format!("  + {uf} µF coupling"))
        );
        let _ = writeln!(o, "      {}", s.provenance);
    }
    let _ = writeln!(o, "\nAttenuators ({})", catalog.attenuators.len());
    for a in &catalog.attenuators {
        let _ = writeln!(o, "  {:<38} {}", a.name, a.describe());
        let _ = writeln!(o, "      {}", a.provenance);
    }
    o
}
