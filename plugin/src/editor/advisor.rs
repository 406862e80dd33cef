//! The gain-staging advisor in the chain column: a target listening level, the three ways to
//! reach it on the user's chain (source-first, a pad, digital-first) with every limit each runs
//! into — hiss, the dither floor, headroom and where the clipping happens, the volume control's
//! usable range — and the one to use.

use crate::model::Chain;
use crate::model::advisor::{Advice, TARGET_SPL_DB, Target, advise};
use crate::model::catalog::Catalog;

use super::week::WARNING;

/// The target the panel starts with: −20 dBFS pink noise at 80 dBA, a common reference level for
/// near-field mixing.
const DEFAULT_TARGET_DBA: f64 = 80.0;

/// The advice for one chain and target, made when either changes.
pub struct AdvisorView {
    catalog: Catalog,
    target_dba: f64,
    made_for: Option<(Chain, f64)>,
    advice: Option<Advice>,
}

impl AdvisorView {
    pub fn new() -> Self {
        Self {
            catalog: Catalog::builtin(),
            target_dba: DEFAULT_TARGET_DBA,
            made_for: None,
            advice: None,
        }
    }

    /// The advice for `chain` at the current target, redone only when one of them changed.
    fn advice_for(&mut self, chain: &Chain) -> &Advice {
        let key = (chain.clone(), self.target_dba);
        if self.made_for.as_ref() != Some(&key) || self.advice.is_none() {
            self.advice = Some(advise(chain, Target::Laeq(self.target_dba), &self.catalog));
            self.made_for = Some(key);
        }
        self.advice.as_ref().expect("made above")
    }
}

pub fn show(ui: &mut egui::Ui, chain: &Chain, view: &mut AdvisorView) {
    ui.horizontal(|ui| {
        ui.label(egui::RichText::new("Reach a level").strong())
            .on_hover_text(
                "The gain-staging advisor: three ways to play −20 dBFS RMS pink noise at the \
                 target level on your chain, and which to use",
            );
        ui.add(
            egui::DragValue::new(&mut view.target_dba)
                .range(TARGET_SPL_DB.inclusive())
                .speed(0.2)
                .fixed_decimals(1)
                .suffix(" dBA"),
        )
        .on_hover_text("LAeq at the eardrum of −20 dBFS RMS pink noise");
    });
    let advice = view.advice_for(chain);
    for a in &advice.approaches {
        let recommended = a.label == advice.recommended;
        let title = format!("{} {}: {}", a.label, a.name, a.setting);
        let title = if recommended {
            egui::RichText::new(format!("{title} (recommended)"))
                .strong()
                .color(egui::Color32::from_rgb(110, 210, 110))
        } else {
            egui::RichText::new(title)
        };
        ui.label(title);
        ui.label(
            egui::RichText::new(format!(
                "   {:.1} dBA · hiss {} · dither {:.1} dBA · headroom {:+.1} dB · {:.1} dB p-p",
                a.level_db,
                level_text(a.hiss_spl_dba),
                a.dither_noise_spl_dba,
                a.headroom_db,
                a.coloration_pp_db
            ))
            .small(),
        );
        for limit in &a.limits {
            ui.label(
                egui::RichText::new(format!("   – {limit}"))
                    .small()
                    .color(WARNING),
            );
        }
    }
    ui.label(egui::RichText::new(&advice.verdict).small().weak());
    if let Some(control) = &chain.source.volume_control {
        ui.label(
            egui::RichText::new(format!("Source volume: {control}"))
                .small()
                .weak(),
        );
    }
}

/// A level, or "none" for a noiseless source.
fn level_text(dba: f64) -> String {
    if dba.is_finite() {
        format!("{dba:.1} dBA")
    } else {
        "none".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The advice is made again when the chain or the target changes, and only then.
    #[test]
    fn the_advice_follows_the_chain_and_the_target() {
        let catalog = Catalog::builtin();
        let mut chain = catalog.default_chain().unwrap();
        let mut view = AdvisorView::new();
        let first = view.advice_for(&chain).clone();
        assert_eq!(first, advise(&chain, Target::Laeq(80.0), &catalog));
        view.target_dba = 70.0;
        assert_eq!(view.advice_for(&chain).target, Target::Laeq(70.0));
        chain.source.volume_db -= 6.0;
        let moved = view.advice_for(&chain).clone();
        assert_eq!(moved, advise(&chain, Target::Laeq(70.0), &catalog));
        assert_eq!(view.made_for, Some((chain, 70.0)));
    }
}
