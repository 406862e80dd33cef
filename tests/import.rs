//! Importing measured curves: round trips of every format, and a clear error naming the file,
//! the line and the reason for each kind of malformed file.

use std::path::{Path, PathBuf};

use earstage::model::catalog::Catalog;
use earstage::model::chain::report_grid;
use earstage::model::curve::{FrequencyResponse, ImpedanceCurve};
use earstage::model::import::{
    ImportError, csv_text, read_frequencies, read_impedance, read_response, response_text, zma_text,
};

mod support;
use support::TempDir;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A catalog multi-BA IEM's impedance on the report grid: a curve with real swings and phase.
fn andromeda_curve() -> ImpedanceCurve {
    let iem = Catalog::builtin().iem("Andromeda").unwrap().clone();
    let rows = report_grid()
        .into_iter()
        .map(|hz| {
            let z = iem.impedance(hz);
            [hz, z.norm(), z.arg().to_degrees()]
        })
        .collect();
    ImpedanceCurve::new(rows).unwrap()
}

fn assert_same_curve(a: &ImpedanceCurve, b: &ImpedanceCurve, ohms_rel: f64, deg: f64) {
    assert_eq!(a.rows().len(), b.rows().len());
    for (x, y) in a.rows().iter().zip(b.rows()) {
        assert!((x[0] / y[0] - 1.0).abs() < 1e-6, "{} vs {} Hz", x[0], y[0]);
        assert!(
            (x[1] / y[1] - 1.0).abs() < ohms_rel,
            "{} Hz: {} vs {} Ω",
            x[0],
            x[1],
            y[1]
        );
        assert!(
            (x[2] - y[2]).abs() < deg,
            "{} Hz: {}° vs {}°",
            x[0],
            x[2],
            y[2]
        );
    }
}

mod round_trips {
    use super::*;

    #[test]
    fn zma() {
        let dir = TempDir::new("zma");
        let curve = andromeda_curve();
        let back = read_impedance(&write(&dir, "a.zma", &zma_text(&curve))).unwrap();
        // Written with 7 significant figures and 6 decimals of a degree.
        assert_same_curve(&curve, &back, 1e-6, 1e-5);
    }

    #[test]
    fn csv_with_header() {
        let dir = TempDir::new("csv");
        let curve = andromeda_curve();
        let back = read_impedance(&write(&dir, "a.csv", &csv_text(&curve))).unwrap();
        assert_same_curve(&curve, &back, 1e-12, 1e-9);
    }

    /// REW's text export: '*' comment header, blank lines, tab-separated, columns named in a
    /// comment; and a European-style semicolon CSV whose header lists phase before |Z|.
    #[test]
    fn rew_text_and_reordered_columns() {
        let dir = TempDir::new("rew");
        let curve = andromeda_curve();
        let mut rew =
            String::from("* Measurement data exported by REW\n* Freq(Hz)\tZ(ohm)\tPhase(deg)\n\n");
        let mut semi = String::from("Phase (deg);Frequency (Hz);Impedance (Ohm)\n");
        for r in curve.rows() {
            rew.push_str(&format!("{}\t{}\t{}\n\n", r[0], r[1], r[2]));
            semi.push_str(&format!("{};{};{}\n", r[2], r[0], r[1]));
        }
        assert_same_curve(
            &curve,
            &read_impedance(&write(&dir, "a.txt", &rew)).unwrap(),
            1e-12,
            1e-9,
        );
        assert_same_curve(
            &curve,
            &read_impedance(&write(&dir, "b.csv", &semi)).unwrap(),
            1e-12,
            1e-9,
        );
    }

    /// Magnitude only (two columns): the magnitudes come back exactly and the phase is
    /// reconstructed as minimum phase. The network here is a moving-coil IEM, resistive with a
    /// rising coil inductance, whose phase the reconstruction recovers within 0.5° over
    /// 20 Hz–20 kHz (tests/chain.rs covers the reconstruction's limits).
    #[test]
    fn magnitude_only() {
        let dir = TempDir::new("mag");
        let iem = Catalog::builtin().iem("SE215").unwrap().clone();
        let mut text = String::from("# SE215 model, |Z| only\nfrequency_hz, impedance_ohms\n");
        for hz in report_grid() {
            text.push_str(&format!("{hz}, {}\n", iem.impedance(hz).norm()));
        }
        let back = read_impedance(&write(&dir, "mag.csv", &text)).unwrap();
        for r in back.rows() {
            let z = iem.impedance(r[0]);
            assert!((r[1] / z.norm() - 1.0).abs() < 1e-12);
            if (20.0..=20_000.0).contains(&r[0]) {
                assert!(
                    (r[2] - z.arg().to_degrees()).abs() < 0.5,
                    "{} Hz: {}°",
                    r[0],
                    r[2]
                );
            }
        }
    }

    #[test]
    fn frequency_response() {
        let dir = TempDir::new("fr");
        let rows: Vec<[f64; 2]> = report_grid()
            .into_iter()
            .map(|hz| [hz, 100.0 + 6.0 * (hz / 3000.0).ln().sin()])
            .collect();
        let fr = FrequencyResponse::new(rows).unwrap();
        let back = read_response(&write(&dir, "fr.txt", &response_text(&fr))).unwrap();
        assert_eq!(back, fr);
        // A squig-style export: header "frequency raw", space separated, extra columns.
        let mut squig = String::from("frequency raw smoothed\n");
        for r in fr.rows() {
            squig.push_str(&format!("{} {} 0\n", r[0], r[1]));
        }
        assert_eq!(
            read_response(&write(&dir, "squig.txt", &squig)).unwrap(),
            fr
        );
    }

