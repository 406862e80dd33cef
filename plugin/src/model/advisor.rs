//! The gain-staging advisor: three ways to reach a target listening level on the user's chain,
//! side by side (docs/chain.md, "The gain-staging advisor": approaches A/B/C).
//!
//! - A, source-first: digital at unity, no pad, set the source's analog volume.
//! - B, inline attenuation: digital at unity, a pad or adapter from the catalog, the source
//!   turned up to make up for it.
//! - C, digital-first: the analog chain as it is, the level set by digital attenuation.

use serde::Serialize;

use super::attenuator::Network;
use super::catalog::Catalog;
use super::chain::{Chain, ChainReport, ClipLimit, ClipPoint};
use super::source::VOLUME_DB;
use super::units::Range;
use super::volume::VolumeControl;
use super::{Attenuator, from_db};

/// A level this close below the target counts as reaching it, dB (the report's 0.1 dB
/// resolution).
const REACHED_WITHIN_DB: f64 = 0.05;

/// Hiss above this can be heard in a quiet room: the threshold of hearing is ≈ 0 dB SPL between
/// 1 and 5 kHz (ISO 226), where A-weighted hiss concentrates.
pub const HISS_AUDIBLE_DBA: f64 = 0.0;
/// The target levels the advisor takes, dB SPL (or dBA): from the threshold of hearing to the
/// threshold of pain.
pub const TARGET_SPL_DB: Range = Range::new(0.0, 140.0);
/// A broadband tilt or shelf of this size is audible on music (about the just-noticeable level
/// difference for broadband changes).
pub const COLORATION_AUDIBLE_DB: f64 = 1.0;
/// Programme is assumed to peak at this true peak when judging headroom, dBTP.
pub const PROGRAMME_PEAK_DBTP: f64 = 0.0;

/// What the user wants to hear.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "db", rename_all = "snake_case")]
pub enum Target {
    /// LAeq at the eardrum of −20 dBFS RMS pink noise, dBA (the reference-level convention).
    Laeq(f64),
    /// SPL of a 0 dBFS sine at 1 kHz: the loudest the chain will play, dB.
    PeakSpl(f64),
}

impl Target {
    /// This target's level on `chain`, dB.
    fn level_of(self, chain: &Chain) -> f64 {
        match self {
            Target::Laeq(_) => chain.pink_reference_laeq_dba(),
            Target::PeakSpl(_) => chain.spl_at_full_scale_db(),
        }
    }

    fn db(self) -> f64 {
        match self {
            Target::Laeq(db) | Target::PeakSpl(db) => db,
        }
    }
}

/// One approach, evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Approach {
    pub label: char,
    pub name: &'static str,
    /// The settings, in words.
    pub setting: String,
    pub volume_db: f64,
    pub attenuator: String,
    /// Digital attenuation used, dB (≥ 0).
    pub digital_attenuation_db: f64,
    /// Level reached, in the target's unit; below the target if the approach runs out of gain.
    pub level_db: f64,
    pub reaches_target: bool,
    /// The volume cannot go low enough: the level stays above the target.
    pub overshoots_target: bool,
    pub hiss_spl_dba: f64,
    /// The digital path's dithered noise floor at the eardrum, dBA (the path's bit depth at this
    /// analog setting; digital attenuation does not lower it).
    pub dither_noise_spl_dba: f64,
    /// Headroom of the source's output stage for programme peaking at 0 dBTP.
    pub headroom_db: f64,
    /// Where the source's output stage clips into this approach's load.
    pub clip: ClipPoint,
    /// Whether the volume setting is in the part of the control's travel it is specified for
    /// (`null`: the source does not say how its volume is set).
    pub volume_in_usable_range: Option<bool>,
    pub coloration_pp_db: f64,
    /// The limits this approach runs into ("none" if it meets every one).
    pub limits: Vec<String>,
}

