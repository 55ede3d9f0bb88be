//! Registrar tests: authentication. Shared helpers live here too (see `tests_flow` for
//! bindings, expiry and scale).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::sip::auth::{respond, Algorithm, Challenge, Ha1};
use crate::sip::message::{new_branch, parse_datagram, Message};

pub(super) const REALM: &str = "hotline.test";

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(super) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A registrar over a fake clock: `t0` plus offsets.
pub(super) struct Fx {
    pub reg: Registrar,
    pub t0: Instant,
    pub src: SocketAddr,
    cnonce: u32,
}

pub(super) fn users(n: usize) -> HashMap<String, Ha1> {
    (0..n)
        .map(|i| {
            let user = format!("{}", 1000 + i);
            let ha1 = Ha1::from_password(&user, REALM, &format!("pw{user}"));
            (user, ha1)
        })
        .collect()
}

impl Fx {
    pub fn new() -> Fx {
        Fx::with(RegistrarConfig::new(REALM), users(3))
    }

    pub fn with(config: RegistrarConfig, creds: HashMap<String, Ha1>) -> Fx {
        let t0 = Instant::now();
        Fx {
            reg: Registrar::new(config, Box::new(creds), t0),
            t0,
            src: "192.0.2.10:5060".parse().unwrap(),
            cnonce: 0,
        }
    }

    pub fn send(&mut self, req: &Message, at: Duration) -> RegisterOutcome {
        self.reg.handle_register(req, self.src, "UDP", self.t0 + at)
    }

    /// A fresh challenge for `alg` from an unauthenticated REGISTER.
    pub fn challenge(&mut self, alg: Algorithm, at: Duration) -> String {
        let probe = request("1000", "probe", 1, &[]);
        let res = self.send(&probe, at);
        assert_eq!(res.response.status(), Some(401));
        challenge_for(&res.response, alg)
    }

    /// Answers `challenge` for `user` with `password`, returning the Authorization value.
    pub fn answer(&mut self, challenge: &str, user: &str, password: &str, nc: u32) -> String {
        self.cnonce += 1;
        let cnonce = format!("cn{}", self.cnonce);
        respond(
            challenge,
            "REGISTER",
            "sip:hotline.test",
            user,
            password,
            &cnonce,
            nc,
        )
        .unwrap()
    }

    /// The whole exchange for user `user` (password `pw<user>`): challenge, then the request
    /// with `extra` headers and credentials, at `at`.
    pub fn register(
        &mut self,
        user: &str,
        call_id: &str,
        cseq: u32,
        extra: &[(&str, &str)],
        at: Duration,
    ) -> RegisterOutcome {
        let ch = self.challenge(Algorithm::Sha256, at);
        let auth = self.answer(&ch, user, &format!("pw{user}"), 1);
        let mut headers = extra.to_vec();
        headers.push(("Authorization", &auth));
        let req = request(user, call_id, cseq, &headers);
        self.send(&req, at)
    }

    pub fn events(&mut self) -> Vec<RegistrarEvent> {
        std::iter::from_fn(|| self.reg.poll_event()).collect()
    }
}

