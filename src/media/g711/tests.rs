//! G.711 tests: independent segment model, the Sun `g711.c` reference algorithms over every
//! input, and the G.711 transcoding tables.
use super::*;

// Independent model of G.711, written from the segment tables of the
// standard rather than from the bit tricks above. Levels are in the
// law's native domain (14-bit µ-law, 13-bit A-law) and scaled to 16 bits.

/// µ-law: first decision level of each segment in 14-bit units (the
/// first interval of segment 0 is the half-width one around zero).
const U_START: [i32; 8] = [-1, 31, 95, 223, 479, 991, 2015, 4063];
/// A-law: first decision level of each segment in 13-bit units.
const A_START: [i32; 8] = [0, 32, 64, 128, 256, 512, 1024, 2048];

struct Level {
    positive: bool,
    /// Reconstruction magnitude, 16-bit units.
    value: i32,
    /// Magnitude interval `[lo, hi)` that encodes to this code; `hi` is
    /// `None` for the top (overload) interval.
    lo: i32,
    hi: Option<i32>,
    /// Half the quantisation step, 16-bit units.
    half_step: i32,
}

fn ulaw_model(code: u8) -> Level {
    let raw = !code;
    let seg = ((raw >> 4) & 7) as usize;
    let step_no = (raw & 15) as i32;
    let step = 2 << seg; // 14-bit
    let lo14 = U_START[seg] + step * step_no;
    let top = seg == 7 && step_no == 15;
    Level {
        positive: code & 0x80 != 0,
        value: 4 * (lo14 + step / 2),
        lo: (4 * lo14).max(0),
        hi: if top { None } else { Some(4 * (lo14 + step)) },
        half_step: 2 * step,
    }
}

fn alaw_model(code: u8) -> Level {
    let raw = code ^ 0x55;
    let seg = ((raw >> 4) & 7) as usize;
    let step_no = (raw & 15) as i32;
    let step = if seg < 2 { 2 } else { 1 << seg }; // 13-bit
    let lo13 = A_START[seg] + step * step_no;
    Level {
        positive: raw & 0x80 != 0,
        value: 8 * (lo13 + step / 2),
        lo: 8 * lo13,
        hi: Some(8 * (lo13 + step)),
        half_step: 4 * step,
    }
}

fn signed(l: &Level) -> i32 {
    if l.positive {
        l.value
    } else {
        -l.value
    }
}

/// G.711 magnitude of an input: `x`, or `!x` for negatives.
fn magnitude(x: i16) -> i32 {
    if x < 0 {
        -(x as i32) - 1
    } else {
        x as i32
    }
}

#[test]
fn ulaw_decode_table_matches_model() {
    for c in 0..=255u8 {
        assert_eq!(
            ulaw_decode(c) as i32,
            signed(&ulaw_model(c)),
            "code {c:#04x}"
        );
    }
}

#[test]
fn alaw_decode_table_matches_model() {
    for c in 0..=255u8 {
        assert_eq!(
            alaw_decode(c) as i32,
            signed(&alaw_model(c)),
            "code {c:#04x}"
        );
    }
}

#[test]
fn spot_values() {
    assert_eq!(ulaw_decode(0xFF), 0);
    assert_eq!(ulaw_decode(0x7F), 0);
    assert_eq!(ulaw_decode(0x00), -32124);
    assert_eq!(ulaw_decode(0x80), 32124);
    assert_eq!(alaw_decode(0xD5), 8);
    assert_eq!(alaw_decode(0x55), -8);
    assert_eq!(alaw_decode(0x2A), -32256);
    assert_eq!(alaw_decode(0xAA), 32256);

    assert_eq!(ulaw_encode(i16::MAX), 0x80);
    assert_eq!(ulaw_encode(i16::MIN), 0x00);
    assert_eq!(alaw_encode(i16::MAX), 0xAA);
    assert_eq!(alaw_encode(i16::MIN), 0x2A);
    assert_eq!(ulaw_encode(0), 0xFF);
    assert_eq!(ulaw_encode(1), 0xFF);
    assert_eq!(ulaw_encode(-1), 0x7F);
    assert_eq!(alaw_encode(0), 0xD5);
    assert_eq!(alaw_encode(1), 0xD5);
    assert_eq!(alaw_encode(-1), 0x55);
    assert_eq!(PAYLOAD_TYPE_PCMU, 0);
    assert_eq!(PAYLOAD_TYPE_PCMA, 8);
}