/// The three approaches and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Advice {
    pub target: Target,
    pub approaches: Vec<Approach>,
    /// Label of the approach to use.
    pub recommended: char,
    /// Which limit decides, in a sentence.
    pub verdict: String,
}

/// Whether an approach sets the source's volume to meet the target (A and B) or takes the
/// setting it finds (C).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Volume {
    Set,
    AsFound,
}

fn evaluate(
    label: char,
    name: &'static str,
    chain: &Chain,
    digital_db: f64,
    target: Target,
    volume: Volume,
) -> Approach {
    let level = target.level_of(chain) - digital_db;
    let report: ChainReport = chain.report(&[], PROGRAMME_PEAK_DBTP - digital_db);
    let control = chain.source.volume_control;
    // A stepped control set for the target lands within half a step of it.
    let within = REACHED_WITHIN_DB
        + match (volume, control) {
            (Volume::Set, Some(c)) => c.resolution_db(),
            _ => 0.0,
        };
    let reaches = level >= target.db() - within;
    let overshoots = level > target.db() + within;
    let mut limits = Vec::new();
    if !reaches {
        limits.push(format!(
            "falls {:.1} dB short of the target",
            target.db() - level
        ));
    }
    if overshoots {
        limits.push(format!(
            "plays {:.1} dB above the target: the {}'s quietest setting is {:+.0} dB",
            level - target.db(),
            control.map_or("volume", |c| c.noun()),
            control.map_or(VOLUME_DB.min, |c| c.quietest_db()),
        ));
    } else if let (Volume::Set, Some(c)) = (volume, control) {
        limits.extend(step_limit(&c, chain.source.volume_db, level - target.db()));
    }
    if report.headroom_db < 0.0 {
        limits.push(clip_text(chain, &report, digital_db));
    }
    if let Some(limit) = control.and_then(|c| c.limit(chain.source.volume_db)) {
        limits.push(limit);
    }
    if report.hiss_spl_dba > HISS_AUDIBLE_DBA {
        limits.push(format!("audible hiss ({:.1} dBA)", report.hiss_spl_dba));
    }
    let dither = report.dither_noise_spl_dba;
    if dither > HISS_AUDIBLE_DBA {
        limits.push(format!(
            "audible {}-bit dither floor ({dither:.1} dBA)",
            report.path_bits
        ));
    } else if digital_db > 0.0 && report.hiss_spl_dba.is_finite() && dither > report.hiss_spl_dba {
        limits.push(format!(
            "the {}-bit dither floor ({dither:.1} dBA) is above the analog hiss",
            report.path_bits
        ));
    }
    if report.coloration_pp_db > COLORATION_AUDIBLE_DB {
        limits.push(format!(
            "audible coloration ({:.1} dB p-p)",
            report.coloration_pp_db
        ));
    }
    let setting = format!(
        "volume {:+.1} dB, {}, digital {:+.1} dB",
        chain.source.volume_db,
        if chain.attenuator.name == "none" {
            "no pad".into()
        } else {
            chain.attenuator.name.clone()
        },
        0.0 - digital_db
    );
    Approach {
        label,
        name,
        setting,
        volume_db: chain.source.volume_db,
        attenuator: chain.attenuator.name.clone(),
        digital_attenuation_db: digital_db,
        level_db: level,
        reaches_target: reaches,
        overshoots_target: overshoots,
        hiss_spl_dba: report.hiss_spl_dba,
        dither_noise_spl_dba: dither,
        headroom_db: report.headroom_db,
        clip: report.clip,
        volume_in_usable_range: control.map(|c| c.usable(chain.source.volume_db)),
        coloration_pp_db: report.coloration_pp_db,
        limits,
    }
}

/// What a stepped or digital control set for the target runs into: steps so coarse the
/// nearest lands audibly off it. `miss_db` is the level reached minus the target.
fn step_limit(control: &VolumeControl, setting_db: f64, miss_db: f64) -> Option<String> {
    let half_step = control.resolution_db();
    (half_step > 0.0 && miss_db.abs() > COLORATION_AUDIBLE_DB).then(|| {
        format!(
            "the {}'s {:.1} dB steps land {:.1} dB {} the target (at {setting_db:+.1} dB)",
            control.noun(),
            2.0 * half_step,
            miss_db.abs(),
            if miss_db > 0.0 { "above" } else { "below" },
        )
    })
}

