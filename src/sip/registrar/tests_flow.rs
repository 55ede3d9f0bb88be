//! Registrar tests: bindings, expiry, ordering, limits and scale.

use super::tests::{listed, ms, secs, status, users, Fx, REALM};
use super::*;

const A: &str = "sip:1001@192.0.2.10:5060";
const B: &str = "sip:1001@192.0.2.11:5060";
const C: &str = "sip:1001@192.0.2.12:5060;transport=tcp";

fn contact(uri: &str, params: &str) -> String {
    format!("<{uri}>{params}")
}

fn registered(contact: &str) -> RegistrarEvent {
    RegistrarEvent::Registered {
        user: "1001".into(),
        contact: contact.into(),
    }
}

#[test]
fn expiry_refresh_and_lapse_at_the_exact_second() {
    let mut fx = Fx::new();
    let c = contact(A, "");
    let res = fx.register(
        "1001",
        "call",
        1,
        &[("Contact", &c), ("Expires", "60")],
        secs(0),
    );
    assert_eq!(status(&res), 200);
    assert_eq!(listed(&res), vec![format!("<{A}>;expires=60")]);
    assert_eq!(fx.reg.poll_timeout(), Some(fx.t0 + secs(60)));
    fx.reg.handle_timeout(fx.t0 + secs(60) - ms(1));
    assert_eq!(fx.events(), vec![registered(A)]);

    let res = fx.register(
        "1001",
        "call",
        2,
        &[("Contact", &c), ("Expires", "60")],
        secs(30),
    );
    assert_eq!(listed(&res), vec![format!("<{A}>;expires=60")]);
    assert_eq!(
        fx.events(),
        vec![RegistrarEvent::Refreshed {
            user: "1001".into(),
            contact: A.into()
        }]
    );
    assert_eq!(fx.reg.poll_timeout(), Some(fx.t0 + secs(90)));
    assert_eq!(fx.reg.lookup("1001", fx.t0 + secs(90) - ms(1)).len(), 1);
    assert!(fx.reg.lookup("1001", fx.t0 + secs(90)).is_empty());
    fx.reg.handle_timeout(fx.t0 + secs(90) - ms(1));
    assert!(fx.events().is_empty());
    fx.reg.handle_timeout(fx.t0 + secs(90));
    assert_eq!(
        fx.events(),
        vec![RegistrarEvent::Lapsed {
            user: "1001".into(),
            contact: A.into(),
            remaining: 0
        }]
    );
    assert_eq!(fx.reg.contact_count(), 0);
    assert_eq!(fx.reg.user_count(), 0);
    assert_eq!(fx.reg.poll_timeout(), None);
}

#[test]
fn several_contacts_lookup_and_unregister() {
    let mut fx = Fx::new();
    let (a, b, c) = (contact(A, ";q=0.5"), contact(B, ""), contact(C, ";q=1.0"));
    assert_eq!(
        status(&fx.register("1001", "x", 1, &[("Contact", &a)], secs(0))),
        200
    );
    assert_eq!(
        status(&fx.register("1001", "y", 1, &[("Contact", &b)], secs(1))),
        200
    );
    let res = fx.register("1001", "z", 1, &[("Contact", &c)], secs(2));
    assert_eq!(
        listed(&res),
        vec![
            format!("<{A}>;expires=3598;q=0.5"),
            format!("<{B}>;expires=3599"),
            format!("<{C}>;expires=3600"),
        ]
    );
    let order: Vec<&str> = fx
        .reg
        .lookup("1001", fx.t0 + secs(3))
        .iter()
        .map(|b| b.contact.as_str())
        .collect();
    assert_eq!(order, vec![C, B, A]);
    assert_eq!(
        fx.events(),
        vec![registered(A), registered(B), registered(C)]
    );

    // Unregister one.
    let gone = contact(B, ";expires=0");
    let res = fx.register("1001", "y", 2, &[("Contact", &gone)], secs(3));
    assert_eq!(listed(&res).len(), 2);
    assert_eq!(
        fx.events(),
        vec![RegistrarEvent::Unregistered {
            user: "1001".into(),
            contact: B.into(),
            remaining: 2
        }]
    );

    // `*` needs Expires: 0 and must stand alone.
    let res = fx.register("1001", "w", 1, &[("Contact", "*")], secs(4));
    assert_eq!(status(&res), 400);
    let res = fx.register(
        "1001",
        "w",
        1,
        &[("Contact", "*"), ("Contact", &b), ("Expires", "0")],
        secs(4),
    );
    assert_eq!(status(&res), 400);
    assert_eq!(fx.reg.contact_count(), 2);
    let res = fx.register(
        "1001",
        "w",
        1,
        &[("Contact", "*"), ("Expires", "0")],
        secs(4),
    );
    assert_eq!(status(&res), 200);
    assert!(listed(&res).is_empty());
    let ev = fx.events();
    assert_eq!(ev.len(), 2);
    assert!(matches!(
        ev[1],
        RegistrarEvent::Unregistered { remaining: 0, .. }
    ));
    assert_eq!(fx.reg.contact_count(), 0);
    assert_eq!(fx.reg.poll_timeout(), None);
}

