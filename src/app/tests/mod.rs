//! `update` for the key flows: state and the commands it asks for.

pub(super) use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub(super) use super::fixtures::{self, *};
pub(super) use super::*;
pub(super) use crate::matrix::protocol::{Error, ErrorKind, OpId, Request};
pub(super) use crate::matrix::verify::{VerifyState, VerifyUpdate};

pub(super) fn press(st: &mut AppState, code: KeyCode) -> Vec<Effect> {
    update(st, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub(super) fn typed(st: &mut AppState, text: &str) {
    for c in text.chars() {
        press(st, KeyCode::Char(c));
    }
}

/// Plays the runtime: records each worker command under a fresh op id.
pub(super) fn sent(st: &mut AppState, fx: &[Effect]) -> Vec<OpId> {
    let mut ops = vec![];
    for (n, e) in fx.iter().enumerate() {
        if let Effect::Worker(c) = e {
            let op = 1000 + n as OpId + st.pending.len() as OpId * 100;
            st.sent(op, c.clone());
            ops.push(op);
        }
    }
    ops
}

/// The worker's answer to `op`, sent as the command `R`.
pub(super) fn done<R: Request>(op: OpId, r: Result<R::Output, Error>) -> Msg {
    Msg::Worker(Update::Done {
        op,
        outcome: R::done(r),
    })
}

/// Answers the question on screen with "y", after reading it.
pub(super) fn yes(st: &mut AppState) -> Vec<Effect> {
    assert!(st.confirm.is_some(), "no question is asked");
    for _ in 0..CONFIRM_ARM_TICKS {
        update(st, Msg::Tick);
    }
    press(st, KeyCode::Char('y'))
}

pub(super) fn worker_cmds(fx: &[Effect]) -> Vec<&Command> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Worker(c) => Some(c),
            _ => None,
        })
        .collect()
}

pub(super) fn run(st: &mut AppState, line: &str) -> Vec<Effect> {
    press(st, KeyCode::Char(':'));
    typed(st, line);
    press(st, KeyCode::Enter)
}

mod backup;
mod composer;
mod reading;
mod recovery;
mod rooms;
mod secrets;
mod timeline;
mod verify;
