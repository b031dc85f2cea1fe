//! The trust mark of a message, decided from two facts: where its key came
//! from and what is known of the sender's device. Pure; the table test
//! below covers every combination.

use matrix_sdk::deserialized_responses::VerificationState;
use serde::Serialize;

use crate::backup::trust::{Record, Source};

/// The trust mark of one event. Two facts make it: where the key came from
/// (straight from its sender, our authenticated backup, an untrusted backup
/// or a key file) and what is known of the sender's device. The backup can
/// only lift the SDK's "origin unknown / not verified" verdicts; spoofing
/// and identity-change verdicts always win.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// Decrypted; the SDK verified the sender's device.
    Verified,
    /// Decrypted; the sender's device is not verified.
    Unverified,
    /// Decrypted with a key from our authenticated symmetric backup, bound
    /// to a device of the event's sender.
    BackupTrusted,
    /// Decrypted with a key from a backup or file that cannot vouch for it.
    BackupUntrusted,
    /// Decrypted, but the SDK flags it: the sender does not own the key's
    /// device, or the sender's verified identity changed.
    Warning,
    /// Not decryptable.
    Utd,
    /// Not encrypted.
    Plain,
}

/// What the sender's device list says about the device that made a
/// message's session (found by its curve25519 key among the devices of the
/// user the event names as its sender).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SenderDevice {
    /// The sender owns that device and it is verified.
    Verified,
    /// The sender owns that device; it is not verified.
    Unverified,
    /// None of the sender's known devices made this session (the device was
    /// deleted, is not known yet, or the server changed the event's sender).
    Unknown,
}

/// Why a key from the backup is not taken as the sender's when the device
/// that made it cannot be tied to the event's sender.
pub const UNBOUND_REASON: &str =
    "none of the sender's devices made this key, so the backup cannot vouch that they sent it";

