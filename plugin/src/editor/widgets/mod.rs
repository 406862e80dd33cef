//! Small reusable pieces of the editor.

pub mod meter_bar;
pub mod response_plot;
