//! Helpers shared by the SIP tests: round trips, chunked stream framing with a seeded
//! generator, and reading a header through its typed accessor by name.

use hotline::sip::message::{Frame, HeaderError, Message, ParseError, StreamFramer};

/// A small deterministic generator (xorshift64*), so chunkings repeat from run to run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `1..=max`.
    pub fn size(&mut self, max: usize) -> usize {
        1 + (self.next() % max as u64) as usize
    }
}

/// Everything a framer yields for `bytes` pushed in chunks of 1..=`max_chunk` octets (drawn
/// from `seed`), asking for frames after every push; stops at the first error.
pub fn frame_chunked(
    bytes: &[u8],
    seed: u64,
    max_chunk: usize,
) -> (Vec<Frame>, Option<ParseError>, usize) {
    let mut rng = Rng::new(seed);
    let mut framer = StreamFramer::default();
    let mut frames = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = rng.size(max_chunk).min(rest.len());
        framer.push(&rest[..n]);
        rest = &rest[n..];
        loop {
            match framer.next_frame() {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => return (frames, Some(e), framer.pending()),
            }
        }
    }
    (frames, None, framer.pending())
}

/// The messages among frames.
pub fn messages(frames: Vec<Frame>) -> Vec<Message> {
    frames
        .into_iter()
        .filter_map(|f| match f {
            Frame::Message(m) => Some(*m),
            Frame::Ping => None,
        })
        .collect()
}

/// The round-trip check the property tests and the fuzz target share.
pub use crate::fuzz_check::round_trip as assert_round_trip;

/// Reads one header through its typed accessor.
pub fn typed(m: &Message, header: &str) -> Result<(), HeaderError> {
    match header {
        "Via" => m.vias().map(drop),
        "From" => m.from().map(drop),
        "To" => m.to().map(drop),
        "Call-ID" => m.call_id().map(drop),
        "CSeq" => m.cseq().map(drop),
        "Contact" => m.contacts().map(drop),
        "Max-Forwards" => m.max_forwards().map(drop),
        "Expires" => m.expires().map(drop),
        "Date" => m.date().map(drop),
        "Route" => m.routes("Route").map(drop),
        "Record-Route" => m.routes("Record-Route").map(drop),
        other => panic!("no typed accessor for {other}"),
    }
}

/// Headers [`typed`] knows.
pub const TYPED: [&str; 11] = [
    "Via",
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Contact",
    "Max-Forwards",
    "Expires",
    "Date",
    "Route",
    "Record-Route",
];

/// Whether the message carries a header line of that name.
pub fn has(m: &Message, header: &str) -> bool {
    m.header(header).is_some()
}

/// A property-test configuration with `cases` cases that writes no regression files (the
/// failures found so far are plain tests in `message.rs`).
pub fn config(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}
