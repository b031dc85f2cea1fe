//! The key backup and key files.

use super::Handles;
use crate::backup::manage;
use crate::backup::{entry, inspect, key_file, restore, server, status};
use crate::matrix::backup_jobs;
use crate::matrix::protocol::backup::{
    Cmd, Create, Delete, Fetch, Flush, Inspect, KeysExport, KeysImport, Migrate, Migrated, Reset,
    Restore, Status, Upload, UseCurrent,
};
use crate::matrix::protocol::{Error, ErrorKind, OpId};
use crate::matrix::{recovery, rooms};

pub fn handle(h: &Handles, op: OpId, cmd: Cmd) {
    let (c, crypto, uploader) = (h.client.clone(), h.crypto.clone(), h.uploader.clone());
    match cmd {
        Cmd::Create(Create {
            key_or_passphrase,
            algorithm,
        }) => h.job::<Create, _>(op, async move {
            let store = recovery::open_store(&c, key_or_passphrase.expose()).await?;
            let lock = uploader.lock();
            let guard = lock.lock().await;
            let created = manage::create(&c, &crypto, &store, &algorithm).await?;
            drop(guard);
            uploader.kick();
            Ok(created)
        }),
        Cmd::Reset(Reset {
            key_or_passphrase,
            algorithm,
        }) => {
            let parts = h.parts();
            h.job::<Reset, _>(op, async move {
                Ok(backup_jobs::reset(&parts, &key_or_passphrase, &algorithm).await?)
            })
        }
        Cmd::Migrate(Migrate {
            key_or_passphrase,
            algorithm,
        }) => {
            let parts = h.parts();
            h.job::<Migrate, _>(op, async move {
                let current = server::current(&c).await?.ok_or_else(|| {
                    Error::new(ErrorKind::NoBackup, "this account has no backup to migrate")
                })?;
                if current.algorithm != entry::CURVE25519_ALGORITHM {
                    return Err(Error::new(
                        ErrorKind::Invalid,
                        format!(
                            "the current backup (version {}) is {}, not a curve25519 backup: nothing to migrate",
                            current.version, current.algorithm
                        ),
                    ));
                }
                // A reset brings every key of the old backup here first and
                // only then replaces it.
                let reset = backup_jobs::reset(&parts, &key_or_passphrase, &algorithm).await?;
                let restored = reset.replaced.and_then(|r| r.restored).ok_or_else(|| {
                    Error::new(
                        ErrorKind::WrongKey,
                        "the key in secret storage does not open the curve25519 backup",
                    )
                })?;
                Ok(Migrated {
                    restored,
                    created: reset.created,
                })
            })
        }
        Cmd::UseCurrent(_) => h.job::<UseCurrent, _>(op, async move {
            let lock = uploader.lock();
            let guard = lock.lock().await;
            let adopted = manage::use_current(&c, &crypto).await?;
            drop(guard);
            uploader.kick();
            Ok(adopted)
        }),
        Cmd::Delete(Delete { version }) => h.job::<Delete, _>(op, async move {
            let lock = uploader.lock();
            let guard = lock.lock().await;
            manage::delete(&c, &crypto, &version).await?;
            drop(guard);
            // Only kept ever (a reset makes one): nothing to empty else.
            let kept = c
                .account()
                .fetch_account_data(
                    backup_jobs::old_key_name(&version)
                        .to_string()
                        .as_str()
                        .into(),
                )
                .await
                .ok()
                .flatten()
                .is_some();
            if kept {
                backup_jobs::forget_old_key(&c, &version).await?;
            }
            uploader.kick();
            Ok(())
        }),
        Cmd::Status(_) => {
            h.job::<Status, _>(op, async move { Ok(status::status(&c, &crypto).await?) })
        }
        Cmd::Inspect(_) => {
            let trust = h.trust.clone();
            h.job::<Inspect, _>(op, async move {
                Ok(inspect::inspect(&c, &crypto, &trust).await?)
            })
        }
        Cmd::Restore(Restore {
            key_or_passphrase,
            version,
        }) => {
            let parts = h.parts();
            h.job::<Restore, _>(op, async move {
                let report =
                    backup_jobs::restore(&parts, key_or_passphrase, version.as_deref()).await?;
                parts.uploader.kick();
                Ok(report)
            })
        }
        Cmd::Fetch(Fetch { room, session_ids }) => {
            let on_demand = h.on_demand.clone();
            h.job::<Fetch, _>(op, async move {
                let room_id = rooms::find(&c, &room).await?.room_id().to_owned();
                Ok(on_demand.fetch(&room_id, &session_ids).await?)
            })
        }
        Cmd::Upload(_) => {
            uploader.kick();
            h.finish::<Upload>(op, Ok(()));
        }
        Cmd::Flush(_) => h.job::<Flush, _>(op, async move {
            uploader.flush().await.ok_or_else(Error::stopped)
        }),
        Cmd::KeysExport(KeysExport { path, passphrase }) => {
            let base = h.base.clone();
            h.job::<KeysExport, _>(op, async move {
                Ok(key_file::export(&base, &path, passphrase.expose()).await?)
            })
        }
        Cmd::KeysImport(KeysImport {
            path,
            passphrase,
            trusted,
        }) => {
            let (base, trust) = (h.base.clone(), h.trust.clone());
            h.job::<KeysImport, _>(op, async move {
                let (lock, held) = (uploader.lock(), uploader.held());
                let to = restore::Target {
                    client: &c,
                    base: &base,
                    crypto: &crypto,
                    trust: &trust,
                    upload_lock: &lock,
                    held: &held,
                    current: false,
                };
                let r = key_file::import(&to, &path, passphrase.expose(), trusted).await?;
                uploader.kick();
                Ok(r)
            })
        }
    }
}
