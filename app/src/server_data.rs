//! The data a page's server renders and the browser picks up while it hydrates.
//!
//! Leptos' `Resource::new` carries it as JSON read with `serde_json::from_str`, while a
//! server function's answer is read with `serde_json::from_slice`. serde_json's reader is
//! a type parameter, so every answer type that is both (a page's list, an import's
//! summary) had two decoders in the page bundle. `server_data` reads the same JSON from its
//! bytes, so a page ships one decoder per type.

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::{de::DeserializeOwned, Serialize};
use std::future::Future;

/// JSON, read from bytes as `server_fn`'s `Json` encoding reads a server function's answer.
pub struct JsonBytes;

impl<T: Serialize> Encoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(json.as_bytes())
    }
}

/// A resource whose value the server renders into the page.
pub type ServerData<T> = Resource<T, JsonBytes>;

/// `Resource::new` with [`JsonBytes`]: loads `fetcher(source())` on the server, carries
/// it into the page and reloads it in the browser when `source` changes.
#[track_caller]
pub fn server_data<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> ServerData<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_server_encodes_the_browser_decodes() {
        let value: Result<Vec<(i64, String)>, String> = Ok(vec![(7, "Zoë \"Ada\"".into())]);
        let json = <JsonBytes as Encoder<_>>::encode(&value).unwrap();
        let back: Result<Vec<(i64, String)>, String> =
            <JsonBytes as Decoder<_>>::decode(json.as_str()).unwrap();
        assert_eq!(back, value);
    }
}
