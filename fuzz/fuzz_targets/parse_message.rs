//! Feeds arbitrary bytes to the SIP message parser: as a datagram, as a stream cut into
//! chunks chosen by the input's first byte, and, for whatever parses, through every typed
//! accessor and both validations. Whatever parses must write back to a message that parses
//! equal, and a stream must cut the same message a datagram holds.

#![no_main]

use hotline::sip::message::{parse_datagram, Frame, ParseError, StreamFramer};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/sip/fuzz_check.rs"]
mod fuzz_check;

use fuzz_check::{exercise, round_trip, stream_matches};

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, bytes)) = data.split_first() else {
        return;
    };
    let datagram = parse_datagram(bytes);
    if let Ok(m) = &datagram {
        exercise(m);
        round_trip(m, "fuzzed");
    }
    let (frames, err) = stream(bytes, usize::from(chunk) + 1);
    stream_matches(bytes, &datagram, &frames, err.as_ref());
});

/// Frames `bytes` pushed `chunk` octets at a time, up to the first error.
fn stream(bytes: &[u8], chunk: usize) -> (Vec<Frame>, Option<ParseError>) {
    let mut framer = StreamFramer::default();
    let mut frames = Vec::new();
    for piece in bytes.chunks(chunk) {
        framer.push(piece);
        loop {
            match framer.next_frame() {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
    }
    (frames, None)
}
