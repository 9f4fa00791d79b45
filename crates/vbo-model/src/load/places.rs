//! Where the fields of a manifest are written.

use std::sync::Arc;

/// The line and column where each field under a manifest's `spec` is written, by dotted path
/// (`exchangeOnlineSettings.password`): what points a message about one field at its place.
///
/// Plan holds one for every manifest at once, so it is a sorted list rather than a map: a
/// dozen fields take a dozen entries, with nothing around them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPlaces(Box<[FieldPlace]>);

/// A field's dotted path, and the line and column where it is written (`u32`: a file of four
/// billion lines would not be read anyway, and plan holds thousands of these).
type FieldPlace = (Arc<str>, (u32, u32));

impl FieldPlaces {
    /// The line and column of the field at dotted `path`, if it is written.
    pub fn get(&self, path: &str) -> Option<(u64, u64)> {
        self.0
            .binary_search_by(|(field, _)| field.as_ref().cmp(path))
            .ok()
            .map(|index| widen(self.0[index].1))
    }

    /// Every field, by path in sorted order, with its line and column.
    pub fn iter(&self) -> impl Iterator<Item = (&str, (u64, u64))> {
        self.0
            .iter()
            .map(|(path, place)| (path.as_ref(), widen(*place)))
    }
}

impl FromIterator<(Arc<str>, (u64, u64))> for FieldPlaces {
    /// Of a path given twice, the last place is kept, as a map would.
    fn from_iter<I: IntoIterator<Item = (Arc<str>, (u64, u64))>>(fields: I) -> Self {
        let narrow = |at: u64| u32::try_from(at).unwrap_or(u32::MAX);
        let mut fields: Vec<FieldPlace> = fields
            .into_iter()
            .map(|(path, (line, column))| (path, (narrow(line), narrow(column))))
            .collect();
        // Stable: of equal paths the last one given stays last, and is the one kept.
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        fields.reverse();
        fields.dedup_by(|later, earlier| later.0 == earlier.0);
        fields.reverse();
        Self(fields.into_boxed_slice())
    }
}

fn widen((line, column): (u32, u32)) -> (u64, u64) {
    (line.into(), column.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places(fields: &[(&str, (u64, u64))]) -> FieldPlaces {
        fields
            .iter()
            .map(|(path, place)| (Arc::from(*path), *place))
            .collect()
    }

    #[test]
    fn a_field_is_found_by_its_path_whatever_order_it_was_given_in() {
        let places = places(&[
            ("region", (3, 3)),
            ("exchangeOnlineSettings.password", (9, 5)),
            ("exchangeOnlineSettings", (7, 3)),
            ("description", (2, 3)),
        ]);
        assert_eq!(places.get("exchangeOnlineSettings.password"), Some((9, 5)));
        assert_eq!(places.get("exchangeOnlineSettings"), Some((7, 3)));
        assert_eq!(places.get("description"), Some((2, 3)));
        assert_eq!(places.get("region"), Some((3, 3)));
        assert_eq!(places.get("exchangeOnlineSettings.account"), None);
        assert_eq!(places.get(""), None);
        assert_eq!(places.iter().count(), 4);
        let paths: Vec<&str> = places.iter().map(|(path, _)| path).collect();
        assert_eq!(
            paths,
            [
                "description",
                "exchangeOnlineSettings",
                "exchangeOnlineSettings.password",
                "region"
            ]
        );
    }

    #[test]
    fn of_a_path_given_twice_the_last_place_is_kept() {
        let places = places(&[("region", (3, 3)), ("a", (1, 1)), ("region", (8, 3))]);
        assert_eq!(places.get("region"), Some((8, 3)));
        assert_eq!(places.iter().count(), 2);
    }

    #[test]
    fn nothing_is_found_in_no_fields() {
        let places = FieldPlaces::default();
        assert_eq!(places.iter().count(), 0);
        assert_eq!(places.get("region"), None);
    }
}
