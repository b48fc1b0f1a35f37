//! Session credits on the local stack: starting the native credits canister, its operator
//! routes on the local admin endpoint, and `heaven credits show|grant|adjust|events`, which
//! goes through the running stack when one serves the data dir (the canister's state file is
//! locked by it) and opens the state file itself otherwise.
//!
//! The JSON shapes are the original's `credit_accounts` / `credit_events` columns, which the
//! original's smoke suites read through their SQL shim.

use std::path::Path;

use axum::Json;
use axum::Router;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use credits_canister::api::CreditBalance;
use credits_canister::ledger::Adjustment;
use credits_canister::native::{NativeCredits, chain_config_from_env};
use credits_canister::state::{CreditEvent, CreditEventKind};
use credits_canister::units::Seconds;
use credits_canister::wallet::Wallet;
use http_common::json_error;
use serde::{Deserialize, Serialize};

use crate::cli::CreditsAction;
use crate::config::StackConfig;
use crate::error::HeavenError;
use crate::local_admin::Announcement;

/// Starts the native credits canister on `data_dir` with the chain settings of the process
/// environment (the original's variable names).
pub fn start(data_dir: &Path) -> Result<NativeCredits, HeavenError> {
    let chain = chain_config_from_env(|name| std::env::var(name).ok());
    Ok(NativeCredits::start(data_dir, chain)?)
}

/// A balance as the original's `credit_accounts` columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceJson {
    /// `base_granted_seconds`.
    pub base_granted_seconds: u64,
    /// `bonus_granted_seconds`.
    pub bonus_granted_seconds: u64,
    /// `consumed_seconds`.
    pub consumed_seconds: u64,
    /// `base + bonus − consumed`.
    pub remaining_seconds: u64,
}

impl From<CreditBalance> for BalanceJson {
    fn from(b: CreditBalance) -> Self {
        Self {
            base_granted_seconds: b.base_granted_seconds.0,
            bonus_granted_seconds: b.bonus_granted_seconds.0,
            consumed_seconds: b.consumed_seconds.0,
            remaining_seconds: b.remaining_seconds.0,
        }
    }
}

/// A `credit_events` row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventJson {
    /// `delta_seconds`.
    pub delta_seconds: i64,
    /// `balance_after_seconds`.
    pub balance_after_seconds: u64,
    /// `event_type`.
    pub event_type: String,
    /// `connection_id`.
    pub connection_id: Option<String>,
    /// `created_at` (ISO-8601 with milliseconds and `Z`, as JavaScript's `toISOString`).
    pub created_at: String,
}

impl From<CreditEvent> for EventJson {
    fn from(e: CreditEvent) -> Self {
        Self {
            delta_seconds: e.delta_seconds,
            balance_after_seconds: e.balance_after_seconds.0,
            event_type: e.event_type.as_str().to_owned(),
            connection_id: e.connection_id,
            created_at: iso_seconds(e.created_at.0),
        }
    }
}

/// JavaScript's `toISOString()` of a whole second.
pub fn iso_seconds(secs: u64) -> String {
    chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// The body of `POST /credits/{wallet}/adjust`.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct AdjustJson {
    /// New base grant.
    pub base_granted_seconds: Option<u64>,
    /// New bonus grant.
    pub bonus_granted_seconds: Option<u64>,
    /// New consumed total.
    pub consumed_seconds: Option<u64>,
}

impl From<AdjustJson> for Adjustment {
    fn from(a: AdjustJson) -> Self {
        Adjustment {
            base_granted: a.base_granted_seconds.map(Seconds),
            bonus_granted: a.bonus_granted_seconds.map(Seconds),
            consumed: a.consumed_seconds.map(Seconds),
        }
    }
}

/// The body of `POST /credits/{wallet}/grant`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct GrantJson {
    /// Seconds to add to the base grant.
    pub seconds: u64,
}

/// Query of `GET /credits/{wallet}/events`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EventsQuery {
    /// Only this `event_type`.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
}

/// The most events one call lists.
const EVENTS_LIMIT: usize = 10_000;

/// The operator routes on the local admin endpoint.
pub fn admin_routes(credits: NativeCredits) -> Router {
    Router::new()
        .route("/credits/{wallet}", get(show))
        .route("/credits/{wallet}/grant", post(grant))
        .route("/credits/{wallet}/adjust", post(adjust))
        .route("/credits/{wallet}/events", get(events))
        .with_state(credits)
}

/// An operator route's refusal: its status and `{"error"}` text.
struct AdminError(StatusCode, String);

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        json_error(self.0, &self.1)
    }
}

fn bad(message: impl std::fmt::Display) -> AdminError {
    AdminError(StatusCode::BAD_REQUEST, message.to_string())
}

