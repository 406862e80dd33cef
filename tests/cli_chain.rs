//! `earstage chain` and `earstage catalog` as a user runs them: the worked numbers of docs/chain.md
//! to 0.01 dB, the response table, catalog names, presets, the advisor, and errors.

use serde_json::Value;

mod support;
use support::TempDir;

use support::{earstage, earstage_fails as stderr_of_failure};

/// Runs and parses `--json` output, failing with stderr if the command failed.
fn json(args: &[&str]) -> Value {
    serde_json::from_str(&support::earstage_stdout(args)).expect("valid JSON")
}

fn f(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// docs/chain.md's worked chain, on an IEM with a flat eardrum response (its idealisation).
const DESIGN_CHAIN: [&str; 13] = [
    "chain",
    "--iem-resistance",
    "10",
    "--iem-response",
    "flat",
    "--iem-sensitivity",
    "115 dB/mW",
    "--source-vfs",
    "1.0",
    "--source-volume",
    "0",
    "--source-noise",
    "2",
];

mod worked_numbers {
    use super::*;

    /// docs/chain.md worked check: 1 Vrms, 0.5 Ω → 134.6 dB SPL at 0 dBFS and 20.6 dB SPL hiss;
    /// 10 Ω → 129.0 and 15.0. Checked against the closed form 135 + 20·log10(10/(10 + Zo)) to 0.01 dB.
    #[test]
    fn both_sources() {
        for (zo, spl, hiss) in [("0.5", 134.6, 20.6), ("10", 129.0, 15.0)] {
            let mut args = DESIGN_CHAIN.to_vec();
            args.extend(["--source-impedance", zo, "--json"]);
            let r = json(&args);
            let divider = 20.0 * (10.0 / (10.0 + zo.parse::<f64>().unwrap())).log10();
            assert!((f(&r, "spl_at_full_scale_db") - (135.0 + divider)).abs() < 0.01);
            assert!((f(&r, "hiss_spl_dba") - (135.0 - 113.9794 + divider)).abs() < 0.01);
            assert!((f(&r, "spl_at_full_scale_db") - spl).abs() < 0.05);
            assert!((f(&r, "hiss_spl_dba") - hiss).abs() < 0.05);
            assert!((f(&r, "level_at_1k_db") - divider).abs() < 1e-9);
            assert!(
                (f(&r, "effective_output_impedance_ohms") - zo.parse::<f64>().unwrap()).abs()
                    < 1e-12
            );
            assert!(f(&r, "coloration_pp_db") < 1e-9);
        }
    }

    /// The same IEM given in dB/V (135 dB/V), and the source in dBu (+2.2185 dBu = 1.000 Vrms).
    #[test]
    fn other_units() {
        let r = json(&[
            "chain",
            "--iem-resistance",
            "10",
            "--iem-sensitivity",
            "135 dB/V",
            "--source-vfs",
            "+2.2185 dBu",
            "--source-volume",
            "0",
            "--source-impedance",
            "0.5",
            "--json",
        ]);
        assert!((f(&r, "spl_at_full_scale_db") - 134.576).abs() < 0.01);
    }
}

/// An ideal 0 Ω source and no pad: H = 1, so 0 dB and 0° at every frequency of the grid, which
/// spans 10 Hz–24 kHz at ≥ 48 points per octave.
#[test]
fn response_of_an_ideal_source_is_flat_unity() {
    let r = json(&["chain", "--iem", "andromeda", "--source", "ideal", "--json"]);
    let response = r["response"].as_array().unwrap();
    assert!(response.len() as f64 >= 48.0 * (24_000.0f64 / 10.0).log2());
    assert_eq!(f(&response[0], "hz"), 10.0);
    assert_eq!(f(response.last().unwrap(), "hz"), 24_000.0);
    for p in response {
        assert!(f(p, "db").abs() < 1e-9 && f(p, "deg").abs() < 1e-9, "{p}");
    }
}

#[test]
fn at_list_file_and_csv() {
    let r = json(&[
        "chain",
        "--iem",
        "se846",
        "--source-impedance",
        "10",
        "--source-vfs",
        "1",
        "--at",
        "20,1000,20000",
        "--json",
    ]);
    let hz: Vec<f64> = r["response"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| f(p, "hz"))
        .collect();
    assert_eq!(hz, [20.0, 1000.0, 20000.0]);
    assert!((f(&r["response"][1], "db") - f(&r, "level_at_1k_db")).abs() < 1e-12);

    let dir = TempDir::new("at");
    let file = dir.join("freqs.txt");
    std::fs::write(&file, "# my points\n31.5\n8000\n").unwrap();
    let r = json(&[
        "chain",
        "--iem",
        "se846",
        "--at",
        file.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(r["response"].as_array().unwrap().len(), 2);

    let text = support::earstage_stdout(["chain", "--iem", "se846", "--at", "100,1000", "--csv"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "hz,db,deg");
    assert_eq!(lines.len(), 3);
    let fields: Vec<f64> = lines[2].split(',').map(|x| x.parse().unwrap()).collect();
    assert_eq!(fields[0], 1000.0);
}

/// Catalog entries by (part of) their names: a multi-BA IEM on a dongle through a 75 Ω adapter
/// sees ≈ 75.9 Ω and a large coloration; the −24 dB pad drops the level by ≈ 24 dB.
#[test]
fn catalog_entries_by_name() {
    let r = json(&[
        "chain",
        "--iem",
        "SE846",
        "--source",
        "phone dongle, usb-c (1",
        "--attenuator",
        "75",
        "--json",
    ]);
    assert!((f(&r, "effective_output_impedance_ohms") - 75.9).abs() < 1e-9);
    assert!(f(&r, "coloration_pp_db") > 3.0);
    let r = json(&[
        "chain",
        "--iem",
        "SE846",
        "--source",
        "ideal",
        "--attenuator",
        "−24 dB",
        "--json",
    ]);
    let level = f(&r, "level_at_1k_db");
    assert!((-26.0..-24.0).contains(&level), "{level}");
}

#[test]
fn catalog_lists_every_entry_with_provenance() {
    let c = json(&["catalog", "--json"]);
    assert!(c["iem"].as_array().unwrap().len() >= 12);
    assert!(c["source"].as_array().unwrap().len() >= 8);
    assert!(c["attenuator"].as_array().unwrap().len() >= 6);
    let out = earstage(["catalog"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Campfire Audio Andromeda")
            && text.contains("spec sheet")
            && text.contains("modeled")
    );
    // Every IEM says its curve is modeled and how to measure one.
    let iems = c["iem"].as_array().unwrap().len();
    assert_eq!(
        text.matches("(modeled, not measured); measure your own with `earstage measure`")
            .count(),
        iems,
        "{text}"
    );
    // Each names the version its figures are for, or that its source does not.
    for iem in c["iem"].as_array().unwrap() {
        let provenance = iem["provenance"].as_str().unwrap();
        assert!(
            provenance.contains("Figures for") || provenance.contains("revision is not named"),
            "{provenance}"
        );
    }
}

#[test]
fn presets_round_trip_and_never_clobber() {
    let dir = TempDir::new("preset");
    let path = dir.join("rig.toml");
    let _ = std::fs::remove_file(&path);
    let p = path.to_str().unwrap();
    let first = json(&[
        "chain",
        "--iem",
        "blessing",
        "--source",
        "wired iem belt",
        "--pad-series",
        "15",
        "--pad-shunt",
        "1",
        "--cable-ohms",
        "0.3",
        "--json",
        "--save-preset",
        p,
    ]);
    let again = json(&["chain", "--preset", p, "--json"]);
    assert_eq!(first, again);
    // An option overrides the preset.
    let louder = json(&["chain", "--preset", p, "--source-volume", "0", "--json"]);
    assert!(f(&louder, "spl_at_full_scale_db") > f(&first, "spl_at_full_scale_db"));
    // Saving over an existing file needs --force; the file is untouched otherwise.
    let before = std::fs::read_to_string(&path).unwrap();
    let err = stderr_of_failure(["chain", "--iem", "se215", "--save-preset", p]);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    json(&[
        "chain",
        "--iem",
        "se215",
        "--save-preset",
        p,
        "--force",
        "--json",
    ]);
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("Shure SE215")
    );
}

/// A preset table may give any of its entry's fields: the rest come from the catalog entry its
/// `name` names, or from the default entry. Each partial preset gives the chain the CLI's own
/// options give (the oracle: every figure but the names), an unknown key is reported at its own
/// line, and a name of the user's own is told that it must give every field.
#[test]
fn partial_presets_complete_from_the_catalog() {
    let dir = TempDir::new("partial");
    let cases: [(&str, &[&str]); 3] = [
        (
            "[source]\noutput_ohms = 2.2\n",
            &["--source-impedance", "2.2"],
        ),
        (
            "[iem]\nname = \"shure se215\"\nsensitivity = \"100 dB/mW\"\n",
            &["--iem", "Shure SE215", "--iem-sensitivity", "100 dB/mW"],
        ),
        (
            "[attenuator]\ntype = \"l_pad\"\nseries_ohms = 15\nshunt_ohms = 1\n[cable]\nohms = 0.3\n",
            &[
                "--pad-series",
                "15",
                "--pad-shunt",
                "1",
                "--cable-ohms",
                "0.3",
            ],
        ),
    ];
    // Everything but the names of the parts and where their figures come from.
    let figures = |mut r: serde_json::Value| {
        for key in ["iem", "source", "attenuator"] {
            r.as_object_mut().unwrap().remove(key);
        }
        r["source_parts"]
            .as_object_mut()
            .unwrap()
            .remove("provenance");
        r
    };
    for (n, (text, options)) in cases.iter().enumerate() {
        let path = dir.join(format!("partial-{n}.toml"));
        std::fs::write(&path, text).unwrap();
        let preset = json(&["chain", "--preset", path.to_str().unwrap(), "--json"]);
        let cli = json(&[&["chain", "--json"][..], options].concat());
        assert_ne!(
            preset,
            json(&["chain", "--json"]),
            "{text}: changes the chain"
        );
        assert_eq!(figures(preset.clone()), figures(cli), "{text}");
        if n == 0 {
            let name = preset["source"].as_str().unwrap();
            let provenance = preset["source_parts"]["provenance"].as_str().unwrap();
            assert!(name.contains("with the preset's output_ohms"), "{name}");
            assert!(
                provenance.contains("output_ohms from partial-0.toml"),
                "{provenance}"
            );
        }
    }
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[source]\noutput_ohms = 2.2\nouput_ohm = 3\n").unwrap();
    let err = stderr_of_failure(["chain", "--preset", bad.to_str().unwrap()]);
    assert!(
        err.contains("bad.toml:3: unknown field `ouput_ohm`"),
        "{err}"
    );
    std::fs::write(
        &bad,
        "[cable]\nohms = 1\n\n[source]\nname = \"My DAC\"\noutput_ohms = 2.2\n",
    )
    .unwrap();
    let err = stderr_of_failure(["chain", "--preset", bad.to_str().unwrap()]);
    assert!(
        err.contains("bad.toml:4: missing field `vfs_volts`")
            && err.contains("names no catalog entry"),
        "{err}"
    );
}

/// `--iem-response`: a squig.link-style file (a header, levels 70 dB off) with a +6 dB shelf
/// from 2 to 4 kHz (straight on log frequency between) tunes the IEM; against the same IEM tuned
/// flat, the −20 dBFS pink reference level rises by the closed form, `10·log10` of the mean over
/// ln f (20 Hz–20 kHz) of `A²·shelf²` over that of `A²` (IEC 61672-1's closed-form A), and a
/// 1 kHz figure does not move. A file that does not cover 100 Hz–10 kHz is refused with what it
/// covers.
#[test]
fn an_imported_response_tunes_the_iem() {
    use earstage::model::weighting::a_weighting_db;
    let dir = TempDir::new("tuning");
    let shelf = dir.join("shelf.txt");
    std::fs::write(&shelf, "Frequency SPL\n20 70\n2000 70\n4000 76\n20000 76\n").unwrap();
    let iem = [
        "chain",
        "--iem-resistance",
        "16",
        "--iem-sensitivity",
        "110 dB/mW",
    ];
    let with = |response: &str| json(&[&iem[..], &["--iem-response", response, "--json"]].concat());
    let (tuned, flat) = (with(shelf.to_str().unwrap()), with("flat"));
    let shelf_db = |f: f64| 6.0 * ((f / 2000.0).ln() / 2f64.ln()).clamp(0.0, 1.0);
    let steps = 100_000;
    let (lo, hi) = (20f64.ln(), 20_000f64.ln());
    let mean = |tuning: &dyn Fn(f64) -> f64| {
        (0..=steps)
            .map(|i| {
                let f = (lo + (hi - lo) * i as f64 / steps as f64).exp();
                let weight = if i == 0 || i == steps { 0.5 } else { 1.0 };
                weight
                    * 10f64.powf(
                        (2.0 * (a_weighting_db(f) - a_weighting_db(1000.0)) + 2.0 * tuning(f))
                            / 20.0,
                    )
            })
            .sum::<f64>()
    };
    let rise = 10.0 * (mean(&shelf_db) / mean(&|_| 0.0)).log10();
    let got = f(&tuned, "pink_reference_laeq_dba") - f(&flat, "pink_reference_laeq_dba");
    assert!(
        (got - rise).abs() < 0.05,
        "{got:+.3} dB, the closed form {rise:+.3}"
    );
    assert_eq!(
        f(&tuned, "spl_at_full_scale_db"),
        f(&flat, "spl_at_full_scale_db")
    );
    let narrow = dir.join("narrow.txt");
    std::fs::write(&narrow, "150 0\n8000 0\n").unwrap();
    let err = stderr_of_failure([&iem[..], &["--iem-response", narrow.to_str().unwrap()]].concat());
    assert!(
        err.contains("150 Hz to 8000 Hz") && err.contains("must cover 100 Hz to 10000 Hz"),
        "{err}"
    );
}

#[test]
fn advisor_compares_three_approaches() {
    let r = json(&[
        "chain",
        "--iem",
        "andromeda",
        "--source",
        "wireless",
        "--target-spl",
        "80",
        "--json",
    ]);
    let approaches = r["advisor"]["approaches"].as_array().unwrap();
    let labels: Vec<&str> = approaches
        .iter()
        .map(|a| a["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["A", "B", "C"]);
    for a in approaches {
        if a["reaches_target"].as_bool().unwrap() {
            assert!((f(a, "level_db") - 80.0).abs() < 0.06, "{a}");
        }
    }
    assert!(
        r["advisor"]["verdict"]
            .as_str()
            .unwrap()
            .contains("decides")
    );
    let out = earstage(["chain", "--iem", "andromeda", "--target-spl", "80"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Gain-staging advisor") && text.contains("A source-first"));
}

mod errors {
    use super::*;

    #[test]
    fn malformed_impedance_file_names_file_and_line() {
        let dir = TempDir::new("bad");
        let path = dir.join("bad.zma");
        std::fs::write(&path, "20 16 0\n40 16 0\n80 x 0\n").unwrap();
        let err = stderr_of_failure([
            "chain",
            "--iem-impedance",
            path.to_str().unwrap(),
            "--iem-sensitivity",
            "110 dB/mW",
        ]);
        assert!(
            err.contains(&format!("{}:3", path.display())) && err.contains("\"x\" is not a number"),
            "{err}"
        );
    }

    /// Every error is said once: a lookup that fails (ambiguous or unknown) and an OS error on a
    /// missing file appear a single time on stderr.
    #[test]
    fn each_error_is_said_once() {
        let scratch = TempDir::new("missing");
        let missing = scratch.join("nothing-here.zma");
        let missing = missing.to_str().unwrap();
        let cases: [(&[&str], &str); 4] = [
            (&["chain", "--source", "dongle"], "ambiguous"),
            (&["chain", "--iem", "nonexistent"], "nonexistent"),
            (&["chain", "--attenuator", "foo"], "foo"),
            (
                &[
                    "chain",
                    "--iem-impedance",
                    missing,
                    "--iem-sensitivity",
                    "110 dB/mW",
                ],
                "os error 2",
            ),
        ];
        for (args, word) in cases {
            let err = stderr_of_failure(args);
            assert_eq!(err.matches(word).count(), 1, "{args:?}: {err}");
        }
    }

    /// Negative values reach the range checks (never "unexpected argument"), and values outside
    /// the ranges are refused with the option and what is allowed.
    #[test]
    fn negative_and_absurd_values_are_checked() {
        let cases: [&[&str]; 5] = [
            &["chain", "--target-spl", "-50"],
            &["chain", "--target-spl", "500"],
            &["chain", "--true-peak", "50"],
            &["render", "in.wav", "out.wav", "--ceiling", "-3"],
            &["analyze", "x.wav", "--jobs", "-1"],
        ];
        for args in cases {
            let err = stderr_of_failure(args);
            let option = args.iter().find(|a| a.starts_with("--")).unwrap();
            assert!(
                err.contains(option) && !err.contains("unexpected argument"),
                "{args:?}: {err}"
            );
        }
        assert!(stderr_of_failure(["chain", "--target-spl", "500"]).contains("140"));
    }

    #[test]
    fn unknown_names_list_the_catalog() {
        let err = stderr_of_failure(["chain", "--iem", "nonesuch"]);
        assert!(
            err.contains("nonesuch") && err.contains("Shure SE215"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_say_what_is_allowed() {
        let err = stderr_of_failure([
            "chain",
            "--iem-resistance",
            "16",
            "--iem-sensitivity",
            "110 dB/W",
        ]);
        assert!(err.contains("dB/mW"), "{err}");
        let err = stderr_of_failure(["chain", "--iem-resistance", "16"]);
        assert!(err.contains("--iem-sensitivity"), "{err}");
        let err = stderr_of_failure(["chain", "--source-impedance", "-3"]);
        assert!(
            err.contains("--source-impedance") && err.contains("allowed range"),
            "{err}"
        );
        let err = stderr_of_failure(["chain", "--pad-series", "15"]);
        assert!(err.contains("--pad-shunt"), "{err}");
    }
}

mod plot {
    use super::*;

    /// The title names the attenuator; an existing plot is kept without --force and replaced with
    /// it; a folder that does not exist is named in a plain message.
    #[test]
    fn title_force_and_folder() {
        let dir = TempDir::new("plot-rules");
        let path = dir.join("p.svg");
        let p = path.to_str().unwrap();
        let out = earstage(["chain", "--adapter", "75", "--plot", p]);
        support::succeeded(&out);
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(
            svg.contains("via adapter 75 Ω"),
            "the title lacks the adapter"
        );

        std::fs::write(&path, b"keep me").unwrap();
        let err = stderr_of_failure(["chain", "--plot", p]);
        assert!(err.contains("--force") && err.contains("p.svg"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
        let out = earstage(["chain", "--plot", p, "--force"]);
        support::succeeded(&out);
        assert!(std::fs::read_to_string(&path).unwrap().starts_with("<svg"));

        // The dB axis holds the in-band curve (20 Hz–20 kHz) in whole 3 dB steps; what the curve
        // does above 20 kHz does not squash it.
        let args = ["chain", "--source", "laptop", "--attenuator", "barrel"];
        let report = json(&[&args[..], &["--json"]].concat());
        let in_band = f(&report, "coloration_max_db")
            .abs()
            .max(f(&report, "coloration_min_db").abs())
            .max(1.0);
        let span = (in_band / 3.0).ceil() * 3.0;
        let wide = dir.join("wide.svg");
        let out = earstage([&args[..], &["--plot", wide.to_str().unwrap()]].concat());
        support::succeeded(&out);
        let svg = std::fs::read_to_string(&wide).unwrap();
        let top = svg
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with('+'))
            .filter_map(|l| l.parse::<f64>().ok())
            .fold(f64::NEG_INFINITY, f64::max);
        assert!(
            top <= span,
            "axis to {top} dB for an in-band span of {span} dB"
        );

        let nested = dir.join("nested/dir/x.png");
        let err = stderr_of_failure(["chain", "--plot", nested.to_str().unwrap()]);
        assert!(
            err.contains("does not exist") && err.contains("nested"),
            "{err}"
        );
    }

    /// `--plot` draws PNG and SVG by extension: the labelled decades, both axes, the legend and
    /// the band are in the SVG's text; the PNG has the size drawn and both chains' colours; any
    /// other extension is refused, naming the file.
    #[test]
    fn png_and_svg() {
        let dir = TempDir::new("plot");
        let svg_path = dir.join("chain.svg");
        let png_path = dir.join("chain.png");
        for path in [&svg_path, &png_path] {
            let out = earstage(["chain", "--adapter", "75", "--plot", path.to_str().unwrap()]);
            support::succeeded(&out);
        }
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
        // plotters writes each label on a line of its own.
        let labels: Vec<&str> = svg.lines().map(str::trim).collect();
        for label in ["10", "20", "100", "1k", "10k", "20k"] {
            assert!(labels.contains(&label), "no frequency label {label:?}");
        }
        for text in [
            "frequency, Hz",
            "coloration re 1 kHz, dB",
            "IEM impedance |Z|, Ω",
            "this chain",
            "ideal 0 Ω source",
            "20 Hz–20 kHz band",
        ] {
            assert!(svg.contains(text), "the SVG lacks {text:?}");
        }
        assert!(svg.matches("<polyline").count() >= 3, "three curves");

        let decoder = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(&png_path).unwrap(),
        ));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((info.width, info.height), (1000, 560));
        let step = info.color_type.samples();
        let has = |rgb: [u8; 3]| pixels.chunks_exact(step).filter(|p| p[..3] == rgb).count();
        assert!(has([214, 39, 40]) > 500, "the chain's curve");
        assert!(has([31, 119, 180]) > 500, "the ideal source's curve");

        let err = stderr_of_failure(["chain", "--plot", "plot.pdf"]);
        assert!(
            err.contains("plot.pdf") && err.contains(".png or .svg"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A closed pipe ends every report quietly (no panic, nothing on stderr): `earstage catalog |
/// head -0` and the like, text and JSON.
#[test]
fn closed_pipe_ends_quietly() {
    let bin = env!("CARGO_BIN_EXE_earstage");
    for args in [
        &["catalog"][..],
        &["catalog", "--json"],
        &["chain"],
        &["chain", "--json"],
        &["chain", "--iem", "se846", "--target-spl", "83"],
    ] {
        support::run_into_closed_pipe(bin, args).unwrap();
    }
}

/// The text reads as written by hand: volts to the millivolt, a small damping ratio with its
/// digits, no "none (none)", "-inf" in ASCII as everywhere else, the catalog's clip points.
#[test]
fn text_formatting() {
    let text = |args: &[&str]| {
        let out = earstage(args);
        support::succeeded(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    let report = text(&["chain", "--source-vfs", "+10 dBu"]);
    assert!(report.contains("2.449 Vrms full scale"), "{report}");
    assert!(!report.contains("2.4494"), "{report}");
    assert!(report.contains("attenuator   none\n"), "{report}");
    assert!(
        !report.contains("none (none)") && !report.contains("−inf"),
        "{report}"
    );
    // SE846 (9 Ω minimum) on a 120 Ω source: damping ratio 9.x/120 ≈ 0.075, shown as such.
    let report = text(&["chain", "--iem", "se846", "--source-impedance", "120"]);
    let line = report
        .lines()
        .find(|l| l.contains("damping ratio"))
        .unwrap();
    assert!(line.contains("0.0"), "{line}");
    assert!(!line.contains(" 0.1 "), "{line}");
    let catalog = text(&["catalog"]);
    assert!(catalog.contains("clip Vrms"), "{catalog}");
}

/// `--measured-vrms`: a multimeter reading of the calibration tone sets the full scale. The SPL
/// at full scale then equals the closed form `S_V + 20·log10(V_fs·g·|H(1 kHz)|)` for the true
/// full scale, within 0.02 dB, at either probe point and any tone level and frequency (read
/// across the IEM, the reading is carried to 1 kHz through the divider `Z/(Zo + Ra + Rc + Z)`,
/// built here from the catalog IEM's impedance).
mod calibrated_level {
    use super::*;
    use earstage::model::catalog::Catalog;

    const TRUE_VFS: f64 = 0.7;

    #[test]
    fn spl_at_full_scale_follows_the_reading() {
        let base = [
            "chain",
            "--iem",
            "SE846",
            "--source",
            "10 Ω",
            "--adapter",
            "33",
        ];
        let spec = json(&[&base[..], &["--json"]].concat());
        let parts = &spec["source_parts"];
        let g = 10f64.powf(parts["volume_db"].as_f64().unwrap() / 20.0);
        let zo = parts["output_impedance_ohms"].as_f64().unwrap();
        let rc = spec["cable_ohms"].as_f64().unwrap();
        let s_v = spec["sensitivity_db_per_v"].as_f64().unwrap();
        assert_eq!(spec["level"]["calibrated"], false);
        let iem = Catalog::builtin().iem("SE846").unwrap().clone();
        let h = |hz: f64| {
            let z = iem.impedance(hz);
            (z / (z + zo + 33.0 + rc)).norm()
        };
        let expected = s_v + 20.0 * (TRUE_VFS * g * h(1000.0)).log10();
        for at in ["open", "iem"] {
            for tone_dbfs in [-45.0, -20.0, -6.0] {
                for tone_hz in [60.0, 400.0, 1000.0, 5000.0] {
                    let tone = TRUE_VFS * g * 10f64.powf(tone_dbfs / 20.0);
                    let reading = if at == "iem" { tone * h(tone_hz) } else { tone };
                    let (v, l, f) = (
                        reading.to_string(),
                        tone_dbfs.to_string(),
                        tone_hz.to_string(),
                    );
                    let extra = [
                        "--measured-vrms",
                        &v,
                        "--measured-at",
                        at,
                        "--tone-dbfs",
                        &l,
                        "--tone-hz",
                        &f,
                        "--json",
                    ];
                    let r = json(&[&base[..], &extra[..]].concat());
                    let spl = r["spl_at_full_scale_db"].as_f64().unwrap();
                    assert!(
                        (spl - expected).abs() < 0.02,
                        "{at} {tone_dbfs} dBFS {tone_hz} Hz: {spl} vs {expected}"
                    );
                    assert_eq!(r["level"]["calibrated"], true);
                    assert_eq!(r["level"]["reading"]["at"], at);
                    assert_eq!(r["level"]["stale"], false);
                }
            }
        }
    }

    /// The same reading reaches `analyze`'s SPL: a calibrated chain and one whose full scale is
    /// typed in as the true value meter the same LAeq.
    #[test]
    fn analyze_uses_the_calibration() {
        let dir = TempDir::new("calibrated-analyze");
        let wav = dir.join("tone.wav");
        let tone = support::tone_1k(48_000.0, -20.0, 2.0);
        support::write_wav(
            &wav,
            48_000,
            support::WavFormat::Float32,
            &support::stereo(&tone),
        );
        let w = wav.to_str().unwrap();
        let laeq = |extra: &[&str]| {
            let mut args = vec![
                "analyze",
                w,
                "--iem",
                "SE846",
                "--source-volume",
                "0",
                "--json",
            ];
            args.extend_from_slice(extra);
            let r = json(&args);
            (r["laeq_dba"][0].as_f64().unwrap(), r["level"].clone())
        };
        let reading = (TRUE_VFS * 0.1).to_string();
        let (calibrated, level) = laeq(&["--measured-vrms", &reading]);
        let (typed, _) = laeq(&["--source-vfs", &TRUE_VFS.to_string()]);
        assert!((calibrated - typed).abs() < 1e-6, "{calibrated} vs {typed}");
        assert_eq!(level["calibrated"], true);
    }

    #[test]
    fn bad_readings_are_refused() {
        for (extra, says) in [
            (&["--measured-vrms", "0"][..], "--measured-vrms"),
            (&["--measured-vrms", "-0.1"][..], "--measured-vrms"),
            (
                &["--measured-vrms", "0.1", "--tone-dbfs", "1"][..],
                "--tone-dbfs",
            ),
            (
                &["--measured-vrms", "0.1", "--tone-dbfs", "-61"][..],
                "--tone-dbfs",
            ),
            (
                &["--measured-vrms", "0.1", "--tone-hz", "19"][..],
                "--tone-hz",
            ),
            (
                &["--measured-vrms", "0.1", "--tone-hz", "20001"][..],
                "--tone-hz",
            ),
            (
                &["--measured-vrms", "0.1", "--measured-at", "ear"][..],
                "--measured-at",
            ),
            (&["--tone-hz", "400"][..], "--measured-vrms"),
        ] {
            let err = stderr_of_failure([&["chain"][..], extra].concat());
            assert!(err.contains(says), "{extra:?}: {err}");
        }
    }
}

/// `--path-bits`: 8 bits more is 48.16 dB (8 × 6.02) less dither floor; other depths are refused.
#[test]
fn path_bits_set_the_dither_floor() {
    let floor = |bits: &str| {
        json(&["chain", "--path-bits", bits, "--json"])["dither_noise_spl_dba"]
            .as_f64()
            .unwrap()
    };
    let step = floor("16") - floor("24");
    assert!((step - 160.0 * 2f64.log10()).abs() < 1e-9, "{step}");
    assert!(stderr_of_failure(["chain", "--path-bits", "20"]).contains("--path-bits"));
}

/// Issue #21, the advisor's missing limits, as a user types them. A resistive 16 Ω IEM of
/// 100 dB SPL/V on a 4 V, 1 Ω source that gives 50 mA, through a 3.6 Ω / 1.2 Ω L-pad: the source
/// drives Z_in = 3.6 + 1.2‖16 and its stage clips at the EMF 0.05·(1 + Z_in) (the closed form, to
/// 1e-9 V); the text says the clip is ahead of the pad. A pot tracked to −30 dB: a 95 dB peak
/// target on the bare chain needs 95 − (100 + 20·log10(4·16/17)) = −16.5 dB of volume, inside
/// the range; a 70 dB one −41.5 dB, below it.
#[test]
fn the_current_limit_and_the_volume_controls_range() {
    let chain = [
        "chain",
        "--iem-resistance",
        "16",
        "--iem-sensitivity",
        "100 dB/V",
        "--source-vfs",
        "4",
        "--source-impedance",
        "1",
        "--source-max-current",
        "50",
        "--source-volume-control",
        "pot:-30",
    ];
    let padded = [
        &chain[..],
        &["--pad-series", "3.6", "--pad-shunt", "1.2", "--json"],
    ]
    .concat();
    let r = json(&padded);
    let z_in = 3.6 + 1.2 * 16.0 / 17.2;
    let clip = &r["clip"];
    assert!(
        (f(clip, "emf_vrms") - 0.05 * (1.0 + z_in)).abs() < 1e-9,
        "{clip}"
    );
    assert!((f(clip, "load_ohms") - z_in).abs() < 1e-9, "{clip}");
    assert_eq!(clip["limit"]["kind"], "current");
    let mut text_args = padded.clone();
    text_args.pop();
    text_args.extend([
        "--source-volume",
        "0",
        "--target-spl",
        "94",
        "--target-kind",
        "peak",
    ]);
    let out = earstage(&text_args);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("the 50 mA current limit into 4.72 Ω"),
        "{text}"
    );
    assert!(
        text.contains(
            "clips at the source, ahead of the pad (a pad cannot undo clipping upstream)"
        ),
        "{text}"
    );

    let advise = |target: &str| {
        let args = [
            &chain[..],
            &["--target-spl", target, "--target-kind", "peak", "--json"],
        ]
        .concat();
        json(&args)["advisor"]["approaches"][0].clone()
    };
    let level = 100.0 + 20.0 * (4.0f64 * 16.0 / 17.0).log10();
    let a = advise("95");
    assert!((f(&a, "volume_db") - (95.0 - level)).abs() < 1e-9, "{a}");
    assert_eq!(a["volume_in_usable_range"], true);
    let a = advise("70");
    assert!((f(&a, "volume_db") - (70.0 - level)).abs() < 1e-9, "{a}");
    assert_eq!(a["volume_in_usable_range"], false);
    assert!(
        a["limits"]
            .to_string()
            .contains("bottom of the pot's travel"),
        "{a}"
    );

    let err = stderr_of_failure(["chain", "--source-volume-control", "knob:-40"]);
    assert!(
        err.contains("--source-volume-control") && err.contains("knob") && err.contains("pot:"),
        "{err}"
    );
    let err = stderr_of_failure(["chain", "--source-max-current", "0"]);
    assert!(err.contains("--source-max-current"), "{err}");
}

/// Left and right earpieces with their own curves: the main report is the left's, `right_ear` the
/// right's, each the divider's closed form |Z|/(|Z| + R_out) at 1 kHz (resistive curves); the
/// text names both.
#[test]
fn each_earpiece_its_own_report() {
    let dir = TempDir::new("ears");
    let (left, right) = (dir.join("left.zma"), dir.join("right.zma"));
    support::write_impedance(&left, |_| (16.0, 0.0));
    support::write_impedance(&right, |_| (32.0, 0.0));
    let args = [
        "chain",
        "--iem-impedance",
        left.to_str().unwrap(),
        "--iem-impedance-right",
        right.to_str().unwrap(),
        "--iem-sensitivity",
        "110 dB/mW",
        "--source-impedance",
        "10",
    ];
    let report = json(&[&args[..], &["--json"]].concat());
    let divider = |z: f64| 20.0 * (z / (z + 10.0)).log10();
    assert!(
        (f(&report, "level_at_1k_db") - divider(16.0)).abs() < 0.01,
        "{report}"
    );
    let right_ear = &report["right_ear"];
    assert!(
        (f(right_ear, "level_at_1k_db") - divider(32.0)).abs() < 0.01,
        "{report}"
    );
    assert!((f(right_ear, "iem_impedance_at_1k_ohms") - 32.0).abs() < 1e-6);
    let text = String::from_utf8(earstage(args).stdout).unwrap();
    assert!(
        text.contains("left earpiece") && text.contains("Right earpiece"),
        "{text}"
    );
    // The response table has both ears, each the divider's closed form at every frequency.
    let csv = support::earstage_stdout([&args[..], &["--at", "100,1000,10000", "--csv"]].concat());
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("hz,db_left,deg_left,db_right,deg_right"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 3, "{csv}");
    for row in &rows {
        // A resistive source on a resistive curve: the divider at every frequency, no phase.
        assert!((row[1] - divider(16.0)).abs() < 1e-4, "{csv}");
        assert!((row[3] - divider(32.0)).abs() < 1e-4, "{csv}");
        assert!(row[2].abs() < 1e-4 && row[4].abs() < 1e-4, "{csv}");
    }
    // One curve for both: no right-ear report, and the one-ear table.
    let both = json(&["chain", "--iem", "andromeda", "--json"]);
    assert!(both.get("right_ear").is_none());
    let one = support::earstage_stdout(["chain", "--iem", "andromeda", "--at", "1000", "--csv"]);
    assert!(one.starts_with("hz,db,deg\n"), "{one}");
}
