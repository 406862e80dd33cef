//! `earstage chain`: the model report for a source → attenuator → cable → IEM chain, its response
//! table, and the gain-staging advisor.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use earstage::model::advisor::{Advice, TARGET_SPL_DB, Target, advise};
use earstage::model::catalog::Catalog;
use earstage::model::chain::{ChainReport, ClipLimit, ClipPoint, TRUE_PEAK_DBTP, report_grid};
use earstage::model::iem::Ear;
use earstage::model::import::{frequencies_from_text, read_frequencies};
use earstage::model::preset::Preset;
use earstage::model::{Chain, ResponsePoint};
use earstage::offline::output::{check_new_file, write_bytes_atomically};
use serde::Serialize;

use crate::chain_args::ChainArgs;
use crate::plot::write_chain_plot;

#[derive(Args, Debug)]
pub struct ChainCommand {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Evaluate the response exactly at these frequencies: "HZ,HZ,..." or a file of them.
    #[arg(long, value_name = "HZ,HZ,...|FILE")]
    pub at: Option<String>,
    /// Run the gain-staging advisor for this target level, dB (0 to 140).
    #[arg(long, value_name = "DB", allow_hyphen_values = true)]
    pub target_spl: Option<f64>,
    /// What --target-spl means: LAeq of −20 dBFS RMS pink noise, or the SPL of a 0 dBFS sine.
    #[arg(long, value_enum, default_value_t = TargetKind::Laeq)]
    pub target_kind: TargetKind,
    /// Programme true peak for the headroom figure, dBTP (−60 to +12).
    #[arg(
        long,
        value_name = "DBTP",
        default_value_t = 0.0,
        allow_hyphen_values = true
    )]
    pub true_peak: f64,
    /// Print the report as JSON.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print only the response table, as CSV (hz,db,deg).
    #[arg(long)]
    pub csv: bool,
    /// Draw the coloration (against the same IEM on an ideal source) and the IEM's impedance
    /// into a plot, PNG or SVG by the extension.
    #[arg(long, value_name = "FILE.png|FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Save the resolved chain as a preset file (TOML).
    #[arg(long, value_name = "FILE")]
    pub save_preset: Option<PathBuf>,
    /// Let --save-preset and --plot replace an existing file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, ValueEnum)]
pub enum TargetKind {
    /// LAeq at the eardrum of −20 dBFS RMS pink noise.
    Laeq,
    /// SPL of a 0 dBFS sine at 1 kHz (the chain's maximum).
    Peak,
}

/// Everything the command reports: the chain's report, the advisor's when asked, the right
/// earpiece's; printed as text, or as JSON with the chain's keys at the top level.
#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    report: &'a ChainReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    advisor: Option<&'a Advice>,
    /// The right earpiece's report where it has its own impedance (the rest is the left's).
    #[serde(skip_serializing_if = "Option::is_none")]
    right_ear: Option<&'a ChainReport>,
}

/// The frequencies `--at` names, from a list or a file.
pub fn parse_at(at: &str) -> Result<Vec<f64>> {
    let path = Path::new(at);
    if path.is_file() {
        return Ok(read_frequencies(path)?);
    }
    if at
        .chars()
        .all(|c| c.is_ascii_digit() || ".,eE+- ".contains(c))
    {
        return frequencies_from_text(at).map_err(|e| anyhow::anyhow!("--at {at:?}: {}", e.reason));
    }
    bail!("--at {at:?}: neither a list of frequencies (\"100,1000,10000\") nor a readable file")
}

/// `earstage chain`: resolve the chain, report on it (with the advisor's table for
/// `--target-spl`), write the files asked for and print the report.
pub fn run(cmd: &ChainCommand) -> Result<()> {
    let catalog = Catalog::builtin();
    let chain = cmd.chain.resolve(&catalog)?;
    let frequencies = match &cmd.at {
        Some(at) => parse_at(at)?,
        None => report_grid(),
    };
    let true_peak = TRUE_PEAK_DBTP.check("--true-peak", cmd.true_peak)?;
    let target_db = cmd
        .target_spl
        .map(|db| TARGET_SPL_DB.check("--target-spl", db))
        .transpose()?;
    let report = chain.report(&frequencies, true_peak);
    let right_ear = chain
        .iem
        .ears_differ()
        .then(|| chain.ear(Ear::Right).report(&frequencies, true_peak));
    let advice = target_db.map(|db| {
        let target = match cmd.target_kind {
            TargetKind::Laeq => Target::Laeq(db),
            TargetKind::Peak => Target::PeakSpl(db),
        };
        advise(&chain, target, &catalog)
    });
    write_files(cmd, &chain, &catalog)?;
    print_report(
        cmd,
        &chain,
        &Report {
            report: &report,
            advisor: advice.as_ref(),
            right_ear: right_ear.as_ref(),
        },
    )
}

