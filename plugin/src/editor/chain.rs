//! The chain section: pick the IEM, source and attenuator from the catalog, set the source's
//! volume, and read what the chain does — level, coloration, output impedance and the 1/8 rule,
//! SPL at full scale, hiss, headroom — with a coloration and impedance plot.

use crate::model::catalog::Catalog;
use crate::model::chain::ChainReport;
use crate::model::{Attenuator, Chain, ImpedanceModel, source};
use crate::persist::Stored;

use super::widgets::response_plot::{self, Curves};

/// What the panel shows for one chain, computed when the chain changes.
pub struct ChainView {
    catalog: Catalog,
    chain: Chain,
    report: ChainReport,
    curves: Curves,
}

impl ChainView {
    pub fn new(chain: &Chain) -> Self {
        let catalog = Catalog::builtin();
        Self {
            curves: Curves::new(chain, catalog_model(&catalog, chain)),
            catalog,
            chain: chain.clone(),
            report: chain.report(&[], 0.0),
        }
    }

    fn derive(&mut self, chain: &Chain) {
        self.chain = chain.clone();
        self.report = chain.report(&[], 0.0);
        self.curves = Curves::new(chain, catalog_model(&self.catalog, chain));
    }

    /// Follows the stored chain (a project load can replace it).
    fn refresh(&mut self, stored: &Chain) {
        if *stored != self.chain {
            self.derive(stored);
        }
    }
}

/// The catalog's model of the chain's IEM when its curve is a measurement (an import keeps the
/// catalog IEM's name).
fn catalog_model<'a>(catalog: &'a Catalog, chain: &Chain) -> Option<&'a ImpedanceModel> {
    if !matches!(chain.iem.impedance, ImpedanceModel::Measured { .. }) {
        return None;
    }
    catalog
        .iems
        .iter()
        .find(|iem| iem.name == chain.iem.name)
        .map(|iem| &iem.impedance)
        .filter(|model| !matches!(model, ImpedanceModel::Measured { .. }))
}

/// A catalog picker: the entry whose name matches is selected; picking one returns it.
pub(super) fn picker<T: Clone>(
    ui: &mut egui::Ui,
    label: &str,
    current: &str,
    entries: &[T],
    name: fn(&T) -> &str,
) -> Option<T> {
    let mut picked = None;
    ui.horizontal(|ui| {
        ui.label(label);
        egui::ComboBox::from_id_salt(label)
            .selected_text(current)
            .width(200.0)
            .show_ui(ui, |ui| {
                for entry in entries {
                    if ui
                        .selectable_label(name(entry) == current, name(entry))
                        .clicked()
                    {
                        picked = Some(entry.clone());
                    }
                }
            });
    });
    picked
}

pub fn show(ui: &mut egui::Ui, stored: &Stored<Chain>, view: &mut ChainView) {
    let chain = stored.get();
    view.refresh(&chain);
    ui.label(egui::RichText::new("Your chain").strong());
    let edited = edit(ui, &chain, &view.catalog);
    if edited != chain {
        stored.replace(edited);
    }

    ui.add_space(4.0);
    report(ui, &view.report);
    ui.add_space(4.0);
    let width = ui.available_width().max(160.0);
    response_plot::show(ui, &view.curves, egui::vec2(width, 120.0));
    ui.label(
        egui::RichText::new(&view.chain.iem.provenance)
            .small()
            .weak(),
    );
}

/// The catalog pickers (IEM, source, pad) and the source's volume; the chain as edited.
fn edit(ui: &mut egui::Ui, chain: &Chain, catalog: &Catalog) -> Chain {
    let mut edited = chain.clone();
    if let Some(iem) = picker(ui, "IEM", &chain.iem.name, &catalog.iems, |e| &e.name) {
        edited.iem = iem;
    }
    if let Some(source) = picker(ui, "Source", &chain.source.name, &catalog.sources, |e| {
        &e.name
    }) {
        edited.source = source;
    }
    let attenuator_name = if chain.attenuator.name == Attenuator::none().name {
        "None"
    } else {
        &chain.attenuator.name
    };
    if let Some(attenuator) = picker(ui, "Pad", attenuator_name, &catalog.attenuators, |e| {
        &e.name
    }) {
        edited.attenuator = attenuator;
    }
    ui.horizontal(|ui| {
        ui.label("Source volume");
        ui.add(
            egui::DragValue::new(&mut edited.source.volume_db)
                .range(source::VOLUME_DB.inclusive())
                .speed(0.2)
                .suffix(" dB"),
        )
        .on_hover_text("The source's analog volume relative to its maximum");
    });
    edited
}

/// What the chain does: level and coloration, the 1/8 rule, SPL, hiss and headroom.
fn report(ui: &mut egui::Ui, r: &ChainReport) {
    ui.label(format!(
        "Level at 1 kHz {:+.1} dB · coloration {:.1} dB p-p",
        r.level_at_1k_db, r.coloration_pp_db
    ));
    let rule = if r.eighth_rule_met {
        "1/8 rule met"
    } else {
        "1/8 rule NOT met"
    };
    ui.label(format!(
        "Output {:.1} Ω into {:.1}–{:.1} Ω · {rule}",
        r.effective_output_impedance_ohms, r.iem_min_impedance_ohms, r.iem_max_impedance_ohms
    ));
    ui.label(format!(
        "0 dBFS plays {:.1} dB SPL · hiss {:.1} dBA",
        r.spl_at_full_scale_db, r.hiss_spl_dba
    ));
    ui.label(format!(
        "−20 dBFS pink plays {:.1} dBA · headroom {:+.1} dB",
        r.pink_reference_laeq_dba, r.headroom_db
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::curve::ImpedanceCurve;

    /// A measured curve on a catalog IEM shows the catalog's model beside it; a catalog curve, or
    /// a measured IEM the catalog does not know, shows none.
    #[test]
    fn the_model_is_shown_beside_a_measurement() {
        let catalog = Catalog::builtin();
        let mut chain = Chain {
            iem: catalog.iem("SE846").unwrap().clone(),
            ..catalog.default_chain().unwrap()
        };
        assert!(catalog_model(&catalog, &chain).is_none());
        let model = chain.iem.impedance.clone();
        chain.iem.impedance = ImpedanceModel::Measured {
            points: ImpedanceCurve::new(vec![[20.0, 5.0, 0.0], [20_000.0, 12.0, 40.0]]).unwrap(),
        };
        assert_eq!(catalog_model(&catalog, &chain), Some(&model));
        chain.iem.name = "my own".into();
        assert!(catalog_model(&catalog, &chain).is_none());
    }
}
