//! Cross-signing and secret storage.

use super::Handles;
use crate::matrix::protocol::recovery::{Cmd, Reset, Setup, Status, Unlock};
use crate::matrix::protocol::{OpId, Secret};
use crate::matrix::recovery;

pub fn handle(h: &Handles, op: OpId, cmd: Cmd) {
    let (c, crypto) = (h.client.clone(), h.crypto.clone());
    match cmd {
        Cmd::Status(_) => {
            h.job::<Status, _>(op, async move { Ok(recovery::status(&c, &crypto).await?) })
        }
        Cmd::Setup(Setup {
            password,
            passphrase,
        }) => h.job::<Setup, _>(op, async move {
            let p = passphrase.as_ref().map(Secret::expose);
            let pw = password.as_ref().map(Secret::expose);
            Ok(Secret(recovery::setup(&c, &crypto, pw, p).await?))
        }),
        Cmd::Unlock(Unlock { key_or_passphrase }) => {
            let (base, uploader) = (h.base.clone(), h.uploader.clone());
            h.job::<Unlock, _>(op, async move {
                let unlocked =
                    recovery::unlock(&c, &crypto, &base, key_or_passphrase.expose()).await?;
                // With the key this device can join the backup.
                uploader.kick();
                Ok(unlocked)
            })
        }
        Cmd::Reset(Reset { passphrase }) => h.job::<Reset, _>(op, async move {
            let p = passphrase.as_ref().map(Secret::expose);
            Ok(Secret(recovery::reset(&c, &crypto, p).await?))
        }),
    }
}
