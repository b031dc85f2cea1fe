//! Devices and emoji verification.

use super::Handles;
use crate::matrix::protocol::verify::{Accept, Cancel, Cmd, Confirm, Mismatch, Request};
use crate::matrix::protocol::{OpId, Update, devices};
use crate::matrix::{devices as device_list, verify};

pub fn devices(h: &Handles, op: OpId, cmd: devices::Cmd) {
    let c = h.client.clone();
    match cmd {
        devices::Cmd::List(devices::List { user }) => h.job::<devices::List, _>(op, async move {
            Ok(device_list::list(&c, user.as_deref()).await?)
        }),
    }
}

pub fn handle(h: &Handles, op: OpId, cmd: Cmd) {
    let c = h.client.clone();
    match cmd {
        Cmd::Request(Request { user, device }) => {
            let report = h.report(Update::Verification);
            h.job::<Request, _>(op, async move {
                let req = verify::request(&c, user.as_deref(), device.as_deref()).await?;
                let flow = verify::flow_of(&req);
                tokio::spawn(verify::follow(req, report));
                Ok(flow)
            })
        }
        Cmd::Accept(Accept(flow)) => {
            h.job::<Accept, _>(op, async move { Ok(verify::accept(&c, &flow).await?) })
        }
        Cmd::Confirm(Confirm(flow)) => {
            h.job::<Confirm, _>(op, async move { Ok(verify::confirm(&c, &flow).await?) })
        }
        Cmd::Mismatch(Mismatch(flow)) => {
            h.job::<Mismatch, _>(op, async move { Ok(verify::mismatch(&c, &flow).await?) })
        }
        Cmd::Cancel(Cancel(flow)) => {
            h.job::<Cancel, _>(op, async move { Ok(verify::cancel(&c, &flow).await?) })
        }
    }
}
