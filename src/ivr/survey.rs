//! The satisfaction survey after the agent hangs up (issue 5 item 6), sans-IO like [`Flow`]:
//! `survey` ("satisfied 1, basically satisfied 2, dissatisfied 3"), one key, `survey-thanks`.
//!
//! [`Flow`]: super::Flow

use std::collections::VecDeque;
use std::time::Instant;

use super::{PLAY_GUARD, SURVEY_TIMEOUT};
use crate::media::prompt::{Item, Playlist};

/// What the survey asks the call layer to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SurveyAction {
    /// Play `playlist` in `language`; answer with [`Survey::play_done`] and `token`.
    Play {
        token: u64,
        language: String,
        playlist: Playlist,
    },
    /// Stop what is playing (the caller answered during the question).
    StopPlaying,
    /// The survey is over: the answer 1 (satisfied), 2 (basically satisfied),
    /// 3 (dissatisfied), or `None` (no valid key, or the caller hung up first).
    Done(Option<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The question plays or waits for a key; `retried` after one invalid key.
    Asking {
        retried: bool,
    },
    /// `survey-thanks` plays for this answer.
    Thanking(u8),
    Done,
}

/// One caller's survey. Every survey ends with exactly one [`SurveyAction::Done`].
#[derive(Debug, Clone)]
pub struct Survey {
    language: String,
    state: State,
    playing: Option<u64>,
    last_token: u64,
    timer: Option<Instant>,
    actions: VecDeque<SurveyAction>,
}

impl Survey {
    /// Starts the survey in `language` (the call's language): the question is ready at once.
    pub fn new(language: &str, now: Instant) -> Survey {
        let mut s = Survey {
            language: language.to_string(),
            state: State::Asking { retried: false },
            playing: None,
            last_token: 0,
            timer: None,
            actions: VecDeque::new(),
        };
        s.play(&["survey"], true, now);
        s
    }

    /// A key the caller pressed.
    pub fn digit(&mut self, d: char, now: Instant) {
        let State::Asking { retried } = self.state else {
            return;
        };
        if self.playing.take().is_some() {
            self.actions.push_back(SurveyAction::StopPlaying);
        }
        match d {
            '1'..='3' => {
                let answer = d as u8 - b'0';
                self.state = State::Thanking(answer);
                self.play(&["survey-thanks"], false, now);
            }
            _ if !retried => {
                self.state = State::Asking { retried: true };
                self.play(&["invalid-input", "survey"], true, now);
            }
            _ => self.finish(None),
        }
    }

    /// The playlist with `token` finished; an older token is ignored.
    pub fn play_done(&mut self, token: u64, now: Instant) {
        if self.playing != Some(token) {
            return;
        }
        self.playing = None;
        self.played(now);
    }

    /// The caller hung up: the survey ends with the answer given so far.
    pub fn hang_up(&mut self) {
        match self.state {
            State::Thanking(answer) => self.finish(Some(answer)),
            State::Asking { .. } => self.finish(None),
            State::Done => {}
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.timer.is_none_or(|t| t > now) {
            return;
        }
        self.timer = None;
        if self.playing.take().is_some() {
            self.played(now);
        } else if let State::Asking { .. } = self.state {
            self.finish(None);
        }
    }

    pub fn poll_action(&mut self) -> Option<SurveyAction> {
        self.actions.pop_front()
    }

    /// Over (its [`SurveyAction::Done`] may still wait in the queue).
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn played(&mut self, now: Instant) {
        match self.state {
            State::Asking { .. } => self.timer = Some(now + SURVEY_TIMEOUT),
            State::Thanking(answer) => self.finish(Some(answer)),
            State::Done => {}
        }
    }

    fn play(&mut self, names: &[&str], barge_in: bool, now: Instant) {
        self.last_token += 1;
        self.playing = Some(self.last_token);
        self.timer = Some(now + PLAY_GUARD);
        self.actions.push_back(SurveyAction::Play {
            token: self.last_token,
            language: self.language.clone(),
            playlist: Playlist {
                items: names.iter().map(|n| Item::Prompt(n.to_string())).collect(),
                looped: false,
                barge_in,
            },
        });
    }

    fn finish(&mut self, answer: Option<u8>) {
        self.state = State::Done;
        self.timer = None;
        self.playing = None;
        self.actions.push_back(SurveyAction::Done(answer));
    }
}
