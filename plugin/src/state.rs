//! The saved state's rules: its format version, and what a load does with a state that is damaged,
//! hand-edited or from another version. Every value that cannot be restored falls back to its
//! default and is named in the load report (the editor shows it); every value that can be is kept.
//!
//! The state is nice-plug's: parameters as plain values and the persisted fields as JSON strings.
//! [`repair`] runs on it just before the framework applies it (`Plugin::filter_state`), on the
//! thread that loads it, never on the audio thread. A state that is not JSON at all is refused by
//! the framework before it gets here; the instance then keeps everything it had.

use std::collections::BTreeMap;

use nice_plug::params::Params;
use nice_plug::params::internals::ParamPtr;
use nice_plug::plugin::{ParamValue, PluginState};
use serde::de::DeserializeOwned;

use crate::dsp::spl::exposure::ExposureTotals;
use crate::model::Chain;
use crate::params::EarstageParams;
use crate::persist::{
    AUDITION_KEY, CHAIN_KEY, EXPOSURE_KEY, FORMAT, FORMAT_KEY, PARAMS_ADDED, REPORT_KEY,
    StoredAuditions,
};

/// Checks a persisted field's JSON: it must parse as its type and hold values in range.
fn check_field(key: &str, text: &str) -> Result<(), String> {
    match key {
        CHAIN_KEY => parse::<Chain>(text)?.validate().map_err(|e| e.to_string()),
        AUDITION_KEY => {
            let stored = parse::<StoredAuditions>(text)?;
            stored.a.validate().map_err(|e| format!("chain A: {e}"))?;
            stored.b.validate().map_err(|e| format!("chain B: {e}"))
        }
        EXPOSURE_KEY => {
            if parse::<ExposureTotals>(text)?.is_valid() {
                Ok(())
            } else {
                Err("the record has negative or non-finite figures".into())
            }
        }
        _ => Err("unknown field".into()),
    }
}

/// The fields checked by [`check_field`], with their names in the report.
const FIELDS: [(&str, &str); 3] = [
    (CHAIN_KEY, "the rig"),
    (AUDITION_KEY, "the audition chains"),
    (EXPOSURE_KEY, "the exposure record"),
];

fn parse<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("unreadable ({e})"))
}

/// Make `state` safe to apply and say what could not be restored. Afterwards every parameter
/// and field this version knows is present, of its type and in range (values that were not are
/// the defaults), and the field [`REPORT_KEY`] holds the report.
pub fn repair(state: &mut PluginState) {
    let defaults = EarstageParams::default();
    let default_fields = defaults.serialize_fields();
    let mut report = Vec::new();

    let format = match state.fields.get(FORMAT_KEY) {
        None => 0,
        Some(text) => match text.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                report.push(format!(
                    "format {text:?} is not a number: read as the current one"
                ));
                FORMAT
            }
        },
    };
    let newer = format > FORMAT;
    if newer {
        report.push(format!(
            "saved by a newer Earstage (state format {format}, this one reads up to {FORMAT}): \
             what this version does not know is ignored"
        ));
    }

    repair_params(&defaults, &mut state.params, format, &mut report);

    for (key, what) in FIELDS {
        let Some(default) = default_fields.get(key) else {
            continue;
        };
        match state.fields.get(key) {
            None if format == 0 && key == EXPOSURE_KEY => {
                // Saved before the exposure was kept: starting from zero is the right restore.
                state.fields.insert(key.into(), default.clone());
            }
            None => {
                report.push(format!(
                    "{what} ({key}): not in the saved state; default used"
                ));
                state.fields.insert(key.into(), default.clone());
            }
            Some(text) => {
                if let Err(why) = check_field(key, text) {
                    report.push(format!("{what} ({key}): {why}; default used"));
                    state.fields.insert(key.into(), default.clone());
                }
            }
        }
    }
    let known =
        |key: &str| FIELDS.iter().any(|(k, _)| *k == key) || key == FORMAT_KEY || key == REPORT_KEY;
    let unknown: Vec<String> = state
        .fields
        .keys()
        .filter(|key| !known(key))
        .cloned()
        .collect();
    for key in unknown {
        if !newer {
            report.push(format!("unknown field {key:?}: ignored"));
        }
        state.fields.remove(&key);
    }

    state.fields.insert(FORMAT_KEY.into(), FORMAT.to_string());
    state.fields.insert(
        REPORT_KEY.into(),
        serde_json::to_string(&report).unwrap_or_else(|_| "[]".into()),
    );
}

