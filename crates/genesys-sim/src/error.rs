//! Genesys's `ErrorBody` responses, rendered late so the body's `contextId` matches the response header.
//!
//! Handlers and middleware return an [`ApiError`]; it travels as a response extension with an empty
//! body until the correlation middleware, which owns the request's correlation id, writes the JSON.

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

/// An error answered in Genesys's `ErrorBody` shape.
#[derive(Clone, Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) retry_after_s: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }

    /// A 400 with the code Genesys uses for malformed or invalid queries.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad.request", message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not.found", message)
    }

    /// A 429 as Genesys has sent it since 2021: `Retry-After` in seconds, repeated in the message.
    pub(crate) fn too_many_requests(retry_after_s: u64) -> Self {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "too.many.requests.retry.after",
            message: format!(
                "Rate limit exceeded the maximum. Retry the request in [{retry_after_s}] seconds"
            ),
            retry_after_s: Some(retry_after_s),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        if let Some(seconds) = self.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(self);
        response
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    message: &'a str,
    code: &'a str,
    status: u16,
    context_id: &'a str,
    details: [(); 0],
    errors: [(); 0],
}

/// Writes the body of a pending [`ApiError`], if the response carries one.
pub(crate) fn render(response: &mut Response, context_id: &str) {
    let Some(error) = response.extensions_mut().remove::<ApiError>() else {
        return;
    };
    let body = ErrorBody {
        message: &error.message,
        code: error.code,
        status: error.status.as_u16(),
        context_id,
        details: [],
        errors: [],
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response.headers_mut().remove(header::CONTENT_LENGTH);
    *response.body_mut() = Body::from(bytes);
}
