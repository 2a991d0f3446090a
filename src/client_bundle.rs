//! The official browser client, served under the path (placeholder until the bundle lands).

/// The file `file_name` of the client bundle, if served.
pub(crate) fn serve(
    _file_name: &str,
    _request_headers: &http::HeaderMap,
) -> Option<http::Response<bytes::Bytes>> {
    None
}