#[test]
fn expires_bounds() {
    let mut fx = Fx::new();
    let a = contact(A, "");
    let res = fx.register(
        "1001",
        "c",
        1,
        &[("Contact", &a), ("Expires", "30")],
        secs(0),
    );
    assert_eq!(status(&res), 423);
    assert_eq!(res.response.header("Min-Expires"), Some("60"));
    let short = contact(A, ";expires=59");
    let res = fx.register("1001", "c", 2, &[("Contact", &short)], secs(0));
    assert_eq!(status(&res), 423);
    // The contact parameter wins over the header; long requests are shortened.
    let long = contact(B, ";expires=7200");
    let res = fx.register(
        "1001",
        "c",
        3,
        &[("Contact", &a), ("Contact", &long), ("Expires", "120")],
        secs(0),
    );
    assert_eq!(status(&res), 200);
    assert_eq!(
        listed(&res),
        vec![format!("<{A}>;expires=120"), format!("<{B}>;expires=3600")]
    );
    // Removing a contact that is not registered is fine.
    let zero = contact(C, ";expires=0");
    let res = fx.register("1001", "c", 4, &[("Contact", &zero)], secs(1));
    assert_eq!(status(&res), 200);
    assert_eq!(fx.reg.contact_count(), 2);
    for bad in [";q=2", ";q=0.1234", ";q", ";expires=soon"] {
        let c = contact(C, bad);
        let res = fx.register("1001", "c", 5, &[("Contact", &c)], secs(1));
        assert_eq!(status(&res), 400, "{bad}");
    }
    assert_eq!(fx.reg.contact_count(), 2);
}

#[test]
fn call_id_and_cseq_ordering() {
    let mut fx = Fx::new();
    let a = contact(A, "");
    assert_eq!(
        status(&fx.register("1001", "one", 5, &[("Contact", &a)], secs(0))),
        200
    );
    let before = fx
        .reg
        .lookup("1001", fx.t0)
        .into_iter()
        .cloned()
        .collect::<Vec<_>>();
    for cseq in [5, 4] {
        let res = fx.register("1001", "one", cseq, &[("Contact", &a)], secs(10));
        assert_eq!(status(&res), 500, "CSeq {cseq}");
    }
    // All or nothing: a new contact next to an out-of-order one is not added either.
    let b = contact(B, "");
    let res = fx.register(
        "1001",
        "one",
        5,
        &[("Contact", &b), ("Contact", &a)],
        secs(10),
    );
    assert_eq!(status(&res), 500);
    let star = fx.register(
        "1001",
        "one",
        3,
        &[("Contact", "*"), ("Expires", "0")],
        secs(10),
    );
    assert_eq!(status(&star), 500);
    let after = fx
        .reg
        .lookup("1001", fx.t0)
        .into_iter()
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(before, after);
    assert_eq!(fx.events(), vec![registered(A)]);

    assert_eq!(
        status(&fx.register("1001", "one", 6, &[("Contact", &a)], secs(10))),
        200
    );
    // Another Call-ID (a rebooted phone) may start low.
    assert_eq!(
        status(&fx.register("1001", "two", 1, &[("Contact", &a)], secs(11))),
        200
    );
    let b0 = &fx.reg.lookup("1001", fx.t0 + secs(11))[0];
    assert_eq!((b0.call_id.as_str(), b0.cseq), ("two", 1));
    assert_eq!(
        status(&fx.register("1001", "one", 2, &[("Contact", &a)], secs(12))),
        200
    );
}

