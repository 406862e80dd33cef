//! `earstage demo`: the main job on the embedded signal and the default chain writes its report,
//! the coloration plot and the A/B audition.

mod support;

#[test]
fn demo_writes_report_plot_and_audition() {
    let dir = support::TempDir::new("demo");
    let out = support::earstage_stdout(["demo", "--json", "--out", dir.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["bit_exact_pass_through"], true);
    assert!(json["chain"]["level_at_1k_db"].as_f64().unwrap() < 0.0);
    assert_eq!(json["delivered"]["laeq_dba"].as_array().unwrap().len(), 2);
    assert_eq!(json["advisor"]["approaches"].as_array().unwrap().len(), 3);
    for key in [
        "laeq_df_dba",
        "lcpeak_dbc",
        "dose_niosh_percent",
        "dose_who_percent",
    ] {
        assert_eq!(json["delivered"][key].as_array().unwrap().len(), 2, "{key}");
    }
    // The reference level is the chain report's pink-noise LAeq, and the change meets the target.
    let r = &json["reference"];
    let delivered = r["reference_delivered_dba"].as_f64().unwrap();
    let chain_pink = json["chain"]["pink_reference_laeq_dba"].as_f64().unwrap();
    assert!((delivered - chain_pink).abs() < 1e-9);
    let target = r["reference_target_dba"].as_f64().unwrap();
    let change = r["reference_volume_change_db"].as_f64().unwrap();
    assert!((delivered + change - target).abs() < 1e-9);

    let svg = std::fs::read_to_string(dir.join("coloration.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<polyline"));
    let png = std::fs::read(dir.join("coloration.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");

    let mut wav = hound::WavReader::open(dir.join("ab-audition.wav")).unwrap();
    let spec = wav.spec();
    assert_eq!((spec.channels, spec.sample_rate), (2, 48_000));
    let samples: Vec<f32> = wav.samples::<f32>().map(Result::unwrap).collect();
    assert_eq!(samples.len(), 2 * 8 * 48_000);
    assert!(samples.iter().all(|x| x.is_finite() && x.abs() < 4.0));
}
