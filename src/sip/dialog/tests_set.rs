//! The dialog set: matching requests and responses, 481, forks, and 10,000 session timers on
//! a fake clock.

use std::time::Instant;

use super::tests::OUR_INVITE;
use super::tests::{ms, our_contact, parse, phone_response, t0, trunk_request, TRUNK_INVITE};
use super::*;
use crate::sip::message::{Message, Method};

#[test]
fn requests_find_their_dialog_or_get_481() {
    let mut set = Dialogs::default();
    let invite = parse(TRUNK_INVITE);
    assert_eq!(
        set.on_request(&invite),
        Ok(None),
        "no To tag: not in a dialog"
    );
    let mut d = Dialog::uas_from_invite(&invite, "lt1", &our_contact()).unwrap();
    let mut ok = Message::response_to(&invite, 200, None);
    d.decorate_response(&invite, &mut ok, t0());
    let id = set.insert(d);
    assert_eq!(set.len(), 1);

    let info = trunk_request("INFO", 102, "");
    assert_eq!(set.on_request(&info), Ok(Some(id.clone())));
    assert_eq!(set.find(&info).map(Dialog::id), Some(&id));
    assert_eq!(set.on_request(&info), Err(500), "same CSeq again");
    let stranger = trunk_request("INFO", 103, "")
        .to_string()
        .replace("tag=lt1", "tag=gone");
    assert_eq!(set.on_request(&parse(&stranger)), Err(481));
    let cancel = trunk_request("CANCEL", 101, "")
        .to_string()
        .replace("tag=lt1", "tag=gone");
    assert_eq!(set.on_request(&parse(&cancel)), Ok(None));

    assert_eq!(
        set.on_request(&trunk_request("BYE", 104, "")),
        Ok(Some(id.clone()))
    );
    assert!(set.get(&id).unwrap().is_terminated());
    assert_eq!(set.on_request(&trunk_request("INFO", 105, "")), Err(481));
    assert_eq!(set.remove_terminated(), vec![id.clone()]);
    assert!(set.is_empty());
    assert_eq!(set.on_request(&trunk_request("INFO", 106, "")), Err(481));
    assert_eq!(set.poll_timeout(), None);
}

#[test]
fn responses_create_one_dialog_per_fork() {
    let mut set = Dialogs::default();
    let invite = parse(OUR_INVITE);
    let now = t0();
    let trying = phone_response(100, "Trying", "x", "")
        .to_string()
        .replace(";tag=x", "");
    assert_eq!(set.on_response(&invite, &parse(&trying), now), Ok(None));
    assert!(set.is_empty());
    let a = set
        .on_response(&invite, &phone_response(180, "Ringing", "ph1", ""), now)
        .unwrap()
        .unwrap();
    let b = set
        .on_response(&invite, &phone_response(183, "Progress", "ph2", ""), now)
        .unwrap()
        .unwrap();
    assert_ne!(a, b);
    assert_eq!(set.len(), 2);
    assert!(set.iter().all(|d| d.state() == DialogState::Early));

    let ok = phone_response(200, "OK", "ph1", "Session-Expires: 1800;refresher=uac\n");
    assert_eq!(set.on_response(&invite, &ok, now), Ok(Some(a.clone())));
    assert_eq!(set.get(&a).unwrap().state(), DialogState::Confirmed);
    assert_eq!(set.poll_timeout(), Some(now + ms(900_000)));
    // The INVITE transaction ends: the fork that never answered goes.
    assert_eq!(
        set.end_early_dialogs("out-1@192.0.2.10", "ours"),
        vec![b.clone()]
    );
    assert_eq!(set.remove_terminated(), vec![b]);
    assert_eq!(set.len(), 1);
}

#[test]
fn a_final_failure_ends_every_fork() {
    let mut set = Dialogs::default();
    let invite = parse(OUR_INVITE);
    let now = t0();
    for tag in ["ph1", "ph2"] {
        set.on_response(&invite, &phone_response(180, "Ringing", tag, ""), now)
            .unwrap();
    }
    let busy = phone_response(486, "Busy Here", "ph3", "");
    assert_eq!(set.on_response(&invite, &busy, now), Ok(None));
    assert!(set.iter().all(Dialog::is_terminated));
    assert_eq!(set.remove_terminated().len(), 2);
}

#[test]
fn timers_through_the_set() {
    let mut set = Dialogs::default();
    let invite = parse(OUR_INVITE);
    let start = t0();
    let ok = phone_response(
        200,
        "OK",
        "ph1",
        "Allow: INVITE, ACK, BYE, UPDATE\nSession-Expires: 90;refresher=uac\n",
    );
    let id = set.on_response(&invite, &ok, start).unwrap().unwrap();
    assert_eq!(set.poll_timeout(), Some(start + ms(45_000)));
    assert!(set.handle_timeout(start + ms(44_999)).is_empty());
    let fired = set.handle_timeout(start + ms(45_000));
    assert_eq!(fired.len(), 1);
    let (fired_id, DialogAction::SendRefresh(req)) = &fired[0] else {
        panic!("refresh expected");
    };
    assert_eq!(fired_id, &id);
    assert_eq!(req.method(), Some(&Method::Update));
    // Mutating through `update` requeues: a local terminate removes the deadline.
    assert_eq!(set.poll_timeout(), Some(start + ms(60_000)));
    set.update(&id, Dialog::terminate);
    assert_eq!(set.poll_timeout(), None);
    assert!(set.handle_timeout(start + ms(100_000)).is_empty());
}