/// The trust mark of one event and its reason, from the SDK's verdict, the
/// event's undecryptability, the trust table's record and the sender's
/// device. Pure; the table test in this module covers every combination.
pub fn mark(
    sdk: Option<&VerificationState>,
    utd: bool,
    record: Option<Record>,
    device: Option<SenderDevice>,
) -> (Trust, Option<String>) {
    use matrix_sdk::deserialized_responses::VerificationLevel as L;
    let Some(state) = sdk else {
        return (if utd { Trust::Utd } else { Trust::Plain }, None);
    };
    if utd {
        return (Trust::Utd, None);
    }
    let level = match state {
        VerificationState::Verified => return (Trust::Verified, None),
        VerificationState::Unverified(level) => level,
    };
    // Spoofing and identity changes are never lifted by where the key came
    // from: a server can rewrite an event's sender on a key we backed up.
    if matches!(level, L::MismatchedSender | L::VerificationViolation) {
        return (Trust::Warning, Some(level.to_string()));
    }
    match record {
        Some(r) if r.source != Source::Device => {
            if !r.trusted {
                return (Trust::BackupUntrusted, r.reason().map(str::to_owned));
            }
            // A trusted key still names no sender: it counts only once tied
            // to a device of the user the event says sent it.
            let bound = matches!(
                device,
                Some(SenderDevice::Verified | SenderDevice::Unverified)
            );
            if bound {
                (Trust::BackupTrusted, None)
            } else {
                (Trust::BackupUntrusted, Some(UNBOUND_REASON.to_owned()))
            }
        }
        _ => (Trust::Unverified, Some(level.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use matrix_sdk::deserialized_responses::{DeviceLinkProblem, VerificationLevel as L};

    use super::*;

    fn levels() -> Vec<L> {
        vec![
            L::UnverifiedIdentity,
            L::VerificationViolation,
            L::UnsignedDevice,
            L::None(DeviceLinkProblem::MissingDevice),
            L::None(DeviceLinkProblem::InsecureSource),
            L::MismatchedSender,
        ]
    }

    fn records() -> Vec<Option<Record>> {
        let mut out = vec![None];
        for source in [
            Source::Device,
            Source::SymmetricBackup,
            Source::AsymmetricBackup,
            Source::KeyFile,
        ] {
            for trusted in [true, false] {
                out.push(Some(Record { source, trusted }));
            }
        }
        out
    }

    fn devices() -> Vec<Option<SenderDevice>> {
        vec![
            None,
            Some(SenderDevice::Verified),
            Some(SenderDevice::Unverified),
            Some(SenderDevice::Unknown),
        ]
    }

    /// The rule, written out independently of `mark`'s code.
    fn expected(
        sdk: Option<&VerificationState>,
        utd: bool,
        record: Option<Record>,
        device: Option<SenderDevice>,
    ) -> Trust {
        match (sdk, utd) {
            (_, true) => Trust::Utd,
            (None, false) => Trust::Plain,
            (Some(VerificationState::Verified), _) => Trust::Verified,
            (Some(VerificationState::Unverified(L::MismatchedSender)), _)
            | (Some(VerificationState::Unverified(L::VerificationViolation)), _) => Trust::Warning,
            (Some(VerificationState::Unverified(_)), _) => match record {
                Some(r) if r.source == Source::Device => Trust::Unverified,
                None => Trust::Unverified,
                Some(r) => {
                    let bound = matches!(
                        device,
                        Some(SenderDevice::Verified | SenderDevice::Unverified)
                    );
                    if bound && r.trusted {
                        Trust::BackupTrusted
                    } else {
                        Trust::BackupUntrusted
                    }
                }
            },
        }
    }

    #[test]
    fn every_verdict_record_and_device() {
        let mut states: Vec<Option<VerificationState>> =
            vec![None, Some(VerificationState::Verified)];
        states.extend(
            levels()
                .into_iter()
                .map(|l| Some(VerificationState::Unverified(l))),
        );
        let mut checked = 0;
        for sdk in &states {
            for utd in [false, true] {
                for record in records() {
                    for device in devices() {
                        let (got, reason) = mark(sdk.as_ref(), utd, record, device);
                        let want = expected(sdk.as_ref(), utd, record, device);
                        assert_eq!(got, want, "{sdk:?} utd={utd} {record:?} {device:?}");
                        // Every doubt carries its reason.
                        let needs_reason = matches!(
                            got,
                            Trust::Unverified | Trust::BackupUntrusted | Trust::Warning
                        );
                        assert_eq!(reason.is_some(), needs_reason, "{got:?} {reason:?}");
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 8 * 2 * 9 * 4);
    }

    #[test]
    fn a_backup_record_never_hides_spoofing() {
        let trusted = Some(Record {
            source: Source::SymmetricBackup,
            trusted: true,
        });
        for level in [L::MismatchedSender, L::VerificationViolation] {
            let text = level.to_string();
            let (t, reason) = mark(
                Some(&VerificationState::Unverified(level)),
                false,
                trusted,
                Some(SenderDevice::Verified),
            );
            assert_eq!(t, Trust::Warning);
            assert_eq!(reason.as_deref(), Some(text.as_str()));
        }
    }

    #[test]
    fn a_backup_key_not_tied_to_the_sender_is_not_trusted() {
        let trusted = Some(Record {
            source: Source::SymmetricBackup,
            trusted: true,
        });
        let insecure = VerificationState::Unverified(L::None(DeviceLinkProblem::InsecureSource));
        for device in [None, Some(SenderDevice::Unknown)] {
            let (t, reason) = mark(Some(&insecure), false, trusted, device);
            assert_eq!(t, Trust::BackupUntrusted);
            assert_eq!(reason.as_deref(), Some(UNBOUND_REASON));
        }
        let (t, _) = mark(
            Some(&insecure),
            false,
            trusted,
            Some(SenderDevice::Unverified),
        );
        assert_eq!(t, Trust::BackupTrusted);
    }
}
