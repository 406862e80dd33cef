//! The gain-staging advisor: three ways to reach a target listening level on the user's chain,
//! side by side (docs/chain.md, "The gain-staging advisor": approaches A/B/C).
//!
//! - A, source-first: digital at unity, no pad, set the source's analog volume.
//! - B, inline attenuation: digital at unity, a pad or adapter from the catalog, the source
//!   turned up to make up for it.
//! - C, digital-first: the analog chain as it is, the level set by digital attenuation.

use serde::Serialize;

use super::Attenuator;
use super::attenuator::Network;
use super::catalog::Catalog;
use super::chain::{Chain, ChainReport};

/// Hiss above this can be heard in a quiet room: the threshold of hearing is ≈ 0 dB SPL between
/// 1 and 5 kHz (ISO 226), where A-weighted hiss concentrates.
pub const HISS_AUDIBLE_DBA: f64 = 0.0;
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
    pub hiss_spl_dba: f64,
    /// Headroom of the source's output stage for programme peaking at 0 dBTP.
    pub headroom_db: f64,
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

fn evaluate(
    label: char,
    name: &'static str,
    chain: &Chain,
    digital_db: f64,
    target: Target,
) -> Approach {
    let level = target.level_of(chain) - digital_db;
    let report: ChainReport = chain.report(&[], PROGRAMME_PEAK_DBTP - digital_db);
    let reaches = level >= target.db() - 0.05;
    let mut limits = Vec::new();
    if !reaches {
        limits.push(format!(
            "falls {:.1} dB short of the target",
            target.db() - level
        ));
    }
    if report.headroom_db < 0.0 {
        limits.push(format!(
            "clips: {:.1} dB over the output stage",
            -report.headroom_db
        ));
    }
    if report.hiss_spl_dba > HISS_AUDIBLE_DBA {
        limits.push(format!("audible hiss ({:.1} dBA)", report.hiss_spl_dba));
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
        hiss_spl_dba: report.hiss_spl_dba,
        headroom_db: report.headroom_db,
        coloration_pp_db: report.coloration_pp_db,
        limits,
    }
}

/// `chain` with the source volume set so that `target` is met (capped at the maximum, 0 dB).
fn with_volume_for(chain: &Chain, target: Target) -> Chain {
    let mut c = chain.clone();
    c.source.volume_db = 0.0;
    c.source.volume_db = (target.db() - target.level_of(&c)).clamp(-120.0, 0.0);
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
    );
    let b = best_pad(chain, target, catalog);
    let digital = (target.level_of(chain) - target.db()).max(0.0);
    let c = evaluate('C', "digital-first", chain, digital, target);
    let approaches = vec![a, b, c];

    let rank = |x: &Approach| {
        (
            !x.reaches_target,
            x.headroom_db < 0.0,
            usize::from(x.hiss_spl_dba > HISS_AUDIBLE_DBA)
                + usize::from(x.coloration_pp_db > COLORATION_AUDIBLE_DB),
        )
    };
    let best = approaches
        .iter()
        .min_by(|x, y| {
            rank(x)
                .cmp(&rank(y))
                .then(x.hiss_spl_dba.total_cmp(&y.hiss_spl_dba))
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
            None => format!("{} has {:.1} dBA hiss", a.label, a.hiss_spl_dba),
        })
        .collect();
    let own = if best.limits.is_empty() {
        "meets every limit".to_owned()
    } else {
        format!("is the least bad ({})", best.limits.join(", "))
    };
    let decides = if all.iter().any(|a| !a.reaches_target) {
        "available gain"
    } else if all.iter().any(|a| a.headroom_db < 0.0) {
        "headroom"
    } else if all.iter().any(|a| a.hiss_spl_dba > HISS_AUDIBLE_DBA) {
        "hiss"
    } else if all
        .iter()
        .any(|a| a.coloration_pp_db > COLORATION_AUDIBLE_DB)
    {
        "coloration"
    } else {
        "hiss (all approaches are clean; the lowest hiss wins)"
    };
    format!(
        "{decides} decides: {} ({}) {own}, with {:.1} dBA hiss; {}.",
        best.label,
        best.name,
        best.hiss_spl_dba,
        others.join("; ")
    )
}