#[test]
fn contact_limit_drops_the_oldest() {
    let mut cfg = RegistrarConfig::new(REALM);
    cfg.max_contacts = 3;
    let mut fx = Fx::with(cfg, users(3));
    for i in 0..4u64 {
        let c = format!("<sip:1001@192.0.2.{i}>");
        let res = fx.register("1001", "c", 1 + i as u32, &[("Contact", &c)], secs(i));
        assert_eq!(status(&res), 200);
        assert!(listed(&res).len() <= 3);
    }
    let ev = fx.events();
    assert_eq!(
        ev.last(),
        Some(&RegistrarEvent::Unregistered {
            user: "1001".into(),
            contact: "sip:1001@192.0.2.0".into(),
            remaining: 3
        })
    );
    assert_eq!(fx.reg.contact_count(), 3);
}

#[test]
fn query_lists_without_changing() {
    let mut fx = Fx::new();
    let a = contact(A, "");
    fx.register("1001", "c", 1, &[("Contact", &a)], secs(0));
    fx.events();
    let res = fx.register("1001", "q", 1, &[], secs(10));
    assert_eq!(status(&res), 200);
    assert_eq!(listed(&res), vec![format!("<{A}>;expires=3590")]);
    // Half a second in, the remaining time rounds up.
    let res = fx.register("1001", "q", 2, &[], secs(10) + ms(500));
    assert_eq!(listed(&res), vec![format!("<{A}>;expires=3590")]);
    assert!(fx.events().is_empty());
    assert_eq!(fx.reg.poll_timeout(), Some(fx.t0 + secs(3600)));

    fx.reg.remove_user("1001");
    assert_eq!(
        fx.events(),
        vec![RegistrarEvent::Unregistered {
            user: "1001".into(),
            contact: A.into(),
            remaining: 0
        }]
    );
    assert_eq!(fx.reg.poll_timeout(), None);
}

#[test]
fn ten_thousand_users_register_and_lapse() {
    const N: usize = 10_000;
    let mut fx = Fx::with(RegistrarConfig::new(REALM), users(N));
    let started = std::time::Instant::now();
    for i in 0..N {
        let user = format!("{}", 1000 + i);
        let c = format!(
            "<sip:{user}@10.{}.{}.{}:5060>",
            i / 65536,
            (i / 256) % 256,
            i % 256
        );
        let exp = format!("{}", 60 + i % 120);
        let res = fx.register(
            &user,
            "c",
            1,
            &[("Contact", &c), ("Expires", &exp)],
            ms(i as u64),
        );
        assert_eq!(status(&res), 200, "{user}");
    }
    let took = started.elapsed();
    assert_eq!(fx.reg.contact_count(), N);
    assert_eq!(fx.reg.user_count(), N);
    let registered = fx
        .events()
        .iter()
        .filter(|e| matches!(e, RegistrarEvent::Registered { .. }))
        .count();
    assert_eq!(registered, N);

    let b = fx.reg.lookup("1000", fx.t0).into_iter().next().unwrap();
    println!(
        "{N} registrations (challenge + authenticated REGISTER each) took {took:?}; one Binding: \
         {} bytes of struct, {} bytes with its strings ({:?})",
        std::mem::size_of::<Binding>(),
        b.memory_size(),
        b.contact
    );

    let mut lapsed = 0;
    let mut steps = 0;
    while let Some(t) = fx.reg.poll_timeout() {
        fx.reg.handle_timeout(t);
        steps += 1;
        while let Some(e) = fx.reg.poll_event() {
            assert!(matches!(e, RegistrarEvent::Lapsed { remaining: 0, .. }));
            lapsed += 1;
        }
    }
    assert_eq!(lapsed, N);
    assert!(steps <= N);
    assert_eq!(fx.reg.contact_count(), 0);
}
