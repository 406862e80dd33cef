//! Eardrum (coupler) SPL to diffuse-field-equivalent SPL. IEM sensitivities are coupler figures,
//! close to eardrum pressure; exposure limits are free- or diffuse-field figures. The difference is
//! the diffuse-field → eardrum transfer, subtracted band by band before A-weighting
//! (DESIGN.md §4). Data: `data/field_to_eardrum.tsv` (Moore et al. 2016 tables, as shipped in
//! `shared/data/`).

use std::sync::LazyLock;

use super::curve::FrequencyResponse;

const TABLE: &str = include_str!("data/field_to_eardrum.tsv");

/// The table's (Hz, diffuse field → eardrum dB) rows, parsed once.
static DIFFUSE_TO_EARDRUM: LazyLock<FrequencyResponse> = LazyLock::new(|| {
    let rows = TABLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split('\t');
            let hz = f.next()?.trim().parse().ok()?;
            let _free_field: f64 = f.next()?.trim().parse().ok()?;
            let diffuse = f.next()?.trim().parse().ok()?;
            Some([hz, diffuse])
        })
        .collect();
    FrequencyResponse::new(rows).expect("the embedded table is valid (checked by the tests)")
});

/// The diffuse-field → eardrum transfer at `hz`, dB: linear in log frequency between table rows,
/// held at the table's ends (20 Hz and 16 kHz).
pub fn diffuse_to_eardrum_db(hz: f64) -> f64 {
    DIFFUSE_TO_EARDRUM.db_at(hz)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_values_and_interpolation() {
        assert_eq!(diffuse_to_eardrum_db(20.0), 0.0);
        assert_eq!(diffuse_to_eardrum_db(4000.0), 12.7);
        assert_eq!(diffuse_to_eardrum_db(16_000.0), 2.0);
        assert_eq!(diffuse_to_eardrum_db(20_000.0), 2.0);
        assert_eq!(diffuse_to_eardrum_db(5.0), 0.0);
        // Half way in log frequency between 4 and 5 kHz.
        let mid = (4000.0f64 * 5000.0).sqrt();
        assert!((diffuse_to_eardrum_db(mid) - (12.7 + 10.8) / 2.0).abs() < 1e-9);
        assert!(DIFFUSE_TO_EARDRUM.rows().len() >= 30);
    }
}
