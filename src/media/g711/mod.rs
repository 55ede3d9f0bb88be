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
//! a few integer operations. µ-law <-> A-law transcoding uses the conversion
//! tables of G.711 itself (Tables 3 and 4), not decode-and-re-encode: the two
//! differ for a few dozen codes, and only the Recommendation's tables give
//! the behaviour other equipment expects in tandem (a second A -> µ -> A pass
//! changes nothing). Nothing here allocates.

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

/// G.711 Table 3 (µ-law to A-law) by magnitude rank: entry `i` is the A-law rank of µ-law
/// rank `i`, where a rank is the 7-bit code without its sign, counted from the smallest
/// level (µ-law rank 0 is the zero level, A-law rank 0 is ±8). The values are those of the
/// Recommendation (as reproduced by Sun's `g711.c` with the 1994 corrections, and by
/// spandsp); they are not what decoding and re-encoding gives for 18 of the 128 ranks.
const ULAW_TO_ALAW_RANK: [u8; 128] = [
    0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, //
    8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, //
    24, 26, 28, 30, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, //
    45, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, //
    63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, //
    79, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, //
    96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, //
    112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, //
];

/// G.711 Table 4 (A-law to µ-law) by magnitude rank, same conventions as
/// [`ULAW_TO_ALAW_RANK`]; differs from decode-and-re-encode for 16 of the 128 ranks.
const ALAW_TO_ULAW_RANK: [u8; 128] = [
    1, 3, 5, 7, 9, 11, 13, 15, 16, 17, 18, 19, 20, 21, 22, 23, //
    24, 25, 26, 27, 28, 29, 30, 31, 32, 32, 33, 33, 34, 34, 35, 35, //
    36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 48, 49, 49, //
    50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 64, //
    65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, //
    80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, //
    96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, //
    112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, //
];

/// Expands [`ULAW_TO_ALAW_RANK`] to all 256 codes. The sign bit is carried over, so µ-law
/// -0 (0x7F) becomes A-law -8 (0x55).
const fn build_ulaw_to_alaw() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let code = i as u8;
        let rank = !code & 0x7F;
        let a_rank = ULAW_TO_ALAW_RANK[rank as usize];
        table[i] = ((code & 0x80) | a_rank) ^ ALAW_XOR;
        i += 1;
    }
    table
}

/// Expands [`ALAW_TO_ULAW_RANK`] to all 256 codes, keeping the sign bit.
const fn build_alaw_to_ulaw() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let code = i as u8;
        let rank = (code ^ ALAW_XOR) & 0x7F;
        let u_rank = ALAW_TO_ULAW_RANK[rank as usize];
        table[i] = (code & 0x80) | (!u_rank & 0x7F);
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
mod tests;