/// Where and why the source clips, in a sentence: at its output stage, which is ahead of any
/// pad — a pad lowers the level after the clip and cannot undo it.
fn clip_text(chain: &Chain, report: &ChainReport, digital_db: f64) -> String {
    let clip = &report.clip;
    let over = -report.headroom_db;
    let padded = !matches!(chain.attenuator.network, Network::None);
    let place = if padded {
        "clips at the source, ahead of the pad (a pad cannot undo clipping upstream)"
    } else {
        "clips at the source's output stage"
    };
    match clip.limit {
        ClipLimit::Voltage => format!(
            "{place}: peaks {over:.1} dB over its {:.2} Vrms swing",
            clip.emf_vrms
        ),
        ClipLimit::Current { max_current_ma } => format!(
            "{place}: the {} {:.1} Ω load draws {:.0} mA at the peaks, {over:.1} dB over the \
             {max_current_ma:.0} mA the output stage gives",
            if padded { "pad's" } else { "IEM's" },
            clip.load_ohms,
            clip.full_scale_current_ma * from_db(PROGRAMME_PEAK_DBTP - digital_db),
        ),
    }
}

/// `chain` with the source volume set so that `target` is met (capped at the maximum, 0 dB, and
/// at the bottom of the volume range), on the control's nearest step when it is stepped.
fn with_volume_for(chain: &Chain, target: Target) -> Chain {
    let mut c = chain.clone();
    c.source.volume_db = 0.0;
    let wanted = target.db() - target.level_of(&c);
    c.source.volume_db = match c.source.volume_control {
        Some(control) => control.nearest(wanted),
        None => wanted.clamp(VOLUME_DB.min, 0.0),
    };
    c
}

/// Approach B: the catalog pad that lets the source reach the target with the least hiss, among
/// those that keep coloration inaudible if any do.
fn best_pad(chain: &Chain, target: Target, catalog: &Catalog) -> Approach {
    let mut pads: Vec<Attenuator> = catalog
        .attenuators
        .iter()
        .filter(|a| !matches!(a.network, Network::None))
        .cloned()
        .collect();
    if !matches!(chain.attenuator.network, Network::None)
        && !pads.iter().any(|p| p.network == chain.attenuator.network)
    {
        pads.push(chain.attenuator.clone());
    }
    let candidates: Vec<Approach> = pads
        .into_iter()
        .map(|pad| {
            let mut c = chain.clone();
            c.attenuator = pad;
            evaluate(
                'B',
                "inline attenuation",
                &with_volume_for(&c, target),
                0.0,
                target,
                Volume::Set,
            )
        })
        .collect();
    let rank = |a: &Approach| {
        (
            !a.reaches_target,
            a.headroom_db < 0.0,
            a.coloration_pp_db > COLORATION_AUDIBLE_DB,
        )
    };
    candidates
        .into_iter()
        .min_by(|x, y| {
            rank(x)
                .cmp(&rank(y))
                .then(x.hiss_spl_dba.total_cmp(&y.hiss_spl_dba))
                .then(x.coloration_pp_db.total_cmp(&y.coloration_pp_db))
        })
        .expect("the catalog has pads (checked by its tests)")
}