/// Every parameter of the right type and in range; missing ones at their defaults.
fn repair_params(
    defaults: &EarstageParams,
    params: &mut BTreeMap<String, ParamValue>,
    format: u32,
    report: &mut Vec<String>,
) {
    let newer = format > FORMAT;
    let added_since = |id: &str| {
        PARAMS_ADDED
            .iter()
            .any(|&(added, since)| added == id && format < since)
    };
    let map = defaults.param_map();
    for (id, ptr, _group) in &map {
        // SAFETY: `ptr` points into `defaults`, which outlives this loop.
        let (name, default) = unsafe { (ptr.name().to_owned(), default_value(*ptr)) };
        let label = format!("{name} ({id})");
        match params.get(id) {
            None if added_since(id) => {
                params.insert(id.clone(), default);
            }
            None => {
                report.push(format!("{label}: not in the saved state; default used"));
                params.insert(id.clone(), default);
            }
            Some(value) => {
                // SAFETY: as above.
                if let Some((fixed, why)) = unsafe { check_param(*ptr, value, &default) } {
                    report.push(format!("{label}: {why}"));
                    params.insert(id.clone(), fixed);
                }
            }
        }
    }
    let unknown: Vec<String> = params
        .keys()
        .filter(|id| !map.iter().any(|(known, _, _)| known == *id))
        .cloned()
        .collect();
    for id in unknown {
        if !newer {
            report.push(format!("unknown parameter {id:?}: ignored"));
        }
        params.remove(&id);
    }
}

/// A parameter's default as a saved value.
///
/// # Safety
/// `ptr` must point to a live parameter.
unsafe fn default_value(ptr: ParamPtr) -> ParamValue {
    unsafe {
        match ptr {
            ParamPtr::FloatParam(_) => ParamValue::F32(ptr.default_plain_value()),
            ParamPtr::IntParam(_) => ParamValue::I32(ptr.default_plain_value() as i32),
            ParamPtr::BoolParam(_) => ParamValue::Bool(ptr.default_normalized_value() > 0.5),
            // `ptr` is a default instance's, so its value is the default.
            ParamPtr::EnumParam(p) => match (*p).unmodulated_plain_id() {
                Some(id) => ParamValue::String(id.to_owned()),
                None => ParamValue::I32(ptr.default_plain_value() as i32),
            },
        }
    }
}

