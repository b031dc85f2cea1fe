//! Why a message cannot be read, in words: a stable machine value for
//! `history --json` and a sentence saying what fixes it. Pure.

use matrix_sdk_crypto::types::events::UtdCause;

/// The documented snake_case value of a cause (`history --json`'s
/// `utd_reason`); never the SDK's `Debug` text, which may change.
pub fn reason(cause: UtdCause) -> &'static str {
    match cause {
        UtdCause::Unknown => "missing_key",
        UtdCause::SentBeforeWeJoined => "sent_before_we_joined",
        UtdCause::VerificationViolation => "verification_violation",
        UtdCause::UnsignedDevice => "unsigned_device",
        UtdCause::UnknownDevice => "unknown_device",
        UtdCause::HistoricalMessageAndBackupIsDisabled => "historical_no_backup",
        UtdCause::WithheldForUnverifiedOrInsecureDevice => "withheld_unverified_device",
        UtdCause::WithheldBySender => "withheld_by_sender",
        UtdCause::HistoricalMessageAndDeviceIsUnverified => "historical_device_unverified",
    }
}

/// What happened and what fixes it, in one sentence.
pub fn hint(cause: UtdCause) -> &'static str {
    match cause {
        UtdCause::Unknown => {
            "the key has not reached this device: fetch it from the backup, or wait for the sender's device to send it"
        }
        UtdCause::SentBeforeWeJoined => {
            "sent before you joined: only the backup or another of your devices can have the key"
        }
        UtdCause::VerificationViolation => {
            "the sender's identity changed since you verified it: not decrypted, to keep you safe"
        }
        UtdCause::UnsignedDevice => {
            "sent from a device its owner has not verified: not decrypted, to keep you safe"
        }
        UtdCause::UnknownDevice => {
            "sent from a device nobody can vouch for: not decrypted, to keep you safe"
        }
        UtdCause::HistoricalMessageAndBackupIsDisabled => {
            "sent before this device existed, and the account has no backup: import a key file from another device"
        }
        UtdCause::WithheldForUnverifiedOrInsecureDevice => {
            "the sender withheld the key because this device is not verified: verify this device"
        }
        UtdCause::WithheldBySender => "the sender did not share the key with this device",
        UtdCause::HistoricalMessageAndDeviceIsUnverified => {
            "sent before this device existed: restore from the backup, or verify this device"
        }
    }
}

/// Whether the backup may hold the key (the TUI offers a fetch then).
pub fn backup_may_help(cause: UtdCause) -> bool {
    matches!(
        cause,
        UtdCause::Unknown
            | UtdCause::SentBeforeWeJoined
            | UtdCause::HistoricalMessageAndDeviceIsUnverified
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cause_has_a_distinct_word_and_a_sentence() {
        let all = [
            UtdCause::Unknown,
            UtdCause::SentBeforeWeJoined,
            UtdCause::VerificationViolation,
            UtdCause::UnsignedDevice,
            UtdCause::UnknownDevice,
            UtdCause::HistoricalMessageAndBackupIsDisabled,
            UtdCause::WithheldForUnverifiedOrInsecureDevice,
            UtdCause::WithheldBySender,
            UtdCause::HistoricalMessageAndDeviceIsUnverified,
        ];
        let words: std::collections::BTreeSet<_> = all.iter().map(|c| reason(*c)).collect();
        assert_eq!(words.len(), all.len());
        for c in all {
            let w = reason(c);
            assert!(
                w.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'),
                "{w}"
            );
            assert!(!hint(c).contains("Historical"), "{}", hint(c));
        }
        assert_eq!(
            hint(UtdCause::HistoricalMessageAndDeviceIsUnverified),
            "sent before this device existed: restore from the backup, or verify this device"
        );
    }
}