    #[test]
    fn frequency_lists() {
        let dir = TempDir::new("at");
        let path = write(
            &dir,
            "at.txt",
            "# where to evaluate\n20\n1000, 2000\n\n20000\n",
        );
        assert_eq!(
            read_frequencies(&path).unwrap(),
            vec![20.0, 1000.0, 2000.0, 20000.0]
        );
    }
}

mod malformed {
    use super::*;

    /// Reads `text` as an impedance file and returns the error's message, checking it names the
    /// file and, if `line` is given, the line.
    fn error(name: &str, text: &str, line: Option<usize>) -> String {
        let tag: String = text
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(40)
            .collect();
        let dir = TempDir::new(&format!("bad-{tag}"));
        let path = write(&dir, name, text);
        let err = read_impedance(&path).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        match (line, &err) {
            (Some(n), ImportError::Line { line, .. }) => assert_eq!(*line, n, "{message}"),
            (None, ImportError::File { .. } | ImportError::Io { .. }) => {}
            _ => panic!("unexpected error kind: {message}"),
        }
        message
    }

    #[test]
    fn not_a_number() {
        let m = error("a.zma", "* header\n20 16 0\n40 sixteen 0\n", Some(3));
        assert!(m.contains("\"sixteen\" is not a number"), "{m}");
    }

    /// A European-locale export writes decimal commas: the first such line is refused with the
    /// number and how to write it, whatever separates the columns; never read as two numbers.
    #[test]
    fn decimal_commas() {
        let m = error("eu.zma", "1,5 8 0\n20 16 0\n", Some(1));
        assert!(
            m.contains("\"1,5\" is not a number") && m.contains("1.5"),
            "{m}"
        );
        let whole = "10,0 16,2 -1,5\n20,0 16,4 -2,0\n40,0 16,9 -3,5\n";
        let m = error("eu2.zma", whole, Some(1));
        assert!(m.contains("\"10,0\" is not a number"), "{m}");
        let m = error("eu3.csv", "Hz;Ohm;Deg\n20;16,5;0\n40;16,6;1\n", Some(2));
        assert!(m.contains("\"16,5\" is not a number"), "{m}");
    }

    /// A data line of a headerless impedance file holds Hz, Ω and optionally degrees: a fourth
    /// number is refused, not ignored.
    #[test]
    fn a_fourth_number() {
        let m = error("four.zma", "20 16 0\n40 16 0 7\n", Some(2));
        assert!(m.contains("found 4"), "{m}");
    }

    /// Commas as separators still read: "20,16,0" and "20, 16, 0".
    #[test]
    fn comma_separated_still_reads() {
        let dir = TempDir::new("commas");
        for (name, text) in [
            ("tight.csv", "20,16,0\n40,17,5\n"),
            ("spaced.csv", "20, 16, 0\n40, 17, 5\n"),
        ] {
            let curve = read_impedance(&write(&dir, name, text)).unwrap();
            assert_eq!(curve.rows(), &[[20.0, 16.0, 0.0], [40.0, 17.0, 5.0]]);
        }
    }

    #[test]
    fn one_column() {
        let m = error("a.zma", "20 16 0\n40\n", Some(2));
        assert!(m.contains("at least 2 numbers"), "{m}");
    }

    #[test]
    fn frequencies_not_increasing() {
        let m = error("a.zma", "20 16 0\n40 16 0\n\n30 16 0\n", Some(4));
        assert!(m.contains("not above the previous"), "{m}");
    }

    #[test]
    fn negative_impedance() {
        let m = error("a.zma", "20 16 0\n40 -16 0\n", Some(2));
        assert!(m.contains("|Z| -16"), "{m}");
    }

    #[test]
    fn impossible_phase() {
        let m = error("a.zma", "20 16 0\n40 16 120\n", Some(2));
        assert!(m.contains("passive"), "{m}");
    }

    #[test]
    fn phase_on_some_lines_only() {
        let m = error("a.zma", "20 16 0\n40 16\n80 16 0\n", Some(2));
        assert!(m.contains("no phase on this line"), "{m}");
    }

    #[test]
    fn header_without_frequency() {
        let m = error("a.csv", "ohms,phase\n16,0\n16,0\n", Some(1));
        assert!(m.contains("no frequency column"), "{m}");
    }

    #[test]
    fn header_missing_a_column_on_a_row() {
        let m = error("a.csv", "hz,ohm,deg\n20,16,0\n40,16\n", Some(3));
        assert!(m.contains("expected 3 columns"), "{m}");
    }

    #[test]
    fn too_few_points() {
        let m = error("a.zma", "* only one\n20 16 0\n", None);
        assert!(m.contains("at least 2"), "{m}");
        let m = error("empty.zma", "", None);
        assert!(m.contains("at least 2"), "{m}");
    }

    #[test]
    fn missing_and_binary_files() {
        let dir = TempDir::new("missing");
        let err = read_impedance(&dir.join("nope.zma")).unwrap_err();
        assert!(matches!(err, ImportError::Io { .. }) && err.to_string().contains("nope.zma"));
        let path = dir.join("binary.zma");
        std::fs::write(&path, [0xff, 0xfe, 0x00, 0x80]).unwrap();
        assert!(
            read_impedance(&path)
                .unwrap_err()
                .to_string()
                .contains("binary.zma")
        );
    }

    #[test]
    fn response_errors() {
        let dir = TempDir::new("frbad");
        let err = read_response(&write(&dir, "fr.txt", "20 90\n40 loud\n")).unwrap_err();
        assert!(matches!(err, ImportError::Line { line: 2, .. }), "{err}");
        let err = read_frequencies(&write(&dir, "at.txt", "20\n-5\n")).unwrap_err();
        assert!(matches!(err, ImportError::Line { line: 2, .. }), "{err}");
    }
}
