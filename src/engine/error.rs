//! The protocol's error responses: an HTTP status and a JSON body `{"code":N,"message":"..."}`,
//! with the codes and messages of the Node server.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

/// An Engine.IO request error, as answered to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RequestError {
    /// Code 0: the `transport` parameter is missing, unknown or disabled.
    UnknownTransport,
    /// Code 1: the `sid` names no open session.
    UnknownSid,
    /// Code 2: a handshake with another method than GET.
    BadHandshakeMethod,
    /// Code 3: anything else the protocol does not allow.
    BadRequest,
    /// Code 4: refused by the origin policy or the `allow_request` hook.
    Forbidden { status: StatusCode, message: String },
    /// Code 5: the `EIO` parameter is missing, or names a version not served.
    UnsupportedProtocolVersion,
    /// A polling body larger than `max_payload` (status 413).
    PayloadTooLarge,
}

impl RequestError {
    /// The default refusal: 403 "Forbidden".
    pub(crate) fn forbidden() -> Self {
        RequestError::Forbidden {
            status: StatusCode::FORBIDDEN,
            message: "Forbidden".into(),
        }
    }

    fn code(&self) -> u8 {
        match self {
            RequestError::UnknownTransport => 0,
            RequestError::UnknownSid => 1,
            RequestError::BadHandshakeMethod => 2,
            RequestError::BadRequest | RequestError::PayloadTooLarge => 3,
            RequestError::Forbidden { .. } => 4,
            RequestError::UnsupportedProtocolVersion => 5,
        }
    }

    fn message(&self) -> &str {
        match self {
            RequestError::UnknownTransport => "Transport unknown",
            RequestError::UnknownSid => "Session ID unknown",
            RequestError::BadHandshakeMethod => "Bad handshake method",
            RequestError::BadRequest => "Bad request",
            RequestError::Forbidden { message, .. } => message,
            RequestError::UnsupportedProtocolVersion => "Unsupported protocol version",
            RequestError::PayloadTooLarge => "Payload too large",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            RequestError::Forbidden { status, .. } => *status,
            RequestError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The HTTP response for this error.
    pub(crate) fn into_response(self) -> Response<Full<Bytes>> {
        let body = serde_json::json!({ "code": self.code(), "message": self.message() });
        let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
        *response.status_mut() = self.status();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn json_body_and_status() {
        let response = RequestError::UnknownSid.into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], br#"{"code":1,"message":"Session ID unknown"}"#);
        let refusal = RequestError::Forbidden {
            status: StatusCode::UNAUTHORIZED,
            message: "no \"token\"".into(),
        };
        let response = refusal.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], br#"{"code":4,"message":"no \"token\""}"#);
    }
}