fn unavailable(e: impl std::fmt::Display) -> AdminError {
    AdminError(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
}

fn parse_wallet(text: &str) -> Result<Wallet, AdminError> {
    Wallet::parse(text).map_err(bad)
}

async fn show(
    State(credits): State<NativeCredits>,
    UrlPath(wallet): UrlPath<String>,
) -> Result<Json<BalanceJson>, AdminError> {
    let balance = credits
        .balance(parse_wallet(&wallet)?)
        .await
        .map_err(unavailable)?;
    Ok(Json(balance.into()))
}

async fn grant(
    State(credits): State<NativeCredits>,
    UrlPath(wallet): UrlPath<String>,
    Json(body): Json<GrantJson>,
) -> Result<Json<BalanceJson>, AdminError> {
    let balance = credits
        .grant(parse_wallet(&wallet)?, Seconds(body.seconds))
        .await
        .map_err(unavailable)?;
    Ok(Json(balance.into()))
}

async fn adjust(
    State(credits): State<NativeCredits>,
    UrlPath(wallet): UrlPath<String>,
    Json(body): Json<AdjustJson>,
) -> Result<Json<BalanceJson>, AdminError> {
    let balance = credits
        .adjust(parse_wallet(&wallet)?, body.into())
        .await
        .map_err(unavailable)?
        .map_err(bad)?;
    Ok(Json(balance.into()))
}

async fn events(
    State(credits): State<NativeCredits>,
    UrlPath(wallet): UrlPath<String>,
    Query(query): Query<EventsQuery>,
) -> Result<Json<Vec<EventJson>>, AdminError> {
    let wallet = parse_wallet(&wallet)?;
    let kind = match query.event_type.as_deref() {
        None => None,
        Some(t) => Some(
            CreditEventKind::parse(t).ok_or_else(|| bad(format!("unknown event type {t:?}")))?,
        ),
    };
    let rows = credits
        .credit_events(wallet, kind, 0, EVENTS_LIMIT)
        .await
        .map_err(unavailable)?;
    Ok(Json(rows.into_iter().map(EventJson::from).collect()))
}

/// What a `heaven credits` command prints.
enum Output {
    Balance(BalanceJson),
    Events(Vec<EventJson>),
}

/// Runs `heaven credits <action>`: through the running stack's admin endpoint when one is
/// announced in the data dir and answers, else on the state file.
pub async fn run(config: &StackConfig, action: CreditsAction) -> Result<(), HeavenError> {
    let output = match Announcement::read(&config.data_dir) {
        Some(admin) => match through_stack(&admin, &action).await {
            Ok(output) => output,
            Err(StackCall::Refused(message)) => return Err(HeavenError::Credits(message)),
            // A stale announcement (the stack was killed): the state file is free.
            Err(StackCall::Unreachable) => on_state_file(config, action).await?,
        },
        None => on_state_file(config, action).await?,
    };
    match output {
        Output::Balance(b) => println!("{}", serde_json::to_string(&b).expect("serializes")),
        Output::Events(rows) => {
            for row in rows {
                println!("{}", serde_json::to_string(&row).expect("serializes"));
            }
        }
    }
    Ok(())
}

enum StackCall {
    Unreachable,
    Refused(String),
}

async fn through_stack(admin: &Announcement, action: &CreditsAction) -> Result<Output, StackCall> {
    let client = reqwest::Client::new();
    let url = |wallet: &str, tail: &str| format!("{}/credits/{wallet}{tail}", admin.url);
    let request = match action {
        CreditsAction::Show { wallet } => client.get(url(wallet, "")),
        CreditsAction::Grant { wallet, seconds } => client
            .post(url(wallet, "/grant"))
            .json(&GrantJson { seconds: *seconds }),
        CreditsAction::Adjust {
            wallet,
            base,
            bonus,
            consumed,
        } => client.post(url(wallet, "/adjust")).json(&AdjustJson {
            base_granted_seconds: *base,
            bonus_granted_seconds: *bonus,
            consumed_seconds: *consumed,
        }),
        CreditsAction::Events { wallet, event_type } => {
            let mut r = client.get(url(wallet, "/events"));
            if let Some(t) = event_type {
                r = r.query(&[("type", t)]);
            }
            r
        }
    };
    let response = request
        .bearer_auth(&admin.token)
        .send()
        .await
        .map_err(|_| StackCall::Unreachable)?;
    let status = response.status();
    let body = response.text().await.map_err(|_| StackCall::Unreachable)?;
    if !status.is_success() {
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or(body);
        return Err(StackCall::Refused(message));
    }
    let refused = |e: serde_json::Error| StackCall::Refused(e.to_string());
    Ok(match action {
        CreditsAction::Events { .. } => {
            Output::Events(serde_json::from_str(&body).map_err(refused)?)
        }
        _ => Output::Balance(serde_json::from_str(&body).map_err(refused)?),
    })
}

async fn on_state_file(config: &StackConfig, action: CreditsAction) -> Result<Output, HeavenError> {
    let credits = start(&config.data_dir)?;
    let wallet_of =
        |text: &str| Wallet::parse(text).map_err(|e| HeavenError::Credits(e.to_string()));
    Ok(match action {
        CreditsAction::Show { wallet } => {
            Output::Balance(credits.balance(wallet_of(&wallet)?).await?.into())
        }
        CreditsAction::Grant { wallet, seconds } => Output::Balance(
            credits
                .grant(wallet_of(&wallet)?, Seconds(seconds))
                .await?
                .into(),
        ),
        CreditsAction::Adjust {
            wallet,
            base,
            bonus,
            consumed,
        } => {
            let adjustment = AdjustJson {
                base_granted_seconds: base,
                bonus_granted_seconds: bonus,
                consumed_seconds: consumed,
            };
            let balance = credits
                .adjust(wallet_of(&wallet)?, adjustment.into())
                .await?
                .map_err(|e| HeavenError::Credits(e.to_string()))?;
            Output::Balance(balance.into())
        }
        CreditsAction::Events { wallet, event_type } => {
            let kind = match event_type.as_deref() {
                None => None,
                Some(t) => Some(
                    CreditEventKind::parse(t)
                        .ok_or_else(|| HeavenError::Credits(format!("unknown event type {t:?}")))?,
                ),
            };
            let rows = credits
                .credit_events(wallet_of(&wallet)?, kind, 0, EVENTS_LIMIT)
                .await?;
            Output::Events(rows.into_iter().map(EventJson::from).collect())
        }
    })
}
