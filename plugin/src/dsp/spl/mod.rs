//! The SPL room: the eardrum pressure of what plays ([`pressure`]: the chain's filter bank in
//! pascals, A/C/Z weighting and the time weightings), the IEC 61672 weighting filters
//! ([`weighting`]), the exposure arithmetic and its saved totals ([`exposure`]) and the stage the
//! engine runs ([`stage`]).

pub mod exposure;
pub mod pressure;
pub mod stage;
pub mod weighting;
