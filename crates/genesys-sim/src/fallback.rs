//! Answers for paths and methods the simulator does not serve, in Genesys's error shape.
//!
//! Invented endpoints (such as `/api/v2/analytics/queues/summary/query`) must fail loudly, so the
//! message names the method and path a client tried.

use axum::http::{Method, StatusCode, Uri};

use crate::error::ApiError;

pub(crate) async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "No resource matches {method} {}; the simulator serves only real Genesys Cloud endpoints",
        uri.path()
    ))
}

pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method.not.allowed",
        format!("Method {method} is not allowed on {}", uri.path()),
    )
}
