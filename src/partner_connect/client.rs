//! Calling a partner: URLs, headers and basic auth, per-attempt
//! timeouts, retries of `500` with doubling backoff, and no retry of anything else.

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value as Json;

use super::config::{CallOptions, PartnerConfig};

/// The partner's operations and their HTTP methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Connect,
    TestConnection,
    DeleteConnection,
    DeleteAccount,
    ExpireAccount,
    Connectors,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::TestConnection => "test-connection",
            Self::DeleteConnection => "delete-connection",
            Self::DeleteAccount => "delete-account",
            Self::ExpireAccount => "expire-account",
            Self::Connectors => "connectors",
        }
    }

    fn method(self) -> reqwest::Method {
        match self {
            Self::Connect | Self::TestConnection | Self::DeleteConnection => reqwest::Method::POST,
            Self::DeleteAccount => reqwest::Method::DELETE,
            Self::ExpireAccount => reqwest::Method::PUT,
            Self::Connectors => reqwest::Method::GET,
        }
    }

    /// The config's path for this operation, if it declares one.
    pub fn path(self, config: &PartnerConfig) -> Option<&str> {
        let e = &config.endpoints;
        match self {
            Self::Connect => Some(e.connect_path.as_str()),
            Self::TestConnection => e.test_connection_path.as_deref(),
            Self::DeleteConnection => e.delete_connection_path.as_deref(),
            Self::DeleteAccount => e.delete_account_path.as_deref(),
            Self::ExpireAccount => e.expire_account_path.as_deref(),
            Self::Connectors => e.get_connectors_path.as_deref(),
        }
    }

    /// The config key naming this operation's path (for `INVALID_STATE` messages).
    pub fn path_key(self) -> &'static str {
        match self {
            Self::Connect => "connect_path",
            Self::TestConnection => "test_connection_path",
            Self::DeleteConnection => "delete_connection_path",
            Self::DeleteAccount => "delete_account_path",
            Self::ExpireAccount => "expire_account_path",
            Self::Connectors => "get_connectors_path",
        }
    }
}

/// What a partner call produced.
#[derive(Debug)]
pub enum Outcome {
    /// An HTTP answer (any status), with its body parsed when it is JSON.
    Answered { status: u16, body: Option<Json>, attempts: u32 },
    /// No answer: refused, reset, DNS or TLS failure.
    Unreachable { attempts: u32, detail: String },
    /// The last attempt ran out of time.
    TimedOut { attempts: u32 },
}

/// Where and how to call one partner.
pub struct Partner<'a> {
    pub config: &'a PartnerConfig,
    pub basic_auth: Option<(&'a str, &'a str)>,
    pub options: CallOptions,
}

impl Partner<'_> {
    /// Calls `op` with `body` (none for GET) and the query `query`; retries `500`s.
    pub async fn call<B: serde::Serialize + ?Sized>(
        &self,
        op: Operation,
        body: Option<&B>,
        query: &[(&str, &str)],
    ) -> Outcome {
        let path = op.path(self.config).unwrap_or("");
        let url = format!("{}{path}", self.config.base_url.trim_end_matches('/'));
        let client = match reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_millis(self.options.timeout_ms))
            .build()
        {
            Ok(c) => c,
            Err(e) => return Outcome::Unreachable { attempts: 0, detail: e.to_string() },
        };
        let payload = body.map(|b| serde_json::to_vec(b).expect("JSON serializes"));
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut rb = client
                .request(op.method(), &url)
                .header("User-Agent", "databricks")
                .header("Accept-Language", "en-US")
                .header("Accept", "application/json");
            if !query.is_empty() {
                rb = rb.query(query);
            }
            if let Some((user, password)) = self.basic_auth {
                let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                rb = rb.header("Authorization", format!("Basic {encoded}"));
            }
            if let Some(p) = &payload {
                rb = rb.header("Content-Type", "application/json; charset=utf-8").body(p.clone());
            }
            let started = Instant::now();
            let result = rb.send().await;
            let outcome = match result {
                Err(e) if e.is_timeout() => Outcome::TimedOut { attempts: attempt },
                Err(e) => Outcome::Unreachable { attempts: attempt, detail: e.to_string() },
                Ok(res) => {
                    let status = res.status().as_u16();
                    match res.bytes().await {
                        Err(e) if e.is_timeout() => Outcome::TimedOut { attempts: attempt },
                        Err(e) => Outcome::Unreachable { attempts: attempt, detail: e.to_string() },
                        Ok(bytes) => {
                            let body = serde_json::from_slice::<Json>(&bytes).ok();
                            Outcome::Answered { status, body, attempts: attempt }
                        }
                    }
                }
            };
            let status = match &outcome {
                Outcome::Answered { status, .. } => status.to_string(),
                Outcome::Unreachable { .. } => "unreachable".into(),
                Outcome::TimedOut { .. } => "timeout".into(),
            };
            // Never logged: the Authorization header, the password, the PAT.
            tracing::info!(
                operation = op.name(),
                method = %op.method(),
                url = %url,
                status = %status,
                attempt,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "partner call"
            );
            match outcome {
                Outcome::Answered { status: 500, .. } if attempt <= self.options.max_retries => {
                    let backoff = self.options.retry_backoff_ms.saturating_mul(1 << (attempt - 1).min(20));
                    tokio::time::sleep(Duration::from_millis(backoff)).await;
                }
                other => return other,
            }
        }
    }
}
