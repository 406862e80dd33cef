//! Eardrum (coupler) SPL to diffuse-field-equivalent SPL. IEM sensitivities are coupler figures,
//! close to eardrum pressure; exposure limits are free- or diffuse-field figures. The difference is
//! the diffuse-field → eardrum transfer, subtracted band by band before A-weighting
//! (DESIGN.md §4). Data: `data/field_to_eardrum.tsv` (Moore et al. 2016 tables, as shipped in
//! `shared/data/`).

const TABLE: &str = include_str!("data/field_to_eardrum.tsv");

/// (Hz, diffuse field → eardrum gain dB) rows of the table, ascending.
fn rows() -> Vec<(f64, f64)> {
    TABLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split('\t');
            let hz = f.next()?.trim().parse().ok()?;
            let _free_field: f64 = f.next()?.trim().parse().ok()?;
            let diffuse = f.next()?.trim().parse().ok()?;
            Some((hz, diffuse))
        })
        .collect()
}

/// The diffuse-field → eardrum transfer at `hz`, dB: linear in log frequency between table rows,
/// held at the table's ends (20 Hz and 16 kHz).
pub fn diffuse_to_eardrum_db(hz: f64) -> f64 {
    let rows = rows();
    let (first, last) = (rows[0], rows[rows.len() - 1]);
    if hz <= first.0 {
        return first.1;
    }
    if hz >= last.0 {
        return last.1;
    }
    let upper = rows.partition_point(|r| r.0 <= hz);
    let (a, b) = (rows[upper - 1], rows[upper]);
    a.1 + (hz / a.0).ln() / (b.0 / a.0).ln() * (b.1 - a.1)
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
        assert!(rows().len() >= 30);
    }
}