/// The files `--plot` and `--save-preset` ask for, each said on stderr.
fn write_files(cmd: &ChainCommand, chain: &Chain, catalog: &Catalog) -> Result<()> {
    if let Some(path) = &cmd.plot {
        let model = cmd.chain.catalog_model(catalog);
        let model = model
            .as_ref()
            .map(|iem| (format!("{} (catalog model)", iem.name), &iem.impedance));
        write_chain_plot(
            path,
            chain,
            model.as_ref().map(|(label, z)| (label.as_str(), *z)),
            cmd.force,
        )?;
        eprintln!("earstage: drew the plot into {}", path.display());
    }
    if let Some(path) = &cmd.save_preset {
        check_new_file(path, cmd.force, &[], "a chain preset (TOML)")?;
        write_bytes_atomically(path, Preset::from(chain).to_toml().as_bytes())?;
        eprintln!("earstage: saved the chain to {}", path.display());
    }
    Ok(())
}

/// Print the report as `--csv` (the response table only), `--json` or text asks.
fn print_report(cmd: &ChainCommand, chain: &Chain, report: &Report) -> Result<()> {
    if cmd.csv {
        print!(
            "{}",
            csv(
                &report.report.response,
                report.right_ear.map(|r| r.response.as_slice())
            )
        );
    } else if cmd.json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!(
            "{}",
            text(chain, report.report, report.advisor, cmd.at.is_some())
        );
        if let Some(right) = report.right_ear {
            print!("{}", right_ear_text(&chain.ear(Ear::Right), right));
        }
    }
    Ok(())
}

/// The coloration line of a report.
fn coloration_line(r: &ChainReport) -> String {
    format!(
        "  coloration              {:.2} dB peak-to-peak, 20 Hz–20 kHz ({:+.2} dB at {:.0} Hz, {:+.2} dB at {:.0} Hz)\n",
        r.coloration_pp_db,
        r.coloration_max_db,
        r.coloration_max_hz,
        r.coloration_min_db,
        r.coloration_min_hz
    )
}

/// The IEM's |Z| line of a report.
fn iem_impedance_line(r: &ChainReport) -> String {
    format!(
        "  IEM                     {:.2} Ω at 1 kHz; {:.2} Ω min at {:.0} Hz, {:.2} Ω max at {:.0} Hz\n",
        r.iem_impedance_at_1k_ohms,
        r.iem_min_impedance_ohms,
        r.iem_min_impedance_hz,
        r.iem_max_impedance_ohms,
        r.iem_max_impedance_hz
    )
}

/// What differs for the right earpiece when it has its own impedance.
fn right_ear_text(right: &Chain, r: &ChainReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\nRight earpiece ({}; everything above is the left's)",
        right.iem.impedance.describe()
    );
    let _ = writeln!(o, "  level at 1 kHz          {:+.2} dB", r.level_at_1k_db);
    o.push_str(&coloration_line(r));
    o.push_str(&iem_impedance_line(r));
    let _ = writeln!(
        o,
        "  damping ratio           {} (1/8 rule {})",
        two_significant(r.damping_ratio),
        if r.eighth_rule_met { "met" } else { "NOT met" }
    );
    let _ = writeln!(
        o,
        "  SPL at full scale       {:.1} dB SPL",
        r.spl_at_full_scale_db
    );
    o
}

/// A ratio to two significant digits ("0.065", "8.1", "120"); "inf" for an ideal source.
fn two_significant(x: f64) -> String {
    if !x.is_finite() || x <= 0.0 {
        return format!("{x}");
    }
    let decimals = (1 - x.log10().floor() as i32).max(0) as usize;
    format!("{x:.decimals$}")
}

/// The response table as CSV: `hz,db,deg`, or, when the right earpiece has its own curve,
/// `hz,db_left,deg_left,db_right,deg_right` (both at the same frequencies).
fn csv(left: &[ResponsePoint], right: Option<&[ResponsePoint]>) -> String {
    let mut out = String::from(match right {
        None => "hz,db,deg\n",
        Some(_) => "hz,db_left,deg_left,db_right,deg_right\n",
    });
    for (i, p) in left.iter().enumerate() {
        let _ = write!(out, "{},{:.6},{:.6}", p.hz, p.db, p.deg);
        if let Some(r) = right.and_then(|r| r.get(i)) {
            let _ = write!(out, ",{:.6},{:.6}", r.db, r.deg);
        }
        out.push('\n');
    }
    out
}

