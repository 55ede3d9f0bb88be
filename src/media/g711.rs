//! G.711 companding: µ-law (PCMU, RTP payload type 0) and A-law (PCMA,
//! RTP payload type 8), with 16-bit linear samples on the linear side.
//!
//! Both laws split each polarity into 8 segments of 16 equal steps. A code
//! is a sign bit, a 3-bit segment number and a 4-bit step number:
//!
//! * µ-law works on 14-bit magnitudes with a bias of 33 (132 once scaled to
//!   16 bits) and every bit of the code is inverted on the wire; sign bit 1
//!   means positive. It has two zero codes, 0xFF (+0) and 0x7F (-0).
//! * A-law works on 13-bit magnitudes without bias; segments 0 and 1 share
//!   the same step, and the even bits of the code are inverted (XOR 0x55);
//!   sign bit 1 means positive. It has no zero level (smallest is ±8).
//!
//! As in G.711, a negative input is quantised through its one's complement
//! (`!x`), which makes the decision levels symmetric around -0.5 and keeps
//! `i16::MIN` in range. Inputs beyond the top decision level saturate to the
//! largest code of their sign.
//!
//! Decoding goes through 256-entry tables built at compile time; encoding is
//! a few integer operations. Nothing here allocates.

/// RTP static payload type of PCMU (µ-law).
pub const PAYLOAD_TYPE_PCMU: u8 = 0;
/// RTP static payload type of PCMA (A-law).
pub const PAYLOAD_TYPE_PCMA: u8 = 8;

/// µ-law bias in 16-bit units (33 in the 14-bit domain of G.711).
const ULAW_BIAS: i32 = 132;
/// Largest magnitude that µ-law can still place inside its top interval
/// (8158 in 14 bits, times 4, plus the 3 dropped low bits).
const ULAW_CLIP: i32 = 32635;

/// Even-bit inversion mask applied to A-law codes.
const ALAW_XOR: u8 = 0x55;

/// Sign and magnitude as G.711 sees them: magnitude is `x` for `x >= 0`
/// and the one's complement `!x` (that is `-x - 1`) for `x < 0`.
const fn split(sample: i16) -> (bool, i32) {
    if sample < 0 {
        (false, !(sample as i32))
    } else {
        (true, sample as i32)
    }
}

/// Index (0..=31) of the highest set bit of a non-zero value.
const fn top_bit(v: u32) -> u32 {
    31 - v.leading_zeros()
}

/// Encode one 16-bit linear sample as µ-law.
pub const fn ulaw_encode(sample: i16) -> u8 {
    let (positive, mag) = split(sample);
    let mag = if mag > ULAW_CLIP { ULAW_CLIP } else { mag };
    // 132..=32767, so the top bit is 7..=14 and the segment is 0..=7.
    let biased = (mag + ULAW_BIAS) as u32;
    let segment = top_bit(biased) - 7;
    let step = (biased >> (segment + 3)) & 0x0F;
    let code = !(((segment << 4) | step) as u8) & 0x7F;
    if positive {
        code | 0x80
    } else {
        code
    }
}

const fn ulaw_decode_slow(code: u8) -> i16 {
    let bits = !code;
    let segment = ((bits >> 4) & 0x07) as u32;
    let step = (bits & 0x0F) as i32;
    let mag = (((step << 3) + ULAW_BIAS) << segment) - ULAW_BIAS;
    if code & 0x80 != 0 {
        mag as i16
    } else {
        -mag as i16
    }
}

/// Encode one 16-bit linear sample as A-law.
pub const fn alaw_encode(sample: i16) -> u8 {
    // Magnitude is at most 32767, which is inside the top interval.
    let (positive, mag) = split(sample);
    let mag = mag as u32;
    let (segment, step) = if mag < 256 {
        (0, (mag >> 4) & 0x0F)
    } else {
        // 256..=32767: top bit 8..=14, segment 1..=7.
        let segment = top_bit(mag) - 7;
        (segment, (mag >> (segment + 3)) & 0x0F)
    };
    let code = ((segment << 4) | step) as u8;
    let code = if positive { code | 0x80 } else { code };
    code ^ ALAW_XOR
}