/// For every input: the code's interval holds the input magnitude, the
/// decoded value is monotonic in the input, and the error is at most half
/// a step. Returns the largest error seen.
fn check_all_inputs(
    encode: fn(i16) -> u8,
    decode: fn(u8) -> i16,
    model: fn(u8) -> Level,
    overload_bound: i32,
) -> i32 {
    let mut prev = i32::MIN;
    let mut worst = 0;
    for x in i16::MIN..=i16::MAX {
        let c = encode(x);
        let l = model(c);
        let mag = magnitude(x);
        assert_eq!(l.positive, x >= 0, "sign of {x}");
        assert!(mag >= l.lo, "{x}: below interval of {c:#04x}");
        let d = decode(c) as i32;
        assert!(d >= prev, "not monotonic at {x}");
        prev = d;
        let err = (x as i32 - d).abs();
        worst = worst.max(err);
        match l.hi {
            Some(hi) => {
                assert!(mag < hi, "{x}: above interval of {c:#04x}");
                assert!(err <= l.half_step, "{x}: error {err} > {}", l.half_step);
            }
            None => {
                // Overload: only the inputs past the top decision level
                // may exceed half a step.
                if mag < l.lo + 2 * l.half_step {
                    assert!(err <= l.half_step, "{x}: error {err}");
                } else {
                    assert!(err <= overload_bound, "{x}: overload error {err}");
                }
            }
        }
    }
    worst
}

#[test]
fn ulaw_every_input_within_its_interval() {
    // Half steps are 4 << segment (4..=512). Past 32635 the input is
    // clipped; the worst case is i16::MIN: 32768 - 32124 = 644.
    let worst = check_all_inputs(ulaw_encode, ulaw_decode, ulaw_model, 644);
    assert_eq!(worst, 644);
    assert_eq!(
        (i16::MIN as i32 - ulaw_decode(ulaw_encode(i16::MIN)) as i32).abs(),
        644
    );
}

#[test]
fn alaw_every_input_within_its_interval() {
    // Half steps are 8, 8, 16, 32, ..., 512; the top interval ends at
    // 32768 so no input overloads and the worst error is 512 exactly.
    let worst = check_all_inputs(alaw_encode, alaw_decode, alaw_model, 512);
    assert_eq!(worst, 512);
}

#[test]
fn encode_of_decode_is_identity() {
    for c in 0..=255u8 {
        let back = ulaw_encode(ulaw_decode(c));
        if c == 0x7F {
            assert_eq!(back, 0xFF, "µ-law -0 re-encodes as +0");
        } else {
            assert_eq!(back, c, "µ-law {c:#04x}");
        }
        assert_eq!(alaw_encode(alaw_decode(c)), c, "A-law {c:#04x}");
    }
}

