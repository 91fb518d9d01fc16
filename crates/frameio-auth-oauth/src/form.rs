//! `application/x-www-form-urlencoded` request bodies that wipe themselves.

use std::borrow::Cow;
use std::fmt;

use url::form_urlencoded;
use zeroize::Zeroizing;

/// An ordered list of form fields. Values may be secrets (codes, tokens, client secrets), so
/// they are wiped on drop and never shown by `Debug`.
#[derive(Default)]
pub(crate) struct Form {
    fields: Vec<(Cow<'static, str>, Zeroizing<String>)>,
}

impl Form {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Appends a field.
    pub(crate) fn push(&mut self, name: impl Into<Cow<'static, str>>, value: &str) {
        self.fields
            .push((name.into(), Zeroizing::new(value.to_owned())));
    }

    /// The names of the fields, in order (safe to log).
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(name, _)| name.as_ref())
    }

    /// The fields, in order (values are secrets: never log them).
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .map(|(name, value)| (name.as_ref(), value.as_str()))
    }

    /// The encoded body.
    pub(crate) fn encode(&self) -> Zeroizing<String> {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.fields {
            serializer.append_pair(name, value);
        }
        Zeroizing::new(serializer.finish())
    }
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Form")
            .field("fields", &self.names().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_reserved_characters() {
        let mut form = Form::new();
        form.push("a", "x y&z=1+2%");
        form.push("b", "é/?#");
        assert_eq!(
            form.encode().as_str(),
            "a=x+y%26z%3D1%2B2%25&b=%C3%A9%2F%3F%23"
        );
        assert!(!format!("{form:?}").contains("x y"));
    }

    proptest! {
        #[test]
        fn round_trips_arbitrary_unicode(values in proptest::collection::vec(any::<String>(), 0..6)) {
            let mut form = Form::new();
            let names = ["code", "redirect_uri", "scope", "client_id", "x", "y"];
            for (name, value) in names.iter().zip(&values) {
                form.push(*name, value);
            }
            let encoded = form.encode();
            let decoded: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let expected: Vec<(String, String)> = names
                .iter()
                .zip(&values)
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect();
            prop_assert_eq!(decoded, expected);
        }
    }
}