/// A confirmed UAS dialog for call `n`: even calls leave refreshing to the trunk
/// (`refresher=uac`), odd ones make us refresh (`refresher=uas`).
fn uas_call(n: usize, now: Instant) -> Dialog {
    let refresher = if n.is_multiple_of(2) { "uac" } else { "uas" };
    let text = TRUNK_INVITE
        .replace("call-1@10.0.0.5", &format!("call-{n}@10.0.0.5"))
        .replace(
            "Session-Expires: 1800",
            &format!("Session-Expires: 1800;refresher={refresher}"),
        );
    let invite = parse(&text);
    let mut d = Dialog::uas_from_invite(&invite, &format!("lt{n}"), &our_contact()).unwrap();
    let mut ok = Message::response_to(&invite, 200, None);
    d.decorate_response(&invite, &mut ok, now);
    d
}

fn count(actions: &[(DialogId, DialogAction)]) -> (usize, usize) {
    let refresh = actions
        .iter()
        .filter(|(_, a)| matches!(a, DialogAction::SendRefresh(_)))
        .count();
    (refresh, actions.len() - refresh)
}

#[test]
fn ten_thousand_dialogs_on_a_fake_clock() {
    const N: usize = 10_000;
    let start = t0();
    let mut set = Dialogs::default();
    for n in 0..N {
        set.insert(uas_call(n, start));
    }
    assert_eq!(set.len(), N);
    assert_eq!(set.poll_timeout(), Some(start + ms(900_000)));
    assert!(set.handle_timeout(start + ms(899_999)).is_empty());

    // Half time: the 5,000 dialogs we refresh send an UPDATE each.
    let half = start + ms(900_000);
    let fired = set.handle_timeout(half);
    assert_eq!(count(&fired), (N / 2, 0));
    // The trunk answers half of them (calls 1, 5, 9, …).
    let answered_at = half + ms(300);
    let mut answered = 0;
    for (id, action) in &fired {
        let DialogAction::SendRefresh(req) = action else {
            unreachable!()
        };
        let n: usize = id.local_tag[2..].parse().unwrap();
        if n % 4 == 1 {
            let mut ok = Message::response_to(req, 200, None);
            ok.push_header("Session-Expires", "1800;refresher=uac");
            assert_eq!(set.on_response(req, &ok, answered_at), Ok(Some(id.clone())));
            answered += 1;
        }
    }
    assert_eq!(answered, N / 4);

    // The trunk refreshes half of the dialogs it is responsible for (calls 0, 4, 8, …).
    let refreshed_at = start + ms(1_000_000);
    for n in (0..N).step_by(4) {
        let update = trunk_request("UPDATE", 102, "Session-Expires: 1800;refresher=uac\n")
            .to_string()
            .replace("call-1@10.0.0.5", &format!("call-{n}@10.0.0.5"))
            .replace("tag=lt1", &format!("tag=lt{n}"));
        let update = parse(&update);
        let id = set.on_request(&update).unwrap().unwrap();
        set.update(&id, |d| {
            let mut ok = Message::response_to(&update, 200, None);
            d.decorate_response(&update, &mut ok, refreshed_at);
        });
    }

    // At SE − 32 s the other half has had no successful refresh: expired.
    let expiry = start + ms(1_768_000);
    assert_eq!(set.poll_timeout(), Some(expiry));
    let fired = set.handle_timeout(expiry);
    assert_eq!(count(&fired), (0, N / 2));
    assert!(fired.iter().all(|(id, _)| {
        let n: usize = id.local_tag[2..].parse().unwrap();
        n % 4 == 2 || n % 4 == 3
    }));
    for (id, _) in &fired {
        let bye = set.update(id, Dialog::bye).unwrap();
        assert_eq!(bye.method(), Some(&Method::Bye));
    }
    assert_eq!(set.remove_terminated().len(), N / 2);
    assert_eq!(set.len(), N / 2);

    // The refreshed ones carry on: ours refresh again 900 s after their 2xx …
    assert_eq!(set.poll_timeout(), Some(answered_at + ms(900_000)));
    let fired = set.handle_timeout(answered_at + ms(900_000));
    assert_eq!(count(&fired), (N / 4, 0));
    // … and, never answered this time, expire 1,768 s after the last 2xx;
    let fired = set.handle_timeout(answered_at + ms(1_768_000));
    assert_eq!(count(&fired), (0, N / 4));
    // the trunk's expire 1,768 s after its refresh, since it sends no other.
    assert_eq!(set.poll_timeout(), Some(refreshed_at + ms(1_768_000)));
    let fired = set.handle_timeout(refreshed_at + ms(1_768_000));
    assert_eq!(count(&fired), (0, N / 4));
    assert_eq!(set.poll_timeout(), None);
}
