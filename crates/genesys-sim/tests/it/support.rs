//! Shared helpers: start a simulator, get a token, call it, and validate bodies against the vendor schema.

use std::sync::OnceLock;

use genesys_sim::{LiveClock, ManualClock, SimConfig, SimServer};
use reqwest::{StatusCode, header::HeaderMap};
use serde_json::{Value, json};

/// The vendored Genesys contract, read from the repository (never from a shared copy elsewhere).
const CONTRACT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../schemas/genesys/contract.schema.json"
));

fn contract() -> &'static Value {
    static PARSED: OnceLock<Value> = OnceLock::new();
    PARSED.get_or_init(|| serde_json::from_str(CONTRACT).expect("the contract schema is JSON"))
}

/// Panics, listing every violation, unless `body` is a valid `model` of the contract.
#[track_caller]
pub(crate) fn assert_valid(model: &str, body: &Value) {
    let schema = contract();
    assert!(
        schema["$defs"].get(model).is_some(),
        "no model {model} in the contract"
    );
    let wrapper = json!({
        "$schema": schema["$schema"],
        "$defs": schema["$defs"],
        "$ref": format!("#/$defs/{model}"),
    });
    let validator = jsonschema::validator_for(&wrapper).expect("the contract compiles");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "body is not a valid {model}: {errors:#?}\n{body:#}"
    );
}

/// A small org: four queues, 30 days ending 2026-03-31 (so the 29 March DST change is inside).
pub(crate) fn test_config() -> SimConfig {
    SimConfig {
        queues: 4,
        days: 30,
        visits_per_day: 120,
        end_date: Some(jiff::civil::date(2026, 3, 31)),
        ..SimConfig::default()
    }
}

/// A small org whose history ends now and whose live org runs on `clock` with no autopilot, so
/// that only what a test injects happens in it.
pub(crate) fn live_config(clock: &ManualClock) -> SimConfig {
    let mut config = SimConfig {
        queues: 4,
        days: 2,
        visits_per_day: 120,
        end_date: None,
        ..SimConfig::default()
    };
    config.live.clock = LiveClock::Manual(clock.clone());
    config.live.autopilot = false;
    config
}

/// A response: status, headers and the JSON body (`Value::Null` when the body is empty).
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl Reply {
    pub(crate) async fn from_response(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a response body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "body is not JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Asserts a status and a valid `model` body.
    #[track_caller]
    pub(crate) fn expect(&self, status: u16, model: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{:#}", self.body);
        assert_valid(model, &self.body);
        &self.body
    }

    /// Asserts an `ErrorBody` with this status whose `contextId` is the correlation header, and
    /// whose message mentions `needle`.
    #[track_caller]
    pub(crate) fn expect_error(&self, status: u16, needle: &str) -> &Value {
        let body = self.expect(status, "ErrorBody");
        assert_eq!(body["status"], status);
        assert!(body["code"].is_string(), "{body}");
        let message = body["message"].as_str().expect("a message");
        assert!(
            message.contains(needle),
            "message {message:?} should mention {needle:?}"
        );
        let header = self.headers["inin-correlation-id"].to_str().unwrap();
        assert_eq!(body["contextId"], header);
        body
    }
}

/// The ids of the conversations a details page or job results page lists, in its order; a page
/// without conversations lists none.
pub(crate) fn conversation_ids(body: &Value) -> Vec<String> {
    body["conversations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["conversationId"].as_str().unwrap().to_owned())
        .collect()
}

/// A running simulator with a client and a token.
pub(crate) struct TestSim {
    pub(crate) sim: SimServer,
    pub(crate) client: reqwest::Client,
    pub(crate) token: String,
}

pub(crate) async fn start(config: SimConfig) -> TestSim {
    let sim = SimServer::start(config)
        .await
        .expect("the simulator starts");
    let client = reqwest::Client::builder().no_gzip().build().unwrap();
    let reply = request_token(&client, &sim.base_url(), "sim-client", "sim-secret").await;
    let token = reply.expect(200, "OAuthTokenResponse")["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    TestSim { sim, client, token }
}

pub(crate) async fn request_token(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    secret: &str,
) -> Reply {
    let response = client
        .post(format!("{base}/oauth/token"))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    Reply::from_response(response).await
}

impl TestSim {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.get_as(path, Some(&self.token)).await
    }

    pub(crate) async fn get_as(&self, path: &str, token: Option<&str>) -> Reply {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Reply::from_response(request.send().await.unwrap()).await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Reply {
        let request = self
            .client
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(body);
        Reply::from_response(request.send().await.unwrap()).await
    }

    pub(crate) async fn delete(&self, path: &str) -> Reply {
        let request = self.client.delete(self.url(path)).bearer_auth(&self.token);
        Reply::from_response(request.send().await.unwrap()).await
    }

    pub(crate) async fn aggregates(&self, query: &Value) -> Reply {
        self.post("/api/v2/analytics/conversations/aggregates/query", query)
            .await
    }

    pub(crate) async fn details(&self, query: &Value) -> Reply {
        self.post("/api/v2/analytics/conversations/details/query", query)
            .await
    }

    pub(crate) async fn observations(&self, query: &Value) -> Reply {
        self.post("/api/v2/analytics/queues/observations/query", query)
            .await
    }
}