/// G.711 Table 3, µ-law code -> A-law code, for all 256 codes (transmitted form: µ-law with
/// all bits inverted, A-law with even bits inverted). Reference values: ITU-T G.711, as
/// reproduced by Sun's `g711.c` (`_u2a`, with the 1994 corrections) and by spandsp's
/// `ulaw_to_alaw_table`, which agree.
const REF_ULAW_TO_ALAW: [u8; 256] = [
    0x2A, 0x2B, 0x28, 0x29, 0x2E, 0x2F, 0x2C, 0x2D, 0x22, 0x23, 0x20, 0x21, 0x26, 0x27, 0x24, 0x25,
    0x3A, 0x3B, 0x38, 0x39, 0x3E, 0x3F, 0x3C, 0x3D, 0x32, 0x33, 0x30, 0x31, 0x36, 0x37, 0x34, 0x35,
    0x0A, 0x0B, 0x08, 0x09, 0x0E, 0x0F, 0x0C, 0x0D, 0x02, 0x03, 0x00, 0x01, 0x06, 0x07, 0x04, 0x1A,
    0x1B, 0x18, 0x19, 0x1E, 0x1F, 0x1C, 0x1D, 0x12, 0x13, 0x10, 0x11, 0x16, 0x17, 0x14, 0x15, 0x6A,
    0x68, 0x69, 0x6E, 0x6F, 0x6C, 0x6D, 0x62, 0x63, 0x60, 0x61, 0x66, 0x67, 0x64, 0x65, 0x7A, 0x78,
    0x7E, 0x7F, 0x7C, 0x7D, 0x72, 0x73, 0x70, 0x71, 0x76, 0x77, 0x74, 0x75, 0x4B, 0x49, 0x4F, 0x4D,
    0x42, 0x43, 0x40, 0x41, 0x46, 0x47, 0x44, 0x45, 0x5A, 0x5B, 0x58, 0x59, 0x5E, 0x5F, 0x5C, 0x5D,
    0x52, 0x52, 0x53, 0x53, 0x50, 0x50, 0x51, 0x51, 0x56, 0x56, 0x57, 0x57, 0x54, 0x54, 0x55, 0x55,
    0xAA, 0xAB, 0xA8, 0xA9, 0xAE, 0xAF, 0xAC, 0xAD, 0xA2, 0xA3, 0xA0, 0xA1, 0xA6, 0xA7, 0xA4, 0xA5,
    0xBA, 0xBB, 0xB8, 0xB9, 0xBE, 0xBF, 0xBC, 0xBD, 0xB2, 0xB3, 0xB0, 0xB1, 0xB6, 0xB7, 0xB4, 0xB5,
    0x8A, 0x8B, 0x88, 0x89, 0x8E, 0x8F, 0x8C, 0x8D, 0x82, 0x83, 0x80, 0x81, 0x86, 0x87, 0x84, 0x9A,
    0x9B, 0x98, 0x99, 0x9E, 0x9F, 0x9C, 0x9D, 0x92, 0x93, 0x90, 0x91, 0x96, 0x97, 0x94, 0x95, 0xEA,
    0xE8, 0xE9, 0xEE, 0xEF, 0xEC, 0xED, 0xE2, 0xE3, 0xE0, 0xE1, 0xE6, 0xE7, 0xE4, 0xE5, 0xFA, 0xF8,
    0xFE, 0xFF, 0xFC, 0xFD, 0xF2, 0xF3, 0xF0, 0xF1, 0xF6, 0xF7, 0xF4, 0xF5, 0xCB, 0xC9, 0xCF, 0xCD,
    0xC2, 0xC3, 0xC0, 0xC1, 0xC6, 0xC7, 0xC4, 0xC5, 0xDA, 0xDB, 0xD8, 0xD9, 0xDE, 0xDF, 0xDC, 0xDD,
    0xD2, 0xD2, 0xD3, 0xD3, 0xD0, 0xD0, 0xD1, 0xD1, 0xD6, 0xD6, 0xD7, 0xD7, 0xD4, 0xD4, 0xD5, 0xD5,
];

/// G.711 Table 4, A-law code -> µ-law code (Sun `_a2u` corrected; spandsp
/// `alaw_to_ulaw_table`).
const REF_ALAW_TO_ULAW: [u8; 256] = [
    0x2A, 0x2B, 0x28, 0x29, 0x2E, 0x2F, 0x2C, 0x2D, 0x22, 0x23, 0x20, 0x21, 0x26, 0x27, 0x24, 0x25,
    0x39, 0x3A, 0x37, 0x38, 0x3D, 0x3E, 0x3B, 0x3C, 0x31, 0x32, 0x2F, 0x30, 0x35, 0x36, 0x33, 0x34,
    0x0A, 0x0B, 0x08, 0x09, 0x0E, 0x0F, 0x0C, 0x0D, 0x02, 0x03, 0x00, 0x01, 0x06, 0x07, 0x04, 0x05,
    0x1A, 0x1B, 0x18, 0x19, 0x1E, 0x1F, 0x1C, 0x1D, 0x12, 0x13, 0x10, 0x11, 0x16, 0x17, 0x14, 0x15,
    0x62, 0x63, 0x60, 0x61, 0x66, 0x67, 0x64, 0x65, 0x5D, 0x5D, 0x5C, 0x5C, 0x5F, 0x5F, 0x5E, 0x5E,
    0x74, 0x76, 0x70, 0x72, 0x7C, 0x7E, 0x78, 0x7A, 0x6A, 0x6B, 0x68, 0x69, 0x6E, 0x6F, 0x6C, 0x6D,
    0x48, 0x49, 0x46, 0x47, 0x4C, 0x4D, 0x4A, 0x4B, 0x40, 0x41, 0x3F, 0x3F, 0x44, 0x45, 0x42, 0x43,
    0x56, 0x57, 0x54, 0x55, 0x5A, 0x5B, 0x58, 0x59, 0x4F, 0x4F, 0x4E, 0x4E, 0x52, 0x53, 0x50, 0x51,
    0xAA, 0xAB, 0xA8, 0xA9, 0xAE, 0xAF, 0xAC, 0xAD, 0xA2, 0xA3, 0xA0, 0xA1, 0xA6, 0xA7, 0xA4, 0xA5,
    0xB9, 0xBA, 0xB7, 0xB8, 0xBD, 0xBE, 0xBB, 0xBC, 0xB1, 0xB2, 0xAF, 0xB0, 0xB5, 0xB6, 0xB3, 0xB4,
    0x8A, 0x8B, 0x88, 0x89, 0x8E, 0x8F, 0x8C, 0x8D, 0x82, 0x83, 0x80, 0x81, 0x86, 0x87, 0x84, 0x85,
    0x9A, 0x9B, 0x98, 0x99, 0x9E, 0x9F, 0x9C, 0x9D, 0x92, 0x93, 0x90, 0x91, 0x96, 0x97, 0x94, 0x95,
    0xE2, 0xE3, 0xE0, 0xE1, 0xE6, 0xE7, 0xE4, 0xE5, 0xDD, 0xDD, 0xDC, 0xDC, 0xDF, 0xDF, 0xDE, 0xDE,
    0xF4, 0xF6, 0xF0, 0xF2, 0xFC, 0xFE, 0xF8, 0xFA, 0xEA, 0xEB, 0xE8, 0xE9, 0xEE, 0xEF, 0xEC, 0xED,
    0xC8, 0xC9, 0xC6, 0xC7, 0xCC, 0xCD, 0xCA, 0xCB, 0xC0, 0xC1, 0xBF, 0xBF, 0xC4, 0xC5, 0xC2, 0xC3,
    0xD6, 0xD7, 0xD4, 0xD5, 0xDA, 0xDB, 0xD8, 0xD9, 0xCF, 0xCF, 0xCE, 0xCE, 0xD2, 0xD3, 0xD0, 0xD1,
];

