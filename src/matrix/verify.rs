//! SAS (emoji) verification: start a request, follow a flow from request to
//! done, and turn its states into plain data for the front ends.

use futures_util::StreamExt;
use matrix_sdk::Client;
use matrix_sdk::encryption::verification::{
    SasState, SasVerification, VerificationRequest, VerificationRequestState,
};
use matrix_sdk::ruma::{OwnedDeviceId, OwnedUserId};
use serde::Serialize;

use super::Report;

/// Names one verification: the other user and the flow (transaction or
/// event) id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Flow {
    pub user: String,
    pub flow_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmojiItem {
    pub symbol: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum VerifyState {
    /// Someone asks us to verify; accept or cancel it.
    Incoming {
        from_device: Option<String>,
    },
    /// We asked; waiting for the other side.
    Requested,
    /// Both sides agreed; the emoji exchange is starting.
    Ready,
    /// Compare these with the other screen, then confirm or report a mismatch.
    Emoji {
        emoji: Vec<EmojiItem>,
    },
    /// We confirmed; waiting for the other side to confirm.
    Confirmed,
    Done {
        device: Option<String>,
    },
    Cancelled {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyUpdate {
    pub flow: Flow,
    pub self_verification: bool,
    #[serde(flatten)]
    pub state: VerifyState,
}

fn send(
    updates: &Report<VerifyUpdate>,
    flow: &Flow,
    self_verification: bool,
    state: VerifyState,
) -> bool {
    updates(VerifyUpdate {
        flow: flow.clone(),
        self_verification,
        state,
    })
}

/// Why a verification (or a device list) could not go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("`{0}` is not a user id (@user:server)")]
    BadUser(String),
    #[error("not logged in")]
    NotLoggedIn,
    /// No such device, identity or verification.
    #[error("{0}")]
    NotFound(String),
    /// This account has no cross-signing identity to verify against yet.
    #[error("this account has no cross-signing identity yet")]
    NoIdentity,
    /// The SDK or the server failed.
    #[error("{0}")]
    Failed(String),
}

impl From<VerifyError> for crate::error::Error {
    fn from(e: VerifyError) -> Self {
        use crate::error::ErrorKind;
        let kind = match &e {
            VerifyError::BadUser(_) => ErrorKind::Invalid,
            VerifyError::NotLoggedIn => ErrorKind::LoggedOut,
            VerifyError::NotFound(_) | VerifyError::NoIdentity => ErrorKind::NotFound,
            VerifyError::Failed(_) => ErrorKind::Server,
        };
        let advice = matches!(e, VerifyError::NoIdentity).then(|| {
            crate::error::Advice::new(
                "run {} on a device first",
                &[crate::error::Step::RecoverySetup],
            )
        });
        crate::error::Error::new(kind, e.to_string()).with_advice(advice)
    }
}

fn failed<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> VerifyError + '_ {
    move |e| VerifyError::Failed(format!("{what}: {e}"))
}

pub fn parse_user(s: &str) -> Result<OwnedUserId, VerifyError> {
    OwnedUserId::try_from(s).map_err(|_| VerifyError::BadUser(s.to_owned()))
}

/// Starts a verification request: with no user, to all our other devices;
/// with a device, to that device (to-device); with a user only, to that user
/// in a direct room (in-room), as Element does.
pub async fn request(
    client: &Client,
    user: Option<&str>,
    device: Option<&str>,
) -> Result<VerificationRequest, VerifyError> {
    let enc = client.encryption();
    let me = client.user_id().ok_or(VerifyError::NotLoggedIn)?.to_owned();
    let user = match user {
        Some(u) => parse_user(u)?,
        None => me.clone(),
    };
    match device {
        Some(d) => {
            let d: OwnedDeviceId = d.into();
            let dev = enc
                .get_device(&user, &d)
                .await
                .map_err(|e| VerifyError::Failed(e.to_string()))?
                .ok_or_else(|| VerifyError::NotFound(format!("{user} has no device {d}")))?;
            dev.request_verification()
                .await
                .map_err(failed("cannot send the verification request"))
        }
        None => {
            let identity = enc
                .request_user_identity(&user)
                .await
                .map_err(|e| VerifyError::Failed(e.to_string()))?
                .ok_or_else(|| {
                    if user == me {
                        VerifyError::NoIdentity
                    } else {
                        VerifyError::NotFound(format!(
                            "{user} has not set up cross-signing; name one of their devices to verify it"
                        ))
                    }
                })?;
            identity
                .request_verification()
                .await
                .map_err(failed("cannot send the verification request"))
        }
    }
}

pub fn flow_of(req: &VerificationRequest) -> Flow {
    Flow {
        user: req.other_user_id().to_string(),
        flow_id: req.flow_id().to_owned(),
    }
}

/// Follows a request until it ends, sending every state it passes through.
/// The side that sent the request starts the emoji exchange once the other
/// side is ready; the other side accepts it.
pub async fn follow(req: VerificationRequest, updates: Report<VerifyUpdate>) {
    let flow = flow_of(&req);
    let own = req.is_self_verification();
    let mut changes = req.changes();
    let mut state = req.state();
    loop {
        match state {
            VerificationRequestState::Created { .. } => {}
            VerificationRequestState::Requested {
                other_device_data, ..
            } => {
                if !req.we_started() {
                    let from = Some(other_device_data.device_id().to_string());
                    send(
                        &updates,
                        &flow,
                        own,
                        VerifyState::Incoming { from_device: from },
                    );
                } else {
                    send(&updates, &flow, own, VerifyState::Requested);
                }
            }
            VerificationRequestState::Ready { .. } => {
                send(&updates, &flow, own, VerifyState::Ready);
                if req.we_started() {
                    match req.start_sas().await {
                        Ok(Some(sas)) => return follow_sas(sas, flow, own, updates).await,
                        Ok(None) => {}
                        Err(e) => {
                            send(
                                &updates,
                                &flow,
                                own,
                                VerifyState::Cancelled {
                                    reason: format!("cannot start the emoji exchange: {e}"),
                                },
                            );
                            return;
                        }
                    }
                }
            }
            VerificationRequestState::Transitioned { verification, .. } => {
                if let Some(sas) = verification.sas() {
                    return follow_sas(sas, flow, own, updates).await;
                }
                send(
                    &updates,
                    &flow,
                    own,
                    VerifyState::Cancelled {
                        reason: "the other side chose a method other than emoji".into(),
                    },
                );
                return;
            }
            VerificationRequestState::Done => {
                send(&updates, &flow, own, VerifyState::Done { device: None });
                return;
            }
            VerificationRequestState::Cancelled(info) => {
                let reason = info.reason().to_owned();
                send(&updates, &flow, own, VerifyState::Cancelled { reason });
                return;
            }
        }
        state = match changes.next().await {
            Some(s) => s,
            None => return,
        };
    }
}

async fn follow_sas(sas: SasVerification, flow: Flow, own: bool, updates: Report<VerifyUpdate>) {
    if !sas.we_started()
        && let Err(e) = sas.accept().await
    {
        send(
            &updates,
            &flow,
            own,
            VerifyState::Cancelled {
                reason: format!("cannot accept the emoji exchange: {e}"),
            },
        );
        return;
    }
    let device = sas.other_device().device_id().to_string();
    let mut changes = sas.changes();
    let mut state = sas.state();
    let mut confirmed = false;
    loop {
        match state {
            SasState::KeysExchanged {
                emojis: Some(e), ..
            } => {
                let emoji = e
                    .emojis
                    .iter()
                    .map(|x| EmojiItem {
                        symbol: x.symbol.to_owned(),
                        name: x.description.to_owned(),
                    })
                    .collect();
                send(&updates, &flow, own, VerifyState::Emoji { emoji });
            }
            SasState::KeysExchanged { emojis: None, .. } => {
                let _ = sas.cancel().await;
                send(
                    &updates,
                    &flow,
                    own,
                    VerifyState::Cancelled {
                        reason: "the other side does not support emoji".into(),
                    },
                );
                return;
            }
            // The SDK reports this once per side's message; say it once.
            SasState::Confirmed if !confirmed => {
                confirmed = true;
                send(&updates, &flow, own, VerifyState::Confirmed);
            }
            SasState::Done { .. } => {
                send(
                    &updates,
                    &flow,
                    own,
                    VerifyState::Done {
                        device: Some(device),
                    },
                );
                return;
            }
            SasState::Cancelled(info) => {
                let reason = info.reason().to_owned();
                send(&updates, &flow, own, VerifyState::Cancelled { reason });
                return;
            }
            _ => {}
        }
        state = match changes.next().await {
            Some(s) => s,
            None => return,
        };
    }
}

async fn find_request(client: &Client, flow: &Flow) -> Result<VerificationRequest, VerifyError> {
    let user = parse_user(&flow.user)?;
    client
        .encryption()
        .get_verification_request(&user, &flow.flow_id)
        .await
        .ok_or_else(|| {
            VerifyError::NotFound(format!(
                "no verification {} with {}",
                flow.flow_id, flow.user
            ))
        })
}

async fn find_sas(client: &Client, flow: &Flow) -> Result<SasVerification, VerifyError> {
    let user = parse_user(&flow.user)?;
    client
        .encryption()
        .get_verification(&user, &flow.flow_id)
        .await
        .and_then(|v| v.sas())
        .ok_or_else(|| {
            VerifyError::NotFound(format!(
                "no emoji exchange {} with {}",
                flow.flow_id, flow.user
            ))
        })
}

pub async fn accept(client: &Client, flow: &Flow) -> Result<(), VerifyError> {
    find_request(client, flow)
        .await?
        .accept()
        .await
        .map_err(failed("cannot accept the verification"))
}

pub async fn confirm(client: &Client, flow: &Flow) -> Result<(), VerifyError> {
    find_sas(client, flow)
        .await?
        .confirm()
        .await
        .map_err(failed("cannot confirm"))
}

pub async fn mismatch(client: &Client, flow: &Flow) -> Result<(), VerifyError> {
    find_sas(client, flow)
        .await?
        .mismatch()
        .await
        .map_err(failed("cannot report the mismatch"))
}

pub async fn cancel(client: &Client, flow: &Flow) -> Result<(), VerifyError> {
    if let Ok(sas) = find_sas(client, flow).await {
        return sas.cancel().await.map_err(failed("cannot cancel"));
    }
    find_request(client, flow)
        .await?
        .cancel()
        .await
        .map_err(failed("cannot cancel"))
}
