//! Property tests: arbitrary bytes and mutated valid messages (byte flips, truncations,
//! insertions of the octets parsers trip on) through the datagram parser, the stream framer in
//! random chunks, every typed accessor and both validations. Nothing may panic, and whatever
//! parses must write back to an equal message and frame the same on a stream. The same checks
//! back the `cargo fuzz` target in `fuzz/`.

use hotline::sip::message::{parse_datagram, ParseError, StreamFramer};
use proptest::prelude::*;

use crate::fuzz_check::{exercise, stream_matches};
use crate::support::{assert_round_trip, config, frame_chunked};

/// Parses with both paths and checks what parses.
fn check(bytes: &[u8], seed: u64) {
    let datagram = parse_datagram(bytes);
    if let Ok(m) = &datagram {
        exercise(m);
        assert_round_trip(m, "fuzzed");
    }
    let (frames, err, _) = frame_chunked(bytes, seed, 1 + (seed % 97) as usize);
    stream_matches(bytes, &datagram, &frames, err.as_ref());
    let _ = err.map(|e| e.to_string());
}

/// Valid messages to mutate: the corpora and a few typical ones.
fn seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = sipx_testkit::rfc4475::CASES
        .iter()
        .map(|c| c.bytes.to_vec())
        .collect();
    out.extend(
        sipx_testkit::rfc5118::CASES
            .iter()
            .map(|c| c.wire().to_vec()),
    );
    out.push(
        b"REGISTER sip:hotline.example.gov SIP/2.0\r\nv: SIP/2.0/UDP [2001:db8::7]:5062;branch=z9hG4bK7;rport;received=192.0.2.1\r\nf: \"A \\\"q\\\"\" <sip:agent.001@hotline.example.gov>;tag=f1\r\nt: <sip:%61gent@hotline.example.gov>\r\ni: reg-1@192.0.2.7\r\nCSeq: 41 REGISTER\r\nm: *\r\nDate: Sat, 13 Nov 2010 23:29:00 GMT\r\nExpires: 0\r\nl: 0\r\n\r\n"
            .to_vec(),
    );
    out
}

const SPECIAL: &[u8] = b"\r\n\0;,\"<>:@[]\\ \t%?=/";

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
    /// Several of the octets parsers trip on at once (`\` CR, `"` `<`, …).
    InsertRun(usize, Vec<u8>),
    /// A quoted-pair (`\` and an ASCII octet) just inside a quoted string: after the n-th `"`.
    QuotedPair(usize, u8),
    Remove(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::sample::select(SPECIAL)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (
            any::<usize>(),
            prop::collection::vec(prop::sample::select(SPECIAL), 2..4)
        )
            .prop_map(|(i, run)| Mutation::InsertRun(i, run)),
        (any::<usize>(), 0u8..0x80).prop_map(|(i, b)| Mutation::QuotedPair(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
    ]
}

fn apply(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = b.len().max(1);
        match *m {
            Mutation::Flip(i, x) if !b.is_empty() => b[i % len] ^= x,
            Mutation::Truncate(i) => b.truncate(i % len),
            Mutation::Insert(i, x) => b.insert(i % (b.len() + 1), x),
            Mutation::InsertRun(i, ref run) => {
                let at = i % (b.len() + 1);
                b.splice(at..at, run.iter().copied());
            }
            Mutation::QuotedPair(i, x) => {
                let quotes: Vec<usize> = (0..b.len()).filter(|&j| b[j] == b'"').collect();
                if !quotes.is_empty() {
                    let at = quotes[i % quotes.len()] + 1;
                    b.splice(at..at, [b'\\', x]);
                }
            }
            Mutation::Remove(i) if !b.is_empty() => {
                b.remove(i % len);
            }
            _ => {}
        }
    }
    b
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn mutated_messages_never_panic(
        seed in any::<prop::sample::Index>(),
        muts in prop::collection::vec(mutation(), 1..4),
        chunking in any::<u64>(),
    ) {
        let seeds = seeds();
        let bytes = apply(seeds[seed.index(seeds.len())].clone(), &muts);
        check(&bytes, chunking);
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), chunking in any::<u64>()) {
        check(&bytes, chunking);
    }

    /// Text shaped like a message: a plausible start line and header lines made of the
    /// characters the grammar cares about.
    #[test]
    fn message_shaped_text_never_panics(
        start in prop::sample::select(vec![
            "INVITE sip:a@b SIP/2.0", "SIP/2.0 200 OK", "REGISTER sip:b SIP/2.0", "BYE tel:1 SIP/2.0",
        ]),
        lines in prop::collection::vec(
            (prop::sample::select(vec![
                "Via", "v", "From", "f", "To", "t", "Call-ID", "i", "CSeq", "Contact", "m",
                "Max-Forwards", "Expires", "Date", "Route", "Record-Route", "l", "X",
            ]), "[a-zA-Z0-9 \t;,=\"<>:@\\[\\]\\\\/.%*?+-]{0,40}"),
            0..10,
        ),
        body in prop::collection::vec(any::<u8>(), 0..40),
        chunking in any::<u64>(),
    ) {
        let mut text = format!("{start}\r\n");
        for (name, value) in lines {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        let mut bytes = text.into_bytes();
        bytes.extend(body);
        check(&bytes, chunking);
    }
}

/// A framer fed garbage keeps failing the same way rather than panicking or resynchronising.
#[test]
fn framer_errors_are_sticky() {
    let mut f = StreamFramer::default();
    f.push(b"NOT A START LINE\r\n\r\n");
    let e = f.next_frame().unwrap_err();
    assert!(matches!(e, ParseError::StartLine(_)));
    f.push(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(f.next_frame().unwrap_err(), e);
}