#[test]
fn transcoding_tables_equal_g711() {
    for c in 0..=255u8 {
        assert_eq!(ulaw_to_alaw(c), REF_ULAW_TO_ALAW[c as usize], "µ {c:#04x}");
        assert_eq!(alaw_to_ulaw(c), REF_ALAW_TO_ULAW[c as usize], "A {c:#04x}");
    }
}

#[test]
fn transcoding_differs_from_decode_encode_where_g711_says_so() {
    // Crates that transcode via linear get these wrong: decode -> encode gives the code in
    // brackets, G.711 the one asserted.
    assert_eq!(ulaw_to_alaw(0xA0), 0x8A); // 7932 -> 8064 [0x8B, 7808]
    assert_eq!(ulaw_to_alaw(0xCF), 0xF8); // 924 -> 944 [0xF9, 912]
    assert_eq!(ulaw_to_alaw(0x3F), 0x6A); // -1980 -> -2016 [0x6B, -1952]
    assert_eq!(alaw_to_ulaw(0x85), 0xAF); // 4224 -> 4092 [0xAE, 4348]
    assert_eq!(alaw_to_ulaw(0x0A), 0x20); // -8064 -> -7932 [0x1F, -8316]
    for (u, a, via_linear) in [
        (0xA0u8, 0x8Au8, 0x8Bu8),
        (0xCF, 0xF8, 0xF9),
        (0x3F, 0x6A, 0x6B),
    ] {
        assert_eq!(alaw_encode(ulaw_decode(u)), via_linear);
        assert_ne!(ulaw_to_alaw(u), via_linear);
        assert_eq!(ulaw_to_alaw(u), a);
    }
    for (a, via_linear) in [(0x85u8, 0xAEu8), (0x0A, 0x1F)] {
        assert_eq!(ulaw_encode(alaw_decode(a)), via_linear);
        assert_ne!(alaw_to_ulaw(a), via_linear);
    }
    // How many codes differ in all, when the linear route works on the magnitude and
    // carries the sign over: 18 µ ranks and 16 A ranks, both signs.
    let u_via_linear = |c: u8| alaw_encode(ulaw_decode(c | 0x80)) ^ (!c & 0x80);
    let a_via_linear = |c: u8| ulaw_encode(alaw_decode(c | 0x80)) & (c | 0x7F);
    let du = (0..=255u8)
        .filter(|&c| ulaw_to_alaw(c) != u_via_linear(c))
        .count();
    let da = (0..=255u8)
        .filter(|&c| alaw_to_ulaw(c) != a_via_linear(c))
        .count();
    assert_eq!((du, da), (36, 32));
}