/// `None` if `value` is fine for the parameter; else the value to use and why.
///
/// # Safety
/// `ptr` must point to a live parameter of a throwaway instance (checking an enum's id sets it).
unsafe fn check_param(
    ptr: ParamPtr,
    value: &ParamValue,
    default: &ParamValue,
) -> Option<(ParamValue, String)> {
    let use_default = |why: String| Some((default.clone(), format!("{why}; default used")));
    unsafe {
        match (ptr, value) {
            (ParamPtr::FloatParam(_), ParamValue::F32(v)) => {
                let (min, max) = (ptr.preview_plain(0.0), ptr.preview_plain(1.0));
                if !v.is_finite() {
                    use_default(format!("{v} is not a number"))
                } else if *v < min || *v > max {
                    let clamped = v.clamp(min, max);
                    let unit = ptr.unit();
                    Some((
                        ParamValue::F32(clamped),
                        format!("{v}{unit} is outside {min}…{max}{unit}; set to {clamped}{unit}"),
                    ))
                } else {
                    None
                }
            }
            (ParamPtr::IntParam(_), ParamValue::I32(v)) => {
                let (min, max) = (ptr.preview_plain(0.0), ptr.preview_plain(1.0));
                let v = *v as f32;
                (v < min || v > max).then(|| {
                    let clamped = v.clamp(min, max);
                    (
                        ParamValue::I32(clamped as i32),
                        format!("{v} is outside {min}…{max}; set to {clamped}"),
                    )
                })
            }
            (ParamPtr::BoolParam(_), ParamValue::Bool(_)) => None,
            (ParamPtr::EnumParam(p), ParamValue::String(id)) => {
                // Setting the throwaway default instance is how nice-plug tells a known id.
                if (*p).set_from_id(id) {
                    None
                } else {
                    use_default(format!("unknown choice {id:?}"))
                }
            }
            (ParamPtr::EnumParam(_), ParamValue::I32(index)) => {
                let count = ptr.step_count().map_or(1, |steps| steps + 1) as i32;
                if (0..count).contains(index) {
                    None
                } else {
                    use_default(format!("choice {index} is not one of 0…{}", count - 1))
                }
            }
            (_, other) => use_default(format!("{} where a {} belongs", kind(other), kind(default))),
        }
    }
}