/// One-third-octave frequencies 20 Hz–20 kHz (base-ten, IEC 61260 nominal values) for the text
/// table when no `--at` is given.
pub const THIRD_OCTAVES_HZ: [f64; 31] = [
    20.0, 25.0, 31.5, 40.0, 50.0, 63.0, 80.0, 100.0, 125.0, 160.0, 200.0, 250.0, 315.0, 400.0,
    500.0, 630.0, 800.0, 1000.0, 1250.0, 1600.0, 2000.0, 2500.0, 3150.0, 4000.0, 5000.0, 6300.0,
    8000.0, 10000.0, 12500.0, 16000.0, 20000.0,
];

/// The report as text: the chain, its response, impedance and level, the advisor's table when
/// there is one, and the response table (at `--at`'s points when `exact_points`, else at third
/// octaves).
pub fn text(chain: &Chain, r: &ChainReport, advice: Option<&Advice>, exact_points: bool) -> String {
    let mut o = chain_section(chain, r);
    let _ = writeln!(o, "\nResponse (H = V_iem / V_EMF)");
    let _ = writeln!(o, "  level at 1 kHz          {:+.2} dB", r.level_at_1k_db);
    o.push_str(&coloration_line(r));
    o.push_str(&impedance_section(r));
    o.push_str(&level_section(r));
    if let Some(advice) = advice {
        o.push_str(&advice_text(advice));
    }
    let rows: Vec<ResponsePoint> = if exact_points {
        r.response.clone()
    } else {
        chain.response(&THIRD_OCTAVES_HZ)
    };
    o.push_str(&response_table(&rows));
    o
}

/// The report's "Chain" section: each part of the chain with its figures.
fn chain_section(chain: &Chain, r: &ChainReport) -> String {
    let mut o = String::from("Chain\n");
    o.push_str(&source_lines(chain, r));
    if chain.attenuator.name == "none" {
        let _ = writeln!(o, "  attenuator   none");
    } else {
        let _ = writeln!(
            o,
            "  attenuator   {} ({})",
            r.attenuator,
            chain.attenuator.describe()
        );
    }
    let _ = writeln!(o, "  cable        {} Ω", r.cable_ohms);
    let drivers = if chain.iem.drivers.is_empty() {
        String::new()
    } else {
        format!("{}, ", chain.iem.drivers)
    };
    let ears = if chain.iem.ears_differ() {
        "; left earpiece, the right below"
    } else {
        ""
    };
    let _ = writeln!(
        o,
        "  IEM          {} ({drivers}{} = {:.1} dB SPL/V, {}{ears})",
        r.iem,
        chain.iem.sensitivity,
        r.sensitivity_db_per_v,
        chain.iem.impedance.describe()
    );
    o
}

/// The source's lines of the "Chain" section: its figures, and its current limit and volume
/// control where it has them.
fn source_lines(chain: &Chain, r: &ChainReport) -> String {
    let source = &chain.source;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "  source       {}: {:.3} Vrms full scale, volume {:+.1} dB, {} Ω{}, noise {} µV(A), {}",
        r.source,
        source.vfs_volts,
        source.volume_db,
        source.output_ohms,
        source
            .coupling_uf
            .map_or(String::new(), |uf| format!(" + {uf} µF")),
        source.noise_uv,
        source
            .clip_volts
            .map_or("clips at full scale".to_string(), |v| {
                format!("clips at {v:.3} Vrms")
            }),
    );
    if let Some(ma) = source.max_current_ma {
        let _ = writeln!(o, "               current limit {ma:.0} mA rms");
    }
    if let Some(control) = &source.volume_control {
        let _ = writeln!(o, "               volume: {control}");
    }
    o
}

/// The report's "Impedance" section: the output impedance the IEM sees, the IEM's own, the
/// damping ratio and the load the source drives.
fn impedance_section(r: &ChainReport) -> String {
    let mut o = String::from("\nImpedance\n");
    let _ = writeln!(
        o,
        "  effective output        {:.2} Ω (source, attenuator and cable, at 1 kHz)",
        r.effective_output_impedance_ohms
    );
    o.push_str(&iem_impedance_line(r));
    let _ = writeln!(
        o,
        "  damping ratio           {} (min |Z| / Z_out): 1/8 rule {} (worst resistive swing {:.2} dB)",
        two_significant(r.damping_ratio),
        if r.eighth_rule_met { "met" } else { "NOT met" },
        r.eighth_rule_bound_db
    );
    let _ = writeln!(
        o,
        "  load on the source      {:.2} Ω at 1 kHz, {:.2} Ω min at {:.0} Hz",
        r.source_load_at_1k_ohms, r.source_load_min_ohms, r.source_load_min_hz
    );
    o
}