const fn alaw_decode_slow(code: u8) -> i16 {
    let bits = code ^ ALAW_XOR;
    let segment = ((bits >> 4) & 0x07) as u32;
    let step = (bits & 0x0F) as i32;
    let mag = if segment == 0 {
        (step << 4) + 8
    } else {
        ((step << 4) + 0x108) << (segment - 1)
    };
    if code & 0x80 != 0 {
        mag as i16
    } else {
        -mag as i16
    }
}

const fn build_ulaw_decode() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = ulaw_decode_slow(i as u8);
        i += 1;
    }
    table
}

const fn build_alaw_decode() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = alaw_decode_slow(i as u8);
        i += 1;
    }
    table
}

/// µ-law code to 16-bit linear, indexed by code.
static ULAW_DECODE: [i16; 256] = build_ulaw_decode();
/// A-law code to 16-bit linear, indexed by code.
static ALAW_DECODE: [i16; 256] = build_alaw_decode();

/// Decode one µ-law code to a 16-bit linear sample.
#[inline]
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_DECODE[code as usize]
}

/// Decode one A-law code to a 16-bit linear sample.
#[inline]
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_DECODE[code as usize]
}

/// µ-law to A-law: the A-law code whose interval holds the magnitude of
/// the µ-law level, with the sign bit carried over (so µ-law -0 becomes
/// A-law -8, not +8).
const fn build_ulaw_to_alaw() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let code = i as u8;
        let mag = ulaw_decode_slow(code | 0x80);
        let positive = alaw_encode(mag);
        table[i] = if code & 0x80 != 0 {
            positive
        } else {
            positive ^ 0x80
        };
        i += 1;
    }
    table
}

/// A-law to µ-law, built the same way as [`build_ulaw_to_alaw`].
const fn build_alaw_to_ulaw() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let code = i as u8;
        let mag = alaw_decode_slow(code | 0x80);
        let positive = ulaw_encode(mag);
        table[i] = if code & 0x80 != 0 {
            positive
        } else {
            positive & 0x7F
        };
        i += 1;
    }
    table
}

static ULAW_TO_ALAW: [u8; 256] = build_ulaw_to_alaw();
static ALAW_TO_ULAW: [u8; 256] = build_alaw_to_ulaw();

/// Transcode one µ-law code to A-law without going through PCM.
#[inline]
pub fn ulaw_to_alaw(code: u8) -> u8 {
    ULAW_TO_ALAW[code as usize]
}

/// Transcode one A-law code to µ-law without going through PCM.
#[inline]
pub fn alaw_to_ulaw(code: u8) -> u8 {
    ALAW_TO_ULAW[code as usize]
}

/// Encode `min(input.len(), output.len())` samples as µ-law; returns how
/// many were written.
pub fn encode_ulaw(input: &[i16], output: &mut [u8]) -> usize {
    let n = input.len().min(output.len());
    for (out, &s) in output[..n].iter_mut().zip(&input[..n]) {
        *out = ulaw_encode(s);
    }
    n
}

/// Decode `min(input.len(), output.len())` µ-law codes; returns how many
/// were written.
pub fn decode_ulaw(input: &[u8], output: &mut [i16]) -> usize {
    let n = input.len().min(output.len());
    for (out, &c) in output[..n].iter_mut().zip(&input[..n]) {
        *out = ulaw_decode(c);
    }
    n
}

/// Encode `min(input.len(), output.len())` samples as A-law; returns how
/// many were written.
pub fn encode_alaw(input: &[i16], output: &mut [u8]) -> usize {
    let n = input.len().min(output.len());
    for (out, &s) in output[..n].iter_mut().zip(&input[..n]) {
        *out = alaw_encode(s);
    }
    n
}