/// Magnitude rank 0..=127 (0 = smallest level) of a code.
fn u_rank(c: u8) -> i32 {
    (!c & 0x7F) as i32
}
fn a_rank(c: u8) -> i32 {
    ((c ^ 0x55) & 0x7F) as i32
}

#[test]
fn transcoding_keeps_sign_order_and_shared_levels() {
    for c in 0..=255u8 {
        assert_eq!(ulaw_to_alaw(c) & 0x80, c & 0x80, "µ {c:#04x}");
        assert_eq!(alaw_to_ulaw(c) & 0x80, c & 0x80, "A {c:#04x}");
        // Never more than one A-law (µ-law) step away from the input level: 132 in 16-bit
        // units at worst.
        let e = (ulaw_decode(c) as i32 - alaw_decode(ulaw_to_alaw(c)) as i32).abs();
        assert!(e <= 132, "µ {c:#04x}: {e}");
        let e = (alaw_decode(c) as i32 - ulaw_decode(alaw_to_ulaw(c)) as i32).abs();
        assert!(e <= 132, "A {c:#04x}: {e}");
    }
    // Monotonic in the magnitude rank.
    for r in 0..127u8 {
        let (u0, u1) = (0xFF ^ r, 0xFF ^ (r + 1));
        assert!(a_rank(ulaw_to_alaw(u0)) <= a_rank(ulaw_to_alaw(u1)));
        let (a0, a1) = (0xD5 ^ r, 0xD5 ^ (r + 1));
        assert!(u_rank(alaw_to_ulaw(a0)) <= u_rank(alaw_to_ulaw(a1)));
    }
    // A level both laws share transcodes exactly, both ways.
    for c in 0..=255u8 {
        for a in 0..=255u8 {
            if ulaw_decode(c) == alaw_decode(a) {
                assert_eq!(ulaw_to_alaw(c), a);
                assert_eq!(alaw_to_ulaw(a), c);
            }
        }
    }
    assert_eq!(ulaw_to_alaw(0x7F), 0x55);
    assert_eq!(ulaw_to_alaw(0xFF), 0xD5);
    assert_eq!(ulaw_to_alaw(0x80), 0xAA);
    assert_eq!(alaw_to_ulaw(0xAA), 0x80);
}

#[test]
fn a_to_mu_to_a_round_trip() {
    // Both tables map some pairs of levels onto one (A-law is finer than µ-law around
    // A ranks 24..=31, 44..=47, 62, 79/80), so no pair of tables can make A -> µ -> A the
    // identity everywhere. G.711's tables make it the identity for 120 of 128 ranks, move
    // the other 8 by exactly one rank, and make the tandem stable: a second A -> µ -> A
    // pass changes nothing.
    let moved: [(i32, i32); 8] = [
        (25, 24),
        (27, 26),
        (29, 28),
        (31, 30),
        (44, 45),
        (46, 47),
        (62, 63),
        (80, 79),
    ];
    for c in 0..=255u8 {
        let once = ulaw_to_alaw(alaw_to_ulaw(c));
        assert_eq!(once & 0x80, c & 0x80);
        let r = a_rank(c);
        match moved.iter().find(|m| m.0 == r) {
            Some(&(_, to)) => assert_eq!(a_rank(once), to, "A {c:#04x}"),
            None => assert_eq!(once, c, "A {c:#04x}"),
        }
        assert_eq!(ulaw_to_alaw(alaw_to_ulaw(once)), once, "A {c:#04x} twice");
        assert_eq!(alaw_to_ulaw(once), alaw_to_ulaw(c), "A {c:#04x}");
    }
}

#[test]
fn mu_to_a_to_mu_round_trip() {
    // µ -> A -> µ is the identity except in µ segment 0, whose 16 steps share 8 A-law steps:
    // there the even ranks come back one rank up (the odd rank of their pair; -0 and +0 come
    // back as ±1 step). A second pass changes nothing.
    for c in 0..=255u8 {
        let once = alaw_to_ulaw(ulaw_to_alaw(c));
        assert_eq!(once & 0x80, c & 0x80);
        let r = u_rank(c);
        if r < 16 && r % 2 == 0 {
            assert_eq!(u_rank(once), r + 1, "µ {c:#04x}");
        } else {
            assert_eq!(once, c, "µ {c:#04x}");
        }
        assert_eq!(alaw_to_ulaw(ulaw_to_alaw(once)), once, "µ {c:#04x} twice");
        assert_eq!(ulaw_to_alaw(once), ulaw_to_alaw(c), "µ {c:#04x}");
    }
}

