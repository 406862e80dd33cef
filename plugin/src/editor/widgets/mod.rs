//! Small reusable pieces of the editor.

pub mod file_row;
pub mod meter_bar;
pub mod outcome;
pub mod param;
pub mod response_plot;