/// The report's "Level" section: SPL, hiss and dither, headroom, the clip point and what a full
/// scale sine drives into the IEM.
fn level_section(r: &ChainReport) -> String {
    let mut o = String::from("\nLevel (0 dBFS sine at 1 kHz)\n");
    let _ = writeln!(o, "  level                   {}", r.level.describe());
    for flag in &r.level.flags {
        let _ = writeln!(o, "  WARNING                 {flag}");
    }
    let _ = writeln!(
        o,
        "  SPL at full scale       {:.1} dB SPL",
        r.spl_at_full_scale_db
    );
    let _ = writeln!(o, "  hiss                    {:.1} dBA SPL", r.hiss_spl_dba);
    let _ = writeln!(
        o,
        "  dither floor            {:.1} dBA SPL ({}-bit path)",
        r.dither_noise_spl_dba, r.path_bits
    );
    let _ = writeln!(o, "  signal to hiss          {:.1} dB", r.signal_to_hiss_db);
    let _ = writeln!(
        o,
        "  −20 dBFS pink noise     {:.1} dBA (the reference-level signal)",
        r.pink_reference_laeq_dba
    );
    let _ = writeln!(
        o,
        "  headroom                {:+.1} dB for peaks at {:+.1} dBTP{}",
        r.headroom_db,
        r.true_peak_dbtp,
        if r.headroom_db < 0.0 {
            " — the output stage CLIPS"
        } else {
            ""
        }
    );
    let _ = writeln!(o, "  clip point              {}", clip_point_text(&r.clip));
    let _ = writeln!(
        o,
        "  into the IEM            {:.3} Vrms, {:.3} mW, {:.2} mA",
        r.iem_voltage_at_full_scale_volts,
        r.iem_power_at_full_scale_mw,
        r.iem_current_at_full_scale_ma
    );
    o
}

/// The response table: level (dB) and phase (degrees) at each of `rows`.
fn response_table(rows: &[ResponsePoint]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "\n{:>10}  {:>9}  {:>8}", "Hz", "dB", "degrees");
    for p in rows {
        let _ = writeln!(o, "{:>10.1}  {:>+9.3}  {:>+8.2}", p.hz, p.db, p.deg);
    }
    o
}

/// Where the output stage clips, in words.
fn clip_point_text(clip: &ClipPoint) -> String {
    match clip.limit {
        ClipLimit::Voltage => format!(
            "{:.3} Vrms EMF, the output stage's voltage swing",
            clip.emf_vrms
        ),
        ClipLimit::Current { max_current_ma } => format!(
            "{:.3} Vrms EMF, the {max_current_ma:.0} mA current limit into {:.2} Ω at {:.0} Hz \
             (0 dBFS draws {:.1} mA)",
            clip.emf_vrms, clip.load_ohms, clip.load_hz, clip.full_scale_current_ma
        ),
    }
}

pub fn advice_text(advice: &Advice) -> String {
    let mut o = String::new();
    let target = match advice.target {
        Target::Laeq(db) => format!("LAeq {db:.1} dBA for −20 dBFS RMS pink noise"),
        Target::PeakSpl(db) => format!("{db:.1} dB SPL for a 0 dBFS sine"),
    };
    let _ = writeln!(o, "\nGain-staging advisor (target: {target})");
    let _ = writeln!(
        o,
        "  {:<24} {:>10} {:>10} {:>10} {:>11} {:>11}  setting",
        "approach", "hiss dBA", "dither dBA", "headroom", "coloration", "digital dB"
    );
    for a in &advice.approaches {
        let mark = if a.label == advice.recommended {
            "*"
        } else {
            " "
        };
        let _ = writeln!(
            o,
            "{mark} {:<24} {:>10.1} {:>10.1} {:>+10.1} {:>11.2} {:>11.1}  {}{}",
            format!("{} {}", a.label, a.name),
            a.hiss_spl_dba,
            a.dither_noise_spl_dba,
            a.headroom_db,
            a.coloration_pp_db,
            0.0 - a.digital_attenuation_db,
            a.setting,
            if a.reaches_target {
                String::new()
            } else {
                format!(" (reaches only {:.1} dB)", a.level_db)
            }
        );
    }
    for a in &advice.approaches {
        let limits = if a.limits.is_empty() {
            "meets every limit".to_owned()
        } else {
            a.limits.join("; ")
        };
        let _ = writeln!(o, "  {}: {limits}", a.label);
    }
    let _ = writeln!(o, "  {}", advice.verdict);
    o
}