/// Sun `g711.c` `linear2ulaw` as an algorithm (segment end table, bias 33 in 14-bit units,
/// clip at 8159). `ones_complement` selects how a negative input's magnitude is formed
/// after the shift: Sun's published code negates (`-v`); the ITU-T G.191 STL and the
/// decision levels of G.711 use the one's complement (`-v - 1`).
fn ref_linear2ulaw(x: i16, ones_complement: bool) -> u8 {
    const SEG_UEND: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
    let mut v = (x as i32) >> 2;
    let mask = if v < 0 {
        v = if ones_complement { -v - 1 } else { -v };
        0x7F
    } else {
        0xFF
    };
    let v = v.min(8159) + 33;
    match SEG_UEND.iter().position(|&end| v <= end) {
        None => 0x7F ^ mask,
        Some(seg) => ((seg << 4) as u8 | ((v >> (seg + 1)) & 0xF) as u8) ^ mask,
    }
}

/// Sun `g711.c` `linear2alaw` (1994 version, one's complement for negatives).
fn ref_linear2alaw(x: i16) -> u8 {
    const SEG_AEND: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
    let mut v = (x as i32) >> 3;
    let mask = if v >= 0 {
        0xD5
    } else {
        v = -v - 1;
        0x55
    };
    match SEG_AEND.iter().position(|&end| v <= end) {
        None => 0x7F ^ mask,
        Some(seg) => {
            let q = if seg < 2 { v >> 1 } else { v >> seg };
            ((seg << 4) as u8 | (q & 0xF) as u8) ^ mask
        }
    }
}

/// Sun `ulaw2linear`.
fn ref_ulaw2linear(code: u8) -> i16 {
    let u = !code;
    let t = (((u & 0x0F) as i32) << 3) + 0x84;
    let t = t << ((u & 0x70) >> 4);
    (if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }) as i16
}

/// Sun `alaw2linear`.
fn ref_alaw2linear(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mut t = ((a & 0x0F) as i32) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => t = (t + 0x108) << (seg - 1),
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

#[test]
fn codec_matches_sun_reference_on_every_input() {
    for c in 0..=255u8 {
        assert_eq!(ulaw_decode(c), ref_ulaw2linear(c), "µ {c:#04x}");
        assert_eq!(alaw_decode(c), ref_alaw2linear(c), "A {c:#04x}");
    }
    let mut sun_negation_differs = 0;
    for x in i16::MIN..=i16::MAX {
        assert_eq!(alaw_encode(x), ref_linear2alaw(x), "A {x}");
        assert_eq!(ulaw_encode(x), ref_linear2ulaw(x, true), "µ {x}");
        let sun = ref_linear2ulaw(x, false);
        if sun != ulaw_encode(x) {
            // Sun's negation puts a negative input one 14-bit unit higher in magnitude;
            // that only matters at a decision level, by one step.
            assert!(x < 0, "{x}");
            assert_eq!((u_rank(sun) - u_rank(ulaw_encode(x))).abs(), 1, "{x}");
            sun_negation_differs += 1;
        }
    }
    assert_eq!(sun_negation_differs, 508);
}

#[test]
fn slice_helpers_write_into_caller_buffers() {
    let pcm = [0i16, 1, -1, i16::MAX, i16::MIN, 1000, -1000];
    let mut u = [0u8; 7];
    let mut a = [0u8; 7];
    assert_eq!(encode_ulaw(&pcm, &mut u), 7);
    assert_eq!(encode_alaw(&pcm, &mut a), 7);
    for i in 0..7 {
        assert_eq!(u[i], ulaw_encode(pcm[i]));
        assert_eq!(a[i], alaw_encode(pcm[i]));
    }
    let mut back = [0i16; 7];
    assert_eq!(decode_ulaw(&u, &mut back), 7);
    assert_eq!(back[3], 32124);
    assert_eq!(decode_alaw(&a, &mut back), 7);
    assert_eq!(back[4], -32256);

    let mut short = [0u8; 3];
    assert_eq!(encode_ulaw(&pcm, &mut short), 3);
    assert_eq!(transcode_ulaw_to_alaw(&u, &mut short), 3);
    assert_eq!(short, [a[0], a[1], a[2]]);
    let mut long = [0xEEu8; 9];
    assert_eq!(transcode_alaw_to_ulaw(&a[..2], &mut long), 2);
    assert_eq!(long[2], 0xEE);
    assert_eq!(decode_ulaw(&[], &mut back), 0);
}