/// Evaluates A, B and C for `target` on `chain` and says which to use and why.
pub fn advise(chain: &Chain, target: Target, catalog: &Catalog) -> Advice {
    let mut bare = chain.clone();
    bare.attenuator = Attenuator::none();
    let a = evaluate(
        'A',
        "source-first",
        &with_volume_for(&bare, target),
        0.0,
        target,
        Volume::Set,
    );
    let b = best_pad(chain, target, catalog);
    let digital = (target.level_of(chain) - target.db()).max(0.0);
    let c = evaluate(
        'C',
        "digital-first",
        chain,
        digital,
        target,
        Volume::AsFound,
    );
    let approaches = vec![a, b, c];

    let rank = |x: &Approach| {
        (
            !x.reaches_target,
            x.headroom_db < 0.0,
            usize::from(x.hiss_spl_dba > HISS_AUDIBLE_DBA)
                + usize::from(x.dither_noise_spl_dba > HISS_AUDIBLE_DBA)
                + usize::from(x.coloration_pp_db > COLORATION_AUDIBLE_DB)
                + usize::from(x.volume_in_usable_range == Some(false))
                + usize::from(x.overshoots_target),
        )
    };
    let best = approaches
        .iter()
        .min_by(|x, y| {
            // Equal on the limits: less hiss, then less coloration (a noiseless source has no
            // hiss to tell the approaches apart).
            rank(x)
                .cmp(&rank(y))
                .then(x.hiss_spl_dba.total_cmp(&y.hiss_spl_dba))
                .then(x.coloration_pp_db.total_cmp(&y.coloration_pp_db))
        })
        .expect("three approaches");
    let verdict = verdict(best, &approaches);
    Advice {
        target,
        recommended: best.label,
        verdict,
        approaches,
    }
}

/// One sentence: what the recommended approach avoids that the others run into.
fn verdict(best: &Approach, all: &[Approach]) -> String {
    let others: Vec<String> = all
        .iter()
        .filter(|a| a.label != best.label)
        .map(|a| match a.limits.first() {
            Some(limit) => format!("{} {}", a.label, limit),
            None => format!("{} has {}", a.label, hiss_text(a.hiss_spl_dba)),
        })
        .collect();
    let own = if best.limits.is_empty() {
        "meets every limit".to_owned()
    } else {
        format!("is the least bad, with {}", best.limits.join(" and "))
    };
    // The hiss is said once: among the limits when it is one, else as a figure.
    let hiss = if best.hiss_spl_dba > HISS_AUDIBLE_DBA {
        String::new()
    } else if best.limits.is_empty() {
        format!(", with {}", hiss_text(best.hiss_spl_dba))
    } else {
        format!(" and {}", hiss_text(best.hiss_spl_dba))
    };
    let decides = if all.iter().any(|a| !a.reaches_target) {
        "available gain"
    } else if all.iter().any(|a| a.headroom_db < 0.0) {
        "headroom"
    } else if all.iter().any(|a| a.hiss_spl_dba > HISS_AUDIBLE_DBA) {
        "hiss"
    } else if all.iter().all(|a| a.hiss_spl_dba == best.hiss_spl_dba) {
        "coloration (no approach has any hiss to tell them apart)"
    } else if all
        .iter()
        .any(|a| a.coloration_pp_db > COLORATION_AUDIBLE_DB)
    {
        "coloration"
    } else {
        "hiss (all approaches are clean; the lowest hiss wins)"
    };
    format!(
        "{decides} decides: {} ({}) {own}{hiss}; {}.",
        best.label,
        best.name,
        others.join("; ")
    )
}