/// Decode `min(input.len(), output.len())` A-law codes; returns how many
/// were written.
pub fn decode_alaw(input: &[u8], output: &mut [i16]) -> usize {
    let n = input.len().min(output.len());
    for (out, &c) in output[..n].iter_mut().zip(&input[..n]) {
        *out = alaw_decode(c);
    }
    n
}

/// Transcode µ-law to A-law codes; returns how many were written.
pub fn transcode_ulaw_to_alaw(input: &[u8], output: &mut [u8]) -> usize {
    let n = input.len().min(output.len());
    for (out, &c) in output[..n].iter_mut().zip(&input[..n]) {
        *out = ulaw_to_alaw(c);
    }
    n
}

/// Transcode A-law to µ-law codes; returns how many were written.
pub fn transcode_alaw_to_ulaw(input: &[u8], output: &mut [u8]) -> usize {
    let n = input.len().min(output.len());
    for (out, &c) in output[..n].iter_mut().zip(&input[..n]) {
        *out = alaw_to_ulaw(c);
    }
    n
}

#[cfg(test)]
mod tests {
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

    /// Magnitude index 0..=127 (0 = smallest level) of a code.
    fn u_index(c: u8) -> i32 {
        (!c & 0x7F) as i32
    }
    fn a_index(c: u8) -> i32 {
        ((c ^ 0x55) & 0x7F) as i32
    }

    #[test]
    fn transcoding_keeps_sign_and_lands_in_the_right_interval() {
        for c in 0..=255u8 {
            let a = ulaw_to_alaw(c);
            let la = alaw_model(a);
            let lu = ulaw_model(c);
            assert_eq!(la.positive, lu.positive, "µ {c:#04x}");
            assert!(lu.value >= la.lo && lu.value < la.hi.unwrap(), "µ {c:#04x}");

            let u = alaw_to_ulaw(c);
            let lu = ulaw_model(u);
            let la = alaw_model(c);
            assert_eq!(lu.positive, la.positive, "A {c:#04x}");
            assert!(la.value >= lu.lo, "A {c:#04x}");
            assert!(lu.hi.is_none_or(|hi| la.value < hi), "A {c:#04x}");
        }
        assert_eq!(ulaw_to_alaw(0x7F), 0x55);
        assert_eq!(ulaw_to_alaw(0xFF), 0xD5);
        // 32124 lies in the top A-law interval [31744, 32768).
        assert_eq!(ulaw_to_alaw(0x80), 0xAA);
        assert_eq!(alaw_to_ulaw(0xAA), 0x80);
    }

    #[test]
    fn transcoding_round_trips() {
        // A level that both laws share transcodes exactly, both ways.
        for c in 0..=255u8 {
            for a in 0..=255u8 {
                if ulaw_decode(c) == alaw_decode(a) {
                    assert_eq!(ulaw_to_alaw(c), a);
                    assert_eq!(alaw_to_ulaw(a), c);
                }
            }
        }
        // µ -> A -> µ is exact except where A-law is coarser (the even
        // indices of µ segment 0, whose pairs share one A-law step);
        // A -> µ -> A is exact except where µ-law is coarser. Every miss is
        // off by one level.
        for c in 0..=255u8 {
            let back = alaw_to_ulaw(ulaw_to_alaw(c));
            let i = u_index(c);
            let d = (u_index(back) - i).abs();
            assert_eq!(back & 0x80, c & 0x80);
            if i < 16 && i % 2 == 0 {
                assert_eq!(d, 1, "µ {c:#04x}");
            } else {
                assert_eq!(d, 0, "µ {c:#04x}");
            }

            let back = ulaw_to_alaw(alaw_to_ulaw(c));
            let i = a_index(c);
            let d = (a_index(back) - i).abs();
            assert_eq!(back & 0x80, c & 0x80);
            if [25, 27, 29, 31, 45, 47, 63, 95].contains(&i) {
                assert_eq!(d, 1, "A {c:#04x}");
            } else {
                assert_eq!(d, 0, "A {c:#04x}");
            }
        }
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
}