/// A REGISTER for AoR `to_user` with extra header lines.
pub(super) fn request(to_user: &str, call_id: &str, cseq: u32, extra: &[(&str, &str)]) -> Message {
    let mut text = format!(
        "REGISTER sip:hotline.test SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch={}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{to_user}@hotline.test>;tag=f1\r\n\
         To: <sip:{to_user}@hotline.test>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} REGISTER\r\n\
         User-Agent: test-phone/1.0\r\n",
        new_branch()
    );
    for (n, v) in extra {
        text.push_str(&format!("{n}: {v}\r\n"));
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    parse_datagram(text.as_bytes()).unwrap()
}

/// The WWW-Authenticate line of a 401 for `alg`.
pub(super) fn challenge_for(res: &Message, alg: Algorithm) -> String {
    res.header_lines("WWW-Authenticate")
        .find(|v| Challenge::parse(v).unwrap().algorithm == alg)
        .unwrap()
        .to_string()
}

pub(super) fn status(o: &RegisterOutcome) -> u16 {
    o.response.status().unwrap()
}

/// Contacts listed in a 200 OK.
pub(super) fn listed(o: &RegisterOutcome) -> Vec<String> {
    o.response
        .header_lines("Contact")
        .map(str::to_string)
        .collect()
}

const CONTACT: (&str, &str) = ("Contact", "<sip:1001@192.0.2.10:5060>");

#[test]
fn registers_with_md5_and_sha256() {
    let mut fx = Fx::new();
    for (i, alg) in [Algorithm::Md5, Algorithm::Sha256].into_iter().enumerate() {
        let ch = fx.challenge(alg, secs(0));
        let auth = fx.answer(&ch, "1001", "pw1001", 1);
        let contact = format!("<sip:1001@192.0.2.10:{}>", 5060 + i);
        let req = request(
            "1001",
            "c1",
            1 + i as u32,
            &[("Contact", &contact), ("Authorization", &auth)],
        );
        let res = fx.send(&req, secs(1));
        assert_eq!(status(&res), 200, "{alg}: {}", res.response);
        assert_eq!(res.user.as_deref(), Some("1001"));
        assert!(res.response.to().unwrap().tag().is_some());
        assert_eq!(listed(&res).len(), i + 1);
    }
    assert_eq!(
        fx.events(),
        vec![
            RegistrarEvent::Registered {
                user: "1001".into(),
                contact: "sip:1001@192.0.2.10:5060".into()
            },
            RegistrarEvent::Registered {
                user: "1001".into(),
                contact: "sip:1001@192.0.2.10:5061".into()
            },
        ]
    );
    assert_eq!(fx.reg.contact_count(), 2);
    let b = fx.reg.lookup("1001", fx.t0 + secs(2));
    assert_eq!(b[0].user_agent.as_deref(), Some("test-phone/1.0"));
    assert_eq!(b[0].transport, "UDP");
    assert_eq!(b[0].source, fx.src);
}

#[test]
fn challenge_shape() {
    let mut fx = Fx::new();
    let res = fx.send(&request("1001", "c", 1, &[CONTACT]), secs(0));
    assert_eq!(status(&res), 401);
    assert_eq!(res.user, None);
    let chs: Vec<Challenge> = res
        .response
        .header_lines("WWW-Authenticate")
        .map(|v| Challenge::parse(v).unwrap())
        .collect();
    assert_eq!(chs.len(), 2);
    assert_eq!(chs[0].algorithm, Algorithm::Sha256);
    assert_eq!(chs[1].algorithm, Algorithm::Md5);
    for c in &chs {
        assert_eq!(c.realm, REALM);
        assert_eq!(c.qop, vec!["auth".to_string()]);
        assert!(!c.stale);
        assert!(c.opaque.is_some());
    }
    assert_eq!(fx.reg.contact_count(), 0);
}

#[test]
fn rfc2069_no_qop_registration() {
    let mut fx = Fx::new();
    let mut ch = Challenge::parse(&fx.challenge(Algorithm::Md5, secs(0))).unwrap();
    ch.qop.clear();
    let auth = fx.answer(&ch.to_string(), "1001", "pw1001", 1);
    assert!(!auth.contains("qop"));
    let res = fx.send(
        &request("1001", "c", 1, &[CONTACT, ("Authorization", &auth)]),
        secs(1),
    );
    assert_eq!(status(&res), 200);
}

#[test]
fn nonce_count_replay_is_refused() {
    let mut fx = Fx::new();
    let ch = fx.challenge(Algorithm::Sha256, secs(0));
    let auth1 = fx.answer(&ch, "1001", "pw1001", 1);
    let first = request("1001", "c", 1, &[CONTACT, ("Authorization", &auth1)]);
    assert_eq!(status(&fx.send(&first, secs(1))), 200);
    // The same credentials again (a replay, with a new CSeq so only the nc can catch it).
    let replay = request("1001", "c", 2, &[CONTACT, ("Authorization", &auth1)]);
    let res = fx.send(&replay, secs(2));
    assert_eq!(status(&res), 401);
    assert!(
        Challenge::parse(&challenge_for(&res.response, Algorithm::Sha256))
            .unwrap()
            .stale
    );
    // The honest client counting on with the same nonce is fine.
    let auth2 = fx.answer(&ch, "1001", "pw1001", 2);
    let next = request("1001", "c", 3, &[CONTACT, ("Authorization", &auth2)]);
    assert_eq!(status(&fx.send(&next, secs(3))), 200);
}

#[test]
fn stale_nonce_then_success() {
    let mut fx = Fx::new();
    let ch = fx.challenge(Algorithm::Md5, secs(0));
    let auth = fx.answer(&ch, "1001", "pw1001", 1);
    let late = request("1001", "c", 1, &[CONTACT, ("Authorization", &auth)]);
    let res = fx.send(&late, secs(301));
    assert_eq!(status(&res), 401);
    for v in res.response.header_lines("WWW-Authenticate") {
        assert!(Challenge::parse(v).unwrap().stale, "{v}");
        assert!(v.ends_with("stale=true"));
    }
    // A wrong password with the stale nonce is not told "stale".
    let wrong = fx.answer(&ch, "1001", "nope", 1);
    let res2 = fx.send(
        &request("1001", "c", 2, &[CONTACT, ("Authorization", &wrong)]),
        secs(301),
    );
    assert!(
        !Challenge::parse(&challenge_for(&res2.response, Algorithm::Md5))
            .unwrap()
            .stale
    );
    let fresh = challenge_for(&res.response, Algorithm::Md5);
    let auth = fx.answer(&fresh, "1001", "pw1001", 1);
    let retry = request("1001", "c", 3, &[CONTACT, ("Authorization", &auth)]);
    assert_eq!(status(&fx.send(&retry, secs(302))), 200);
}

/// Status, header names in order, and each challenge's parameters other than nonce and opaque.
fn shape(res: &RegisterOutcome) -> (u16, Vec<String>, Vec<String>) {
    let names = res
        .response
        .headers
        .iter()
        .map(|h| h.name.clone())
        .collect();
    let chs = res
        .response
        .header_lines("WWW-Authenticate")
        .map(|v| {
            let mut c = Challenge::parse(v).unwrap();
            c.nonce.clear();
            c.opaque = None;
            c.to_string()
        })
        .collect();
    (status(res), names, chs)
}

#[test]
fn unknown_user_and_wrong_password_look_alike() {
    let mut fx = Fx::new();
    let ch = fx.challenge(Algorithm::Sha256, secs(0));
    let wrong_pw = fx.answer(&ch, "1001", "guess", 1);
    let unknown = fx.answer(&ch, "9999", "guess", 1);
    let known_res = fx.send(
        &request("1001", "a", 1, &[CONTACT, ("Authorization", &wrong_pw)]),
        secs(1),
    );
    let unknown_res = fx.send(
        &request(
            "9999",
            "a",
            1,
            &[
                ("Contact", "<sip:9999@192.0.2.10:5060>"),
                ("Authorization", &unknown),
            ],
        ),
        secs(1),
    );
    let none_res = fx.send(&request("9999", "a", 1, &[CONTACT]), secs(1));
    assert_eq!(status(&known_res), 401);
    assert_eq!(shape(&known_res), shape(&unknown_res));
    assert_eq!(shape(&known_res), shape(&none_res));
    assert_eq!(
        known_res.response.to_bytes().len(),
        unknown_res.response.to_bytes().len()
    );
    let n1 = Challenge::parse(&challenge_for(&known_res.response, Algorithm::Sha256)).unwrap();
    let n2 = Challenge::parse(&challenge_for(&unknown_res.response, Algorithm::Sha256)).unwrap();
    assert_ne!(n1.nonce, ch);
    assert_ne!(n1.nonce, n2.nonce);
    assert_eq!(fx.reg.contact_count(), 0);
}

#[test]
fn aor_must_match_the_credentials() {
    let mut fx = Fx::new();
    let ch = fx.challenge(Algorithm::Sha256, secs(0));
    let auth = fx.answer(&ch, "1001", "pw1001", 1);
    let req = request(
        "1002",
        "c",
        1,
        &[
            ("Contact", "<sip:1002@192.0.2.10>"),
            ("Authorization", &auth),
        ],
    );
    let res = fx.send(&req, secs(1));
    assert_eq!(status(&res), 403);
    assert_eq!(res.user.as_deref(), Some("1001"));
    assert_eq!(res.response.header("WWW-Authenticate"), None);
    assert_eq!(fx.reg.contact_count(), 0);
}

#[test]
fn forged_malformed_and_foreign_credentials() {
    let mut fx = Fx::new();
    let forged = "Digest username=\"1001\", realm=\"hotline.test\", nonce=\"abc\", \
                  uri=\"sip:hotline.test\", response=\"00\"";
    let res = fx.send(
        &request("1001", "c", 1, &[CONTACT, ("Authorization", forged)]),
        secs(0),
    );
    assert_eq!(status(&res), 401);
    let malformed = "Digest username=\"1001\", realm=";
    let res = fx.send(
        &request("1001", "c", 2, &[CONTACT, ("Authorization", malformed)]),
        secs(0),
    );
    assert_eq!(status(&res), 400);
    // Valid credentials for another realm are ignored: challenged again.
    let ch = fx
        .challenge(Algorithm::Md5, secs(0))
        .replace(REALM, "elsewhere");
    let auth = fx.answer(&ch, "1001", "pw1001", 1);
    let res = fx.send(
        &request("1001", "c", 3, &[CONTACT, ("Authorization", &auth)]),
        secs(0),
    );
    assert_eq!(status(&res), 401);
    // Not a REGISTER.
    let mut invite = request("1001", "c", 4, &[]);
    invite.start = crate::sip::message::StartLine::Request {
        method: Method::Invite,
        uri: crate::sip::message::Uri::parse("sip:hotline.test").unwrap(),
        version: "SIP/2.0".into(),
    };
    assert_eq!(status(&fx.send(&invite, secs(0))), 405);
    // Broken mandatory headers.
    let mut broken = request("1001", "c", 5, &[]);
    broken.remove_header("Call-ID");
    assert_eq!(status(&fx.send(&broken, secs(0))), 400);
}

#[test]
fn failure_rate_limit() {
    let mut cfg = RegistrarConfig::new(REALM);
    cfg.max_failures = 20;
    cfg.failure_window = secs(60);
    let mut fx = Fx::with(cfg, users(3));
    // Successes do not count.
    for i in 0..30 {
        let res = fx.register("1001", "ok", 1 + i, &[CONTACT], secs(0));
        assert_eq!(status(&res), 200);
    }
    for i in 0..20 {
        let ch = fx.challenge(Algorithm::Sha256, secs(1));
        let auth = fx.answer(&ch, "1002", "guess", 1);
        let res = fx.send(
            &request("1002", "bad", 1 + i, &[("Authorization", &auth)]),
            secs(1),
        );
        assert_eq!(status(&res), 401, "failure {i}");
    }
    assert_eq!(fx.reg.tracked().0, 1);
    // Used up: 403 without a challenge, even with the right password or none at all.
    let ch_res = fx.send(&request("1002", "x", 1, &[]), secs(2));
    assert_eq!(status(&ch_res), 403);
    assert_eq!(ch_res.response.header("WWW-Authenticate"), None);
    // Another source is not affected.
    let other: SocketAddr = "198.51.100.1:5060".parse().unwrap();
    let res = fx.reg.handle_register(
        &request("1002", "x", 3, &[]),
        other,
        "TCP",
        fx.t0 + secs(30),
    );
    assert_eq!(status(&res), 401);
    let ch = challenge_for(&res.response, Algorithm::Sha256);
    let right = fx.answer(&ch, "1002", "pw1002", 1);
    let blocked = fx.send(
        &request("1002", "x", 4, &[("Authorization", &right)]),
        secs(30),
    );
    assert_eq!(status(&blocked), 403);
    assert_eq!(blocked.user, None);
    // The window opened with the first failure at 1 s: closed at 61 s.
    assert_eq!(
        status(&fx.send(&request("1002", "x", 4, &[]), secs(60) + ms(999))),
        403
    );
    let res = fx.register("1002", "x", 5, &[("Contact", "<sip:1002@h>")], secs(61));
    assert_eq!(status(&res), 200);
}
