//! The worker driven the way the TUI drives it: commands sent without
//! waiting, results and live changes read from its update stream. Real
//! Synapse; bob is a second keepsake profile run through the binary.
use crate::common;

use std::time::Duration;

use keepsake::matrix::protocol::{self as p, Error, OpId, Request, SyncState, Update};
use keepsake::matrix::worker::Worker;
use tokio::sync::mpsc::UnboundedReceiver;

/// Reads updates until `pred` matches one, failing after a minute.
async fn wait_for(
    updates: &mut UnboundedReceiver<Update>,
    what: &str,
    mut pred: impl FnMut(&Update) -> bool,
) -> Update {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let u = tokio::time::timeout_at(deadline, updates.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .unwrap_or_else(|| panic!("the worker stopped while waiting for {what}"));
        if pred(&u) {
            return u;
        }
    }
}

/// The result of command `op` (an `R`), once it arrives.
async fn result_of<R: Request>(
    updates: &mut UnboundedReceiver<Update>,
    what: &str,
    op: OpId,
) -> Result<R::Output, Error> {
    match wait_for(
        updates,
        what,
        |u| matches!(u, Update::Done { op: o, .. } if *o == op),
    )
    .await
    {
        Update::Done { outcome, .. } => R::output(outcome),
        _ => unreachable!("wait_for returns the update it matched"),
    }
}

fn timeline_has(u: &Update, room: &str, body: &str) -> bool {
    matches!(u, Update::Timeline { room: r, items, .. } if r == room
        && items.iter().any(|i| i.body.as_deref() == Some(body) && i.decrypted))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_syncs_follows_a_timeline_and_sends() {
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("alice").await, hs.register("bob").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    common::use_file_secrets(&data);
    common::login(&data, "alice", &hs, &alice);
    common::login(&data, "bob", &hs, &bob);
    let run = |profile: &str, args: &[&str]| {
        let r = common::keepsake(&data, Some(profile), args, "");
        assert_eq!(r.code, 0, "{profile} {args:?}: {}", r.stderr);
        r.stdout.trim().to_owned()
    };
    run("bob", &["sync", "--once"]);

    let (worker, mut updates) = Worker::spawn(common::open_account(&data, "alice").await);
    let op = worker.send(p::rooms::Create {
        name: "Worker room".into(),
        invites: vec![bob.user_id.clone()],
        alias: None,
        encrypted: true,
    });
    let room = match result_of::<p::rooms::Create>(&mut updates, "the room", op).await {
        Ok(id) => id,
        other => panic!("create-room: {other:?}"),
    };

    worker.send(p::account::StartSync {
        long_poll: Duration::from_secs(2),
    });
    wait_for(&mut updates, "the room list", |u| {
        matches!(u, Update::Rooms(list) if list.iter().any(|r| r.room_id == room && r.encrypted))
    })
    .await;
    worker.send(p::timeline::Open {
        room: room.clone(),
        thread: None,
    });

    // bob joins and writes while alice's worker keeps syncing.
    run("bob", &["join", &room]);
    run("bob", &["send", &room, "hello from bob"]);
    wait_for(&mut updates, "bob's message, decrypted", |u| {
        timeline_has(u, &room, "hello from bob")
    })
    .await;

    let op = worker.send(p::rooms::SendText::markdown(
        room.clone(),
        "hello from alice",
    ));
    let mut sent = None;
    wait_for(&mut updates, "alice's own message, sent", |u| {
        if let Update::Done { op: o, outcome } = u
            && *o == op
        {
            sent = Some(p::rooms::SendText::output(outcome.clone()));
        }
        sent.is_some() && timeline_has(u, &room, "hello from alice")
            || matches!(&sent, Some(Err(_)))
    })
    .await;
    assert!(
        matches!(sent, Some(Ok(ref id)) if id.starts_with('$')),
        "{sent:?}"
    );

    // bob reads alice's message through his own run: both directions work.
    let history = run("bob", &["history", &room, "--json"]);
    assert!(history.contains("hello from alice"), "{history}");

    let op = worker.send(p::timeline::PaginateBack {
        room: room.clone(),
        count: 50,
    });
    match result_of::<p::timeline::PaginateBack>(&mut updates, "pagination", op).await {
        Ok(_) => {}
        other => panic!("paginate: {other:?}"),
    }

    // Errors come back as the command's result, in the CLI's words.
    let op = worker.send(p::rooms::SendText::markdown("!nope:localhost", "x"));
    match result_of::<p::rooms::SendText>(&mut updates, "the error", op).await {
        Err(e) => assert_eq!(
            e.to_string(),
            "unknown room !nope:localhost: not a room you are in or invited to"
        ),
        other => panic!("expected an error: {other:?}"),
    }
    let op = worker.send(p::timeline::PaginateBack {
        room: "!closed:localhost".into(),
        count: 5,
    });
    match result_of::<p::timeline::PaginateBack>(&mut updates, "the error", op).await {
        Err(e) => assert_eq!(
            e.to_string(),
            "the timeline of !closed:localhost is not open"
        ),
        other => panic!("expected an error: {other:?}"),
    }

    worker.send(p::account::StopSync);
    wait_for(&mut updates, "sync stopped", |u| {
        matches!(u, Update::Sync(SyncState::Stopped))
    })
    .await;
}

/// Opening the client after a while away: its first sync brings mentions in
/// a dozen encrypted rooms, and the room list it sends must show every one.
/// matrix-sdk counts them in its event cache after the sync returns, so a
/// list read at once missed some; with nothing more to sync, the next list
/// came only when the long poll ended (here 60 s, past the wait).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_sync_shows_every_mention_it_brought() {
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("alice").await, hs.register("bob").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    common::use_file_secrets(&data);
    common::login(&data, "alice", &hs, &alice);
    common::login(&data, "bob", &hs, &bob);
    common::ok(&data, "bob", &["sync", "--once"], "");
    let ids = common::mentions_waiting(&data, "alice", "bob", &bob, 12).await;

    let (worker, mut updates) = Worker::spawn(common::open_account(&data, "bob").await);
    worker.send(p::account::StartSync {
        long_poll: Duration::from_secs(60),
    });
    let all_counted = |list: &[keepsake::matrix::rooms::RoomSummary]| {
        ids.iter().all(|id| {
            list.iter()
                .any(|r| &r.room_id == id && r.unread == 1 && r.highlights == 1)
        })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut last = None;
    loop {
        match tokio::time::timeout_at(deadline, updates.recv()).await {
            Ok(Some(Update::Rooms(list))) if all_counted(&list) => break,
            Ok(Some(Update::Rooms(list))) => last = Some(list),
            Ok(Some(_)) => {}
            Ok(None) => panic!("the worker stopped"),
            Err(_) => panic!("no room list with every mention: the last was {last:#?}"),
        }
    }
    // Not stopped: a stop waits for the long poll, which holds for a minute.
    drop(worker);
}
