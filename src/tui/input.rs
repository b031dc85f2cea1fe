//! Terminal input, read on a thread of its own, and the loop's wait for the
//! next frame, which input ends at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::Event;
use tokio::sync::mpsc;

use super::Event2;
use crate::app::Msg;

/// Waits until `until`, the next frame's time, handing what comes
/// meanwhile to `handle`, which says whether the frame is wanted at once
/// (input came, or quitting). A key used to sit out the rest of the wait:
/// up to a frame (16 ms) per key while a sync, an upload or a restore kept
/// the worker's updates, and so the waits, coming.
pub(super) async fn frame_wait<E>(
    inbox: &mut mpsc::UnboundedReceiver<E>,
    until: tokio::time::Instant,
    mut handle: impl FnMut(E) -> bool,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(until) => return,
            ev = inbox.recv() => match ev {
                Some(ev) => {
                    if handle(ev) {
                        return;
                    }
                }
                None => return,
            },
        }
    }
}

/// How long the input thread waits for a key before it looks whether it
/// should stop (a few wake-ups a second when idle).
const INPUT_POLL: Duration = Duration::from_millis(200);

/// Reads terminal input on a thread of its own and sends it to the inbox
/// stamped with when it came.
pub(super) struct InputThread {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl InputThread {
    pub(super) fn start(inbox: mpsc::UnboundedSender<Event2>) -> InputThread {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let read = move || {
            while !stopped.load(Ordering::Relaxed) {
                match crossterm::event::poll(INPUT_POLL) {
                    Ok(false) => continue,
                    Ok(true) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "terminal input failed");
                        return;
                    }
                }
                let msg = match crossterm::event::read() {
                    Ok(Event::Key(k)) => Msg::Key(k),
                    Ok(Event::Mouse(m)) => Msg::Mouse(m),
                    Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                    Ok(Event::Paste(p)) => Msg::Paste(p),
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "terminal input failed");
                        return;
                    }
                };
                if inbox.send(Event2::Input(msg, Instant::now())).is_err() {
                    return;
                }
            }
        };
        if let Err(e) = std::thread::Builder::new()
            .name("keepsake-input".to_owned())
            .spawn(read)
        {
            tracing::error!(error = %e, "cannot start reading the terminal");
        }
        InputThread { stop }
    }

    /// The thread ends within [`INPUT_POLL`]; it is not waited for.
    pub(super) fn stop(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPDATE: u32 = 1;
    const KEY: u32 = 2;

    /// A key that comes while worker updates wait for the frame's time
    /// ends the wait: the deadline here is an hour away, and the wait ends
    /// once the key is handled, updates before it handled in order.
    #[tokio::test]
    async fn a_key_ends_the_wait_for_the_frame() {
        let (tx, mut inbox) = mpsc::unbounded_channel();
        tx.send(UPDATE).unwrap();
        let sender = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            tx.send(UPDATE).unwrap();
            tx.send(KEY).unwrap();
            tx.send(UPDATE).unwrap();
        });
        let until = tokio::time::Instant::now() + Duration::from_secs(3600);
        let mut handled = vec![];
        tokio::time::timeout(
            Duration::from_secs(60),
            frame_wait(&mut inbox, until, |ev| {
                handled.push(ev);
                ev == KEY
            }),
        )
        .await
        .expect("the key did not end the wait for the frame");
        assert_eq!(handled, [UPDATE, UPDATE, KEY]);
        sender.await.unwrap();
        // What came after the key is left for the loop.
        assert_eq!(inbox.try_recv().ok(), Some(UPDATE));
    }

    /// Updates alone keep to the frame's time (they are drawn together),
    /// and a closed inbox ends the wait.
    #[tokio::test]
    async fn updates_alone_wait_for_the_frame_and_a_closed_inbox_ends_it() {
        let (tx, mut inbox) = mpsc::unbounded_channel();
        tx.send(UPDATE).unwrap();
        tx.send(UPDATE).unwrap();
        let until = tokio::time::Instant::now() + Duration::from_millis(50);
        let mut handled = 0;
        frame_wait(&mut inbox, until, |_| {
            handled += 1;
            false
        })
        .await;
        assert_eq!(handled, 2);
        assert!(
            tokio::time::Instant::now() >= until,
            "ended before its time"
        );

        drop(tx);
        let until = tokio::time::Instant::now() + Duration::from_secs(3600);
        tokio::time::timeout(
            Duration::from_secs(60),
            frame_wait(&mut inbox, until, |_| false),
        )
        .await
        .expect("a closed inbox did not end the wait");
    }
}
