//! Property test: whatever parses — valid messages with bytes flipped, dropped or inserted —
//! may be fed to the endpoint in any order with timers running, and nothing panics; the
//! endpoint still answers a clean call afterwards.

use proptest::prelude::*;

use super::tests::{peer, Harness, PHONE, TRUNK};
use super::Inbound;
use crate::sip::message::parse_datagram;

fn seeds(h: &mut Harness) -> Vec<String> {
    let invite = h.invite(
        "12345",
        "fz",
        "caller",
        "Supported: timer\r\nSession-Expires: 120\r\n",
    );
    vec![
        invite.clone(),
        invite.replacen("INVITE sip:", "CANCEL sip:", 1).replace("1 INVITE", "1 CANCEL"),
        "ACK sip:12345@203.0.113.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa\r\n\
         From: <sip:caller@192.0.2.1>;tag=callerfz\r\nTo: <sip:12345@203.0.113.1>;tag=x\r\n\
         Call-ID: fz\r\nCSeq: 1 ACK\r\n\r\n"
            .into(),
        "BYE sip:12345@203.0.113.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKb\r\n\
         From: <sip:caller@192.0.2.1>;tag=callerfz\r\nTo: <sip:12345@203.0.113.1>;tag=x\r\n\
         Call-ID: fz\r\nCSeq: 2 BYE\r\n\r\n"
            .into(),
        "REGISTER sip:203.0.113.1 SIP/2.0\r\nv: SIP/2.0/UDP 198.51.100.7:5062;rport;branch=z9hG4bKr\r\n\
         f: <sip:1001@203.0.113.1>;tag=r\r\nt: <sip:1001@203.0.113.1>\r\ni: reg\r\n\
         CSeq: 1 REGISTER\r\nm: <sip:1001@198.51.100.7:5062>;expires=60\r\n\
         Authorization: Digest username=\"1001\", realm=\"hotline\", nonce=\"abc\", uri=\"sip:x\", response=\"00\", qop=auth, nc=00000001, cnonce=\"c\"\r\n\r\n"
            .into(),
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKnothing\r\n\
         From: <sip:hotline@203.0.113.1>;tag=a\r\nTo: <sip:x@192.0.2.50>;tag=b\r\nCall-ID: out\r\n\
         CSeq: 1 INVITE\r\n\r\n"
            .into(),
    ]
}

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Delete(usize),
    Insert(usize, u8),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let special = prop_oneof![
        Just(b'\r'),
        Just(b'\n'),
        Just(0u8),
        Just(b';'),
        Just(b','),
        Just(b'"'),
        Just(b'<'),
        Just(b':'),
        Just(b' '),
        any::<u8>()
    ];
    prop_oneof![
        (any::<usize>(), special.clone()).prop_map(|(i, b)| Edit::Flip(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), special).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        if bytes.is_empty() {
            break;
        }
        let n = bytes.len();
        match *e {
            Edit::Flip(i, b) => bytes[i % n] = b,
            Edit::Delete(i) => {
                bytes.remove(i % n);
            }
            Edit::Insert(i, b) => bytes.insert(i % (n + 1), b),
            Edit::Truncate(i) => bytes.truncate(i % n),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn mutated_traffic_never_panics(
        picks in proptest::collection::vec((0usize..6, proptest::collection::vec(edit(), 0..4), any::<bool>()), 1..12),
        advance in proptest::collection::vec(0u64..40_000, 1..12),
    ) {
        let mut h = Harness::new(|c| c.numbers[1].answer_after_ms = 500);
        let seeds = seeds(&mut h);
        let mut clock = 0u64;
        for (i, (pick, edits, from_trunk)) in picks.iter().enumerate() {
            let bytes = apply(seeds[*pick].clone().into_bytes(), edits);
            if let Ok(msg) = parse_datagram(&bytes) {
                let from = peer(if *from_trunk { TRUNK } else { PHONE });
                h.ep.handle_inbound(Inbound { msg, from }, h.now);
                h.drain();
            }
            clock += advance[i % advance.len()];
            h.run_to(clock);
        }
        h.take();
        // Still serving: a clean call is answered.
        let inv = h.invite("12345", "after-fuzz", "caller", "");
        let msg = parse_datagram(inv.as_bytes()).unwrap();
        h.ep.handle_inbound(Inbound { msg, from: peer(TRUNK) }, h.now);
        h.drain();
        let codes: Vec<u16> = h.take().iter().filter_map(|(_, m)| m.status()).collect();
        prop_assert_eq!(codes, vec![100, 200]);
    }
}
