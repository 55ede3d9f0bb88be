use hotline::sip::message::parse_datagram;
use sipx_testkit::rfc4475::{Expect, CASES};

#[test]
fn corpus_quick_look() {
    for c in CASES {
        let r = parse_datagram(c.bytes);
        let v = r.as_ref().map(|m| m.validate_request());
        println!(
            "{:10} {:?} => {:?}",
            c.name,
            c.expect,
            v.as_ref().map_err(|e| e.to_string())
        );
        let _ = Expect::ParseOk;
    }
}