/// The hiss as the verdict says it: a level, or none at all for a noiseless source.
fn hiss_text(dba: f64) -> String {
    if dba.is_finite() {
        format!("{dba:.1} dBA hiss")
    } else {
        "no hiss (a noiseless source)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cable, Iem, Sensitivity, Source};

    /// A chain to work by hand: a 1 Vrms, 0 Ω, noiseless source at full volume, no pad and no
    /// cable, into a resistive 16 Ω IEM of 100 dB SPL/V. H = 16/(16 + 0) = 1, so a 0 dBFS sine
    /// plays 100 + 20·log10(1 V · 1) = 100 dB SPL, exactly.
    fn flat_chain() -> Chain {
        Chain {
            source: Source::ideal(1.0),
            attenuator: Attenuator::none(),
            cable: Cable::default(),
            iem: Iem::resistive(16.0, Sensitivity::DbPerV(100.0)).tuned_flat(),
        }
    }

    mod target {
        use super::*;

        #[test]
        fn db_is_the_number_either_target_carries() {
            assert_eq!(Target::Laeq(83.0).db(), 83.0);
            assert_eq!(Target::PeakSpl(-3.5).db(), -3.5);
        }

        /// A peak-SPL target is measured as S_V + 20·log10(V_fs·g·|H|): 100 dB on the flat chain;
        /// with a 2 V source 100 + 20·log10(2) = 106.02; at −6 dB of volume 100 − 6 = 94 (both to
        /// 1e-12: a power and a logarithm near 100, an ulp there is 1.4e-14).
        #[test]
        fn peak_spl_level_is_the_sensitivity_plus_the_full_scale_emf() {
            let mut chain = flat_chain();
            assert_eq!(Target::PeakSpl(0.0).level_of(&chain), 100.0);
            chain.source.vfs_volts = 2.0;
            let want = 100.0 + 20.0 * std::f64::consts::LOG10_2;
            assert!((Target::PeakSpl(0.0).level_of(&chain) - want).abs() < 1e-12);
            chain.source.vfs_volts = 1.0;
            chain.source.volume_db = -6.0;
            assert!((Target::PeakSpl(0.0).level_of(&chain) - 94.0).abs() < 1e-12);
        }
    }

    mod with_volume_for {
        use super::*;

        /// The volume is the target minus the level at full volume, whatever it was set to
        /// before: 94 − 100 = −6 dB.
        #[test]
        fn sets_the_volume_to_the_shortfall_from_full_volume() {
            let mut chain = flat_chain();
            chain.source.volume_db = -40.0;
            let set = with_volume_for(&chain, Target::PeakSpl(94.0));
            assert_eq!(set.source.volume_db, -6.0);
            assert_eq!(set.iem, chain.iem);
        }

        /// The volume cannot go above full (0 dB): 110 dB on a 100 dB chain stays at 0 and falls
        /// short. Nor below the −120 dB floor: −30 dB SPL would need −130.
        #[test]
        fn clamps_to_full_volume_and_the_floor() {
            let chain = flat_chain();
            assert_eq!(
                with_volume_for(&chain, Target::PeakSpl(110.0))
                    .source
                    .volume_db,
                0.0
            );
            assert_eq!(
                with_volume_for(&chain, Target::PeakSpl(-30.0))
                    .source
                    .volume_db,
                -120.0
            );
        }
    }

    mod evaluate {
        use super::*;

        /// 6 dB of digital attenuation on the 100 dB chain: 100 − 6 = 94 dB, the target; peaks at
        /// −6 dBTP leave 20·log10(1/10^(−6/20)) = 6 dB of headroom (to 1e-12); no hiss, no
        /// coloration, so no limits.
        #[test]
        fn digital_attenuation_lowers_the_level_db_for_db() {
            let c = evaluate(
                'C',
                "digital-first",
                &flat_chain(),
                6.0,
                Target::PeakSpl(94.0),
                Volume::AsFound,
            );
            assert_eq!(c.level_db, 94.0);
            assert_eq!(c.digital_attenuation_db, 6.0);
            assert!(c.reaches_target);
            assert!((c.headroom_db - 6.0).abs() < 1e-12, "{}", c.headroom_db);
            assert_eq!(c.coloration_pp_db, 0.0);
            assert!(c.limits.is_empty(), "{:?}", c.limits);
            assert_eq!(c.setting, "volume +0.0 dB, no pad, digital -6.0 dB");
        }

        /// Within 0.05 dB of the target counts as reaching it: 100 − 6.04 = 93.96 does, 100 −
        /// 6.06 = 93.94 does not, and the shortfall of 0.06 dB is reported to 0.1 dB.
        #[test]
        fn a_level_within_0_05_db_of_the_target_reaches_it() {
            let target = Target::PeakSpl(94.0);
            let c = |db| {
                evaluate(
                    'C',
                    "digital-first",
                    &flat_chain(),
                    db,
                    target,
                    Volume::AsFound,
                )
            };
            assert!(c(6.04).reaches_target);
            let short = c(6.06);
            assert!(!short.reaches_target);
            assert_eq!(short.limits, ["falls 0.1 dB short of the target"]);
        }

        /// Every limit crossed is named, in order: 100 dB for a 101 dB target is 1.0 dB short; a
        /// 0.5 V clip point under a 1 V full-scale EMF is 20·log10(2) = 6.0 dB over; 20 µV of
        /// hiss at 100 dB/V through a flat chain is 100 + 20·log10(20e-6) = 6.02 dBA (to 1e-12).
        #[test]
        fn each_limit_crossed_is_named_in_order() {
            let mut chain = flat_chain();
            chain.source.clip_volts = Some(0.5);
            chain.source.noise_uv = 20.0;
            let a = evaluate(
                'A',
                "source-first",
                &chain,
                0.0,
                Target::PeakSpl(101.0),
                Volume::Set,
            );
            let hiss = 100.0 + 20.0 * (std::f64::consts::LOG10_2 - 5.0);
            assert!((a.hiss_spl_dba - hiss).abs() < 1e-12, "{}", a.hiss_spl_dba);
            assert_eq!(
                a.limits,
                [
                    "falls 1.0 dB short of the target",
                    "clips at the source's output stage: peaks 6.0 dB over its 0.50 Vrms swing",
                    "audible hiss (6.0 dBA)",
                ]
            );
        }
    }

    mod advise {
        use super::*;

        /// The flat chain, a 94 dB target and one 16 Ω series pad. A: volume 94 − 100 = −6 dB.
        /// B: the pad halves H (16/(16 + 16)), −6.02 dB, so full volume gives 93.98 dB, within
        /// 0.05 dB of the target. C: 100 − 94 = 6 dB of digital attenuation. For a 110 dB
        /// target C cannot boost: its attenuation stays 0.
        #[test]
        fn the_three_approaches_by_hand() {
            let catalog = Catalog {
                iems: Vec::new(),
                sources: Vec::new(),
                attenuators: vec![Attenuator {
                    name: "16 Ω series".into(),
                    network: Network::Series { ohms: 16.0 },
                    provenance: String::new(),
                }],
            };
            let advice = advise(&flat_chain(), Target::PeakSpl(94.0), &catalog);
            let [a, b, c] = [
                &advice.approaches[0],
                &advice.approaches[1],
                &advice.approaches[2],
            ];
            assert_eq!(a.volume_db, -6.0);
            assert_eq!(b.volume_db, 0.0);
            let pad_level = 100.0 - 20.0 * std::f64::consts::LOG10_2;
            assert!((b.level_db - pad_level).abs() < 1e-12, "{}", b.level_db);
            assert!(b.reaches_target);
            assert_eq!(c.digital_attenuation_db, 6.0);

            let advice = advise(&flat_chain(), Target::PeakSpl(110.0), &catalog);
            assert_eq!(advice.approaches[2].digital_attenuation_db, 0.0);
        }

        /// A noiseless source has −inf dBA hiss on every approach, so hiss cannot rank them:
        /// with the limits equal, the one with less coloration wins, and the verdict names no
        /// "-inf" level. The SE846 (a multi-BA IEM, 9 Ω at its minimum) on a noiseless 10 Ω,
        /// 1 Vrms source at an 83 dB target: the catalog's pads lower the output impedance the
        /// IEM sees, so B colours less than A.
        #[test]
        fn a_noiseless_source_is_ranked_by_coloration() {
            let catalog = Catalog::builtin();
            let mut source = Source::ideal(1.0);
            source.output_ohms = 10.0;
            let chain = Chain {
                source,
                attenuator: Attenuator::none(),
                cable: Cable::default(),
                iem: catalog.iem("se846").unwrap().clone(),
            };
            let advice = advise(&chain, Target::Laeq(83.0), &catalog);
            assert!(
                advice
                    .approaches
                    .iter()
                    .all(|a| a.hiss_spl_dba == f64::NEG_INFINITY)
            );
            let best = advice
                .approaches
                .iter()
                .find(|a| a.label == advice.recommended)
                .unwrap();
            let a = &advice.approaches[0];
            let b = &advice.approaches[1];
            assert!(b.coloration_pp_db < a.coloration_pp_db, "{b:?} vs {a:?}");
            for other in &advice.approaches {
                if other.reaches_target == best.reaches_target
                    && (other.headroom_db < 0.0) == (best.headroom_db < 0.0)
                    && other.limits.len() == best.limits.len()
                {
                    assert!(
                        best.coloration_pp_db <= other.coloration_pp_db,
                        "{} recommended over {} with more coloration: {}",
                        best.label,
                        other.label,
                        advice.verdict
                    );
                }
            }
            assert_ne!(advice.recommended, 'A', "{}", advice.verdict);
            assert!(!advice.verdict.contains("inf"), "{}", advice.verdict);
        }
    }

    /// The volume control's usable range and the clip ahead of the pad, worked by hand on the
    /// flat chain (100 dB for a 0 dBFS sine at full volume).
    mod limits {
        use super::*;

        /// A 20 dB pad: a 144 Ω series resistor into the 16 Ω IEM, H = 16/160 = 0.1 exactly.
        fn catalog_with_a_20_db_pad() -> Catalog {
            Catalog {
                iems: Vec::new(),
                sources: Vec::new(),
                attenuators: vec![Attenuator {
                    name: "144 Ω series".into(),
                    network: Network::Series { ohms: 144.0 },
                    provenance: String::new(),
                }],
            }
        }

        fn approach(advice: &Advice, label: char) -> &Approach {
            advice.approaches.iter().find(|a| a.label == label).unwrap()
        }

        /// A 50 dB target needs −50 dB of volume: below a pot tracked to −40 dB, so A is
        /// flagged; with the 20 dB pad B sets −30 dB, inside the tracked range, and is
        /// recommended. C keeps the user's 0 dB and attenuates digitally.
        #[test]
        fn the_bottom_of_a_pots_travel_is_flagged_and_a_pad_avoids_it() {
            let mut chain = flat_chain();
            chain.source.volume_control = Some(VolumeControl::Analog {
                tracked_to_db: -40.0,
                tracking_db: 3.0,
            });
            let advice = advise(&chain, Target::PeakSpl(50.0), &catalog_with_a_20_db_pad());
            let a = approach(&advice, 'A');
            assert_eq!(a.volume_db, -50.0);
            assert_eq!(a.volume_in_usable_range, Some(false));
            assert!(
                a.limits
                    .iter()
                    .any(|l| l.contains("bottom of the pot's travel"))
            );
            let b = approach(&advice, 'B');
            assert!((b.volume_db + 30.0).abs() < 1e-9, "{}", b.volume_db);
            assert_eq!(b.volume_in_usable_range, Some(true));
            assert!(b.limits.is_empty(), "{:?}", b.limits);
            assert_eq!(approach(&advice, 'C').volume_in_usable_range, Some(true));
            assert_ne!(advice.recommended, 'A', "{}", advice.verdict);
        }

        /// A digital volume of 16 steps of 3 dB stops at −45 dB: a 50 dB target plays 55 dB on
        /// A, 5 dB too loud (a sensitive IEM on a phone); B with the pad sets −30 dB, a step, and
        /// meets it. Steps of 4 dB land a 94 dB target's −6 dB on −8 dB, 2.0 dB below, within
        /// half a step (so it counts as reached) but audibly off: flagged.
        #[test]
        fn a_stepped_control_lands_on_steps_and_stops_at_its_quietest() {
            let mut chain = flat_chain();
            chain.source.volume_control = Some(VolumeControl::Digital {
                step_db: 3.0,
                steps: 16,
            });
            let advice = advise(&chain, Target::PeakSpl(50.0), &catalog_with_a_20_db_pad());
            let a = approach(&advice, 'A');
            assert_eq!((a.volume_db, a.level_db), (-45.0, 55.0));
            assert!(a.overshoots_target && a.reaches_target);
            assert_eq!(
                a.limits,
                ["plays 5.0 dB above the target: the digital volume's quietest setting is -45 dB"]
            );
            let b = approach(&advice, 'B');
            assert!((b.level_db - 50.0).abs() < 1e-9 && !b.overshoots_target);
            assert_ne!(advice.recommended, 'A', "{}", advice.verdict);

            chain.source.volume_control = Some(VolumeControl::Digital {
                step_db: 4.0,
                steps: 16,
            });
            let a = evaluate(
                'A',
                "source-first",
                &with_volume_for(&chain, Target::PeakSpl(94.0)),
                0.0,
                Target::PeakSpl(94.0),
                Volume::Set,
            );
            assert_eq!((a.volume_db, a.level_db), (-8.0, 92.0));
            assert!(a.reaches_target && !a.overshoots_target);
            assert_eq!(
                a.limits,
                ["the digital volume's 4.0 dB steps land 2.0 dB below the target (at -8.0 dB)"]
            );
        }

        /// A 4 V source that gives at most 50 mA, a 94 dB target. A: the EMF is
        /// 10^(−6/20) = 0.501 V into 16 Ω, 31 mA: clean. B, through a 3.6 Ω / 1.2 Ω L-pad
        /// (H = 1.2‖16 / (3.6 + 1.2‖16)): the source is turned up to an EMF of 0.501/H = 2.12 V
        /// into Z_in = 4.72 Ω, 449 mA, while the stage clips at 0.05·4.72 = 0.236 V; headroom
        /// 20·log10(0.05·Z_in·H/0.501) (to 1e-9). The advisor says the clip is at the source,
        /// ahead of the pad, and does not recommend B.
        #[test]
        fn a_low_impedance_pad_clips_the_source_ahead_of_it() {
            let mut chain = flat_chain();
            chain.source.vfs_volts = 4.0;
            chain.source.max_current_ma = Some(50.0);
            let catalog = Catalog {
                iems: Vec::new(),
                sources: Vec::new(),
                attenuators: vec![Attenuator {
                    name: "L-pad 3.6/1.2".into(),
                    network: Network::LPad {
                        series_ohms: 3.6,
                        shunt_ohms: 1.2,
                    },
                    provenance: String::new(),
                }],
            };
            let advice = advise(&chain, Target::PeakSpl(94.0), &catalog);
            let a = approach(&advice, 'A');
            assert!(a.headroom_db > 0.0 && a.limits.is_empty(), "{a:?}");
            let b = approach(&advice, 'B');
            let shunt = 1.2 * 16.0 / 17.2;
            let (z_in, h) = (3.6 + shunt, shunt / (3.6 + shunt));
            let emf = 10f64.powf(-6.0 / 20.0) / h;
            let want = 20.0 * (0.05 * z_in / emf).log10();
            assert!(
                (b.headroom_db - want).abs() < 1e-9,
                "{} vs {want}",
                b.headroom_db
            );
            assert!(
                matches!(b.clip.limit, ClipLimit::Current { max_current_ma } if max_current_ma == 50.0)
            );
            let clip = b.limits.iter().find(|l| l.starts_with("clips")).unwrap();
            assert!(
                clip.contains("ahead of the pad")
                    && clip.contains("cannot undo")
                    && clip.contains(&format!("{:.0} mA", 1e3 * emf / z_in))
                    && clip.contains(&format!("{:.1} dB over the 50 mA", -want)),
                "{clip}"
            );
            assert_eq!(advice.recommended, 'A', "{}", advice.verdict);
        }
    }
}
