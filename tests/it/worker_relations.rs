//! Replies, edits, reactions and redactions through the worker, as the TUI
//! sends them, and how they come back in the timeline's items. Real Synapse.
use crate::common;

use std::time::Duration;

use keepsake::matrix::history::HistoryItem;
use keepsake::matrix::protocol::{self as p, Error, OpId, Request, Update};
use keepsake::matrix::worker::Worker;
use tokio::sync::mpsc::UnboundedReceiver;

/// The newest timeline of `room` for which `pred` holds, within a minute.
async fn timeline_where(
    updates: &mut UnboundedReceiver<Update>,
    room: &str,
    what: &str,
    pred: impl Fn(&[HistoryItem]) -> bool,
) -> Vec<HistoryItem> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let u = tokio::time::timeout_at(deadline, updates.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .unwrap_or_else(|| panic!("the worker stopped while waiting for {what}"));
        if let Update::Timeline { room: r, items, .. } = u
            && r == room
            && pred(&items)
        {
            return items;
        }
    }
}

async fn result_of<R: Request>(
    updates: &mut UnboundedReceiver<Update>,
    op: OpId,
) -> Result<R::Output, Error> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let u = tokio::time::timeout_at(deadline, updates.recv())
            .await
            .expect("timed out waiting for a result")
            .expect("the worker stopped");
        if let Update::Done { op: o, outcome } = u
            && o == op
        {
            return R::output(outcome);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_edit_react_and_redact() {
    let hs = common::homeserver();
    let alice = hs.register("rel").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    common::use_file_secrets(&data);
    common::login(&data, "a", &hs, &alice);
    let (worker, mut updates) = Worker::spawn(common::open_account(&data, "a").await);
    let op = worker.send(p::rooms::Create {
        name: "Relations".into(),
        invites: vec![],
        alias: None,
        encrypted: true,
    });
    let room = match result_of::<p::rooms::Create>(&mut updates, op).await {
        Ok(id) => id,
        other => panic!("create-room: {other:?}"),
    };
    // Replies and the rest act on the open timeline; without it, a clear error.
    let op = worker.send(p::timeline::React {
        room: room.clone(),
        event_id: "$nope".into(),
        key: "👍".into(),
    });
    let err = result_of::<p::timeline::React>(&mut updates, op)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not open"), "{err}");

    // The remote echoes (with event ids) come through sync, as in the TUI.
    worker.send(p::account::StartSync {
        long_poll: Duration::from_secs(1),
    });
    let op = worker.send(p::timeline::Open {
        room: room.clone(),
        thread: None,
    });
    result_of::<p::timeline::Open>(&mut updates, op)
        .await
        .expect("open the timeline");
    worker.send(p::rooms::SendText::markdown(room.clone(), "first"));
    let items = timeline_where(&mut updates, &room, "the first message", |items| {
        items
            .iter()
            .any(|i| i.body.as_deref() == Some("first") && i.event_id.is_some())
    })
    .await;
    let first = items
        .iter()
        .find(|i| i.body.as_deref() == Some("first"))
        .and_then(|i| i.event_id.clone())
        .expect("the first message's id");
    assert!(items.iter().all(|i| i.own));

    let op = worker.send(p::timeline::Reply {
        room: room.clone(),
        in_reply_to: first.clone(),
        text: "a reply".into(),
    });
    result_of::<p::timeline::Reply>(&mut updates, op)
        .await
        .expect("reply");
    let op = worker.send(p::timeline::React {
        room: room.clone(),
        event_id: first.clone(),
        key: "🎉".into(),
    });
    result_of::<p::timeline::React>(&mut updates, op)
        .await
        .expect("react");
    let op = worker.send(p::timeline::Edit {
        room: room.clone(),
        event_id: first.clone(),
        text: "first, edited".into(),
    });
    result_of::<p::timeline::Edit>(&mut updates, op)
        .await
        .expect("edit");
    timeline_where(&mut updates, &room, "reply, reaction and edit", |items| {
        let reply = items.iter().any(|i| {
            i.body.as_deref() == Some("a reply") && i.in_reply_to.as_deref() == Some(first.as_str())
        });
        let edited = items.iter().any(|i| {
            i.event_id.as_deref() == Some(first.as_str())
                && i.edited
                && i.body.as_deref() == Some("first, edited")
                && i.reactions.iter().any(|r| r.key == "🎉" && r.count == 1)
        });
        reply && edited
    })
    .await;

    let op = worker.send(p::timeline::Redact {
        room: room.clone(),
        event_id: first.clone(),
        reason: Some("test".into()),
    });
    result_of::<p::timeline::Redact>(&mut updates, op)
        .await
        .expect("redact");
    timeline_where(&mut updates, &room, "the redaction", |items| {
        items.iter().any(|i| {
            i.event_id.as_deref() == Some(first.as_str()) && i.redacted && i.body.is_none()
        })
    })
    .await;
}