fn kind(value: &ParamValue) -> &'static str {
    match value {
        ParamValue::F32(_) => "number",
        ParamValue::I32(_) => "whole number",
        ParamValue::Bool(_) => "switch",
        ParamValue::String(_) => "text",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::Catalog;
    use nice_plug::params::{FloatParam, Param};

    /// The state nice-plug would save from `params` (plain values, enum ids, the fields' JSON).
    pub(crate) fn saved(params: &EarstageParams) -> PluginState {
        let values = params
            .param_map()
            .into_iter()
            .map(|(id, ptr, _)| {
                // SAFETY: `ptr` points into `params`, alive for this call.
                let value = unsafe {
                    match ptr {
                        ParamPtr::FloatParam(p) => ParamValue::F32((*p).unmodulated_plain_value()),
                        ParamPtr::IntParam(p) => ParamValue::I32((*p).unmodulated_plain_value()),
                        ParamPtr::BoolParam(p) => ParamValue::Bool((*p).unmodulated_plain_value()),
                        ParamPtr::EnumParam(p) => match (*p).unmodulated_plain_id() {
                            Some(id) => ParamValue::String(id.to_owned()),
                            None => ParamValue::I32((*p).unmodulated_plain_value()),
                        },
                    }
                };
                (id, value)
            })
            .collect();
        PluginState {
            version: env!("CARGO_PKG_VERSION").into(),
            params: values,
            fields: params.serialize_fields(),
        }
    }

    /// Parameters and fields all away from their defaults.
    fn customised() -> EarstageParams {
        let params = EarstageParams::default();
        let set = |param: &FloatParam, v: f32| unsafe {
            param
                .as_ptr()
                ._internal_set_normalized_value(param.preview_normalized(v));
        };
        set(&params.trim_db, -3.5);
        set(&params.a.output_ohms, 22.0);
        set(&params.reference_dba, 79.0);
        let catalog = Catalog::builtin();
        let mut chain = params.chain.get();
        chain.iem = catalog.iem("SE846").unwrap().clone();
        // The right earpiece measured apart: its curve travels with the state.
        let right = catalog.iem("IE 300").unwrap().impedance.clone();
        chain
            .iem
            .set_impedance(right, Some(crate::model::iem::Ear::Right));
        chain.source.volume_db = -17.5;
        params.chain.replace(chain);
        let mut totals = ExposureTotals {
            seconds: 3600.0,
            reset_unix_s: Some(1.7e9),
            ..ExposureTotals::default()
        };
        totals.ears[0].eardrum_pa2s = 3600.0 * 0.04;
        params.monitoring.exposure.restore(&totals);
        params
    }

    fn report(state: &PluginState) -> Vec<String> {
        serde_json::from_str(&state.fields[REPORT_KEY]).unwrap()
    }

    #[test]
    fn a_sound_state_loads_unchanged_with_an_empty_report() {
        let original = saved(&customised());
        let mut state = original.clone();
        repair(&mut state);
        assert_eq!(report(&state), Vec::<String>::new());
        assert_eq!(
            serde_json::to_string(&state.params).unwrap(),
            serde_json::to_string(&original.params).unwrap()
        );
        for (key, _) in FIELDS {
            assert_eq!(state.fields[key], original.fields[key], "{key}");
        }
        assert_eq!(state.fields[FORMAT_KEY], FORMAT.to_string());
        let chain: crate::model::Chain = serde_json::from_str(&state.fields[CHAIN_KEY]).unwrap();
        assert!(
            chain.iem.ears_differ(),
            "the right earpiece's curve is kept"
        );
    }

    #[test]
    fn the_persisted_keys_are_the_ones_repair_knows() {
        let fields = EarstageParams::default().serialize_fields();
        let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
        keys.sort();
        let mut known: Vec<&str> = FIELDS.iter().map(|(k, _)| *k).collect();
        known.extend([FORMAT_KEY, REPORT_KEY]);
        known.sort();
        assert_eq!(keys, known);
    }

    type Damage = Box<dyn Fn(&mut PluginState)>;

    /// One damaged value at a time: it falls back (default or clamped), the report names it, and
    /// everything else is kept.
    #[test]
    fn each_damaged_value_falls_back_alone() {
        let original = saved(&customised());
        let defaults = saved(&EarstageParams::default());
        let cases: Vec<(&str, Damage, Option<ParamValue>)> = vec![
            (
                "trim",
                Box::new(|s| {
                    s.params.insert("trim".into(), ParamValue::F32(40.0));
                }),
                Some(ParamValue::F32(12.0)),
            ),
            (
                "trim",
                Box::new(|s| {
                    s.params.insert("trim".into(), ParamValue::Bool(true));
                }),
                Some(ParamValue::F32(0.0)),
            ),
            (
                "trim",
                Box::new(|s| {
                    s.params
                        .insert("trim".into(), ParamValue::F32(f32::INFINITY));
                }),
                Some(ParamValue::F32(0.0)),
            ),
            (
                "trim",
                Box::new(|s| {
                    s.params.remove("trim");
                }),
                Some(ParamValue::F32(0.0)),
            ),
            (
                "listen",
                Box::new(|s| {
                    s.params
                        .insert("listen".into(), ParamValue::String("c".into()));
                }),
                Some(ParamValue::String("rig".into())),
            ),
            (
                "listen",
                Box::new(|s| {
                    s.params.insert("listen".into(), ParamValue::I32(7));
                }),
                Some(ParamValue::String("rig".into())),
            ),
            (
                "a_zo",
                Box::new(|s| {
                    s.params.insert("a_zo".into(), ParamValue::F32(-5.0));
                }),
                None,
            ),
            (
                "stage",
                Box::new(|s| {
                    s.params.insert("stage".into(), ParamValue::F32(1.0));
                }),
                Some(ParamValue::Bool(false)),
            ),
            (
                "chain",
                Box::new(|s| {
                    s.fields.insert("chain".into(), "{\"source\": 3".into());
                }),
                None,
            ),
            (
                "chain",
                Box::new(|s| {
                    s.fields.insert("chain".into(), "[1, 2, 3]".into());
                }),
                None,
            ),
            (
                "chain",
                Box::new(|s| {
                    let mut v: serde_json::Value =
                        serde_json::from_str(&s.fields["chain"]).unwrap();
                    v["source"]["vfs_volts"] = serde_json::json!(-1.0);
                    s.fields.insert("chain".into(), v.to_string());
                }),
                None,
            ),
            (
                "audition",
                Box::new(|s| {
                    let mut v: serde_json::Value =
                        serde_json::from_str(&s.fields["audition"]).unwrap();
                    v["b"]["cable"]["ohms"] = serde_json::json!(1e9);
                    s.fields.insert("audition".into(), v.to_string());
                }),
                None,
            ),
            (
                "exposure",
                Box::new(|s| {
                    let mut v: serde_json::Value =
                        serde_json::from_str(&s.fields["exposure"]).unwrap();
                    v["seconds"] = serde_json::json!(-1.0);
                    s.fields.insert("exposure".into(), v.to_string());
                }),
                None,
            ),
            (
                "exposure",
                Box::new(|s| {
                    s.fields.remove("exposure");
                }),
                None,
            ),
        ];
        for (i, (target, damage, expected)) in cases.iter().enumerate() {
            let mut state = original.clone();
            damage(&mut state);
            repair(&mut state);
            let said = report(&state);
            assert!(
                said.len() == 1 && said[0].contains(&format!("({target})")),
                "case {i}: {said:?}"
            );
            for (id, value) in &original.params {
                let got = serde_json::to_string(&state.params[id]).unwrap();
                if id == target {
                    let want = match expected {
                        Some(v) => serde_json::to_string(v).unwrap(),
                        None => match &state.params[id] {
                            // Clamped to the range: a_zo's bottom.
                            ParamValue::F32(v) => {
                                assert!(*v >= 0.0, "case {i}: {v}");
                                got.clone()
                            }
                            _ => panic!("case {i}"),
                        },
                    };
                    assert_eq!(got, want, "case {i}");
                } else {
                    assert_eq!(got, serde_json::to_string(value).unwrap(), "case {i}: {id}");
                }
            }
            for (key, _) in FIELDS {
                let want = if key == *target {
                    &defaults.fields[key]
                } else {
                    &original.fields[key]
                };
                assert_eq!(&state.fields[key], want, "case {i}: {key}");
            }
        }
    }

    /// An imported impedance curve or response over the size limit, for both earpieces or the
    /// right alone: the rig falls back alone, and the report names the limit it broke.
    #[test]
    fn an_oversized_curve_is_named_with_its_limit() {
        let original = saved(&customised());
        let defaults = saved(&EarstageParams::default());
        let big_curve: Vec<[f64; 3]> = (0..200_000)
            .map(|i| [10.0 + f64::from(i), 16.0, 0.0])
            .collect();
        let big_response: Vec<[f64; 2]> =
            (0..200_000).map(|i| [10.0 + f64::from(i), 0.0]).collect();
        for key in ["impedance", "right_impedance", "response", "right_response"] {
            let mut chain: serde_json::Value =
                serde_json::from_str(&original.fields[CHAIN_KEY]).unwrap();
            chain["iem"][key] = if key.ends_with("response") {
                serde_json::json!(big_response)
            } else {
                serde_json::json!({"model": "measured", "points": big_curve})
            };
            let mut state = original.clone();
            state.fields.insert(CHAIN_KEY.into(), chain.to_string());
            repair(&mut state);
            let said = report(&state);
            assert!(
                said.len() == 1 && said[0].contains("(chain)") && said[0].contains("at most 65536"),
                "{key}: {said:?}"
            );
            assert_eq!(state.fields[CHAIN_KEY], defaults.fields[CHAIN_KEY]);
            assert_eq!(state.fields[AUDITION_KEY], original.fields[AUDITION_KEY]);
            assert_eq!(
                serde_json::to_string(&state.params).unwrap(),
                serde_json::to_string(&original.params).unwrap()
            );
        }
    }

    #[test]
    fn unknown_and_newer_states_say_so() {
        let mut state = saved(&customised());
        state.params.insert("warp".into(), ParamValue::F32(1.0));
        state.fields.insert("presets".into(), "[]".into());
        repair(&mut state);
        let said = report(&state);
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(!state.params.contains_key("warp") && !state.fields.contains_key("presets"));

        let mut newer = saved(&customised());
        newer.fields.insert(FORMAT_KEY.into(), "7".into());
        newer.fields.insert("presets".into(), "[]".into());
        repair(&mut newer);
        let said = report(&newer);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("newer"));
    }

    /// A format-1 state lacks the parameters format 2 added: they take their defaults without a
    /// word. A format-2 state that lacks one says so.
    #[test]
    fn parameters_added_later_are_no_loss_in_older_states() {
        for (format, reported) in [(1, 0), (2, 1)] {
            let mut state = saved(&customised());
            state.fields.insert(FORMAT_KEY.into(), format.to_string());
            state.params.remove("target");
            repair(&mut state);
            let said = report(&state);
            assert_eq!(said.len(), reported, "format {format}: {said:?}");
            assert!(state.params.contains_key("target"));
        }
    }

    /// Earstage 0.1.0's state (format 0, no format field) loads with nothing to report.
    #[test]
    fn format_0_fixture_loads_clean() {
        let text = include_str!("../../tests/data/state/format-0.json");
        let mut state: PluginState = serde_json::from_str(text).unwrap();
        assert!(!state.fields.contains_key(FORMAT_KEY));
        repair(&mut state);
        assert_eq!(report(&state), Vec::<String>::new());
        let chain: Chain = serde_json::from_str(&state.fields["chain"]).unwrap();
        assert_eq!(chain.iem.name, "Shure SE846");
        assert!(matches!(state.params["trim"], ParamValue::F32(v) if v == -3.5));
    }

    /// Thousands of damaged texts: truncated, bit-flipped, bytes dropped or doubled. Whatever
    /// parses as a state at all comes out of `repair` complete and in range.
    #[test]
    fn generated_corruptions_never_panic_and_come_out_whole() {
        let text = serde_json::to_vec(&saved(&customised())).unwrap();
        let defaults = saved(&EarstageParams::default());
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        const CASES: usize = 4000;
        let (mut parsed, mut repaired) = (0, 0);
        for case in 0..CASES {
            let mut bytes = text.clone();
            match case % 4 {
                0 => bytes.truncate(next(bytes.len())),
                1 => {
                    for _ in 0..1 + next(4) {
                        let at = next(bytes.len());
                        bytes[at] ^= 1 << next(8);
                    }
                }
                2 => {
                    let at = next(bytes.len());
                    bytes.remove(at);
                }
                _ => {
                    let at = next(bytes.len());
                    let b = bytes[at];
                    bytes.insert(at, b);
                }
            }
            let Ok(mut state) = serde_json::from_slice::<PluginState>(&bytes) else {
                continue;
            };
            parsed += 1;
            repair(&mut state);
            if !report(&state).is_empty() {
                repaired += 1;
            }
            // Complete: every parameter and field this version knows is there.
            for id in defaults.params.keys() {
                assert!(state.params.contains_key(id), "case {case}: {id} missing");
            }
            for (key, _) in FIELDS {
                assert!(state.fields.contains_key(key), "case {case}: {key} missing");
            }
            let mut again = state.clone();
            repair(&mut again);
            assert_eq!(report(&again), Vec::<String>::new(), "case {case}");
        }
        eprintln!(
            "{parsed} of {CASES} damaged states parsed as a state; {repaired} needed a repair"
        );
        // The damage must reach `repair`: many states parse, and a good share of those hold a
        // value that had to be set back (else the loop tests only the JSON parser).
        assert!(
            parsed > CASES / 4,
            "only {parsed} of the damaged states parsed as a state"
        );
        assert!(
            repaired > parsed / 10,
            "only {repaired} of {parsed} parsed states needed a repair"
        );
    }
}
