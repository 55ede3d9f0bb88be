//! Numbers read as words ([`Item::Number`](super::Item::Number)): the prompt names that say a
//! number in Mandarin or English. Other languages get the number digit by digit.

/// `digit-0`..`digit-9`.
pub(super) const DIGITS: [&str; 10] = [
    "digit-0", "digit-1", "digit-2", "digit-3", "digit-4", "digit-5", "digit-6", "digit-7",
    "digit-8", "digit-9",
];

const TEENS: [&str; 10] = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];

const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// The prompt names that read `n` in `lang`.
pub(super) fn number_words(lang: &str, n: u64) -> Vec<&'static str> {
    let mut out = Vec::new();
    match lang {
        "zh" => zh(n, &mut out),
        "en" => en(n, &mut out),
        _ => digits(n, &mut out),
    }
    out
}

fn digits(n: u64, out: &mut Vec<&'static str>) {
    for c in n.to_string().bytes() {
        out.push(DIGITS[usize::from(c - b'0')]);
    }
}

/// Mandarin: sections of four digits joined by 亿 (10^8) and 万 (10^4); inside a section
/// 千 百 十. A run of zeros before a non-zero digit is read as one 零; 10–19 at the very start
/// drop the 一 (十二, 十二万), elsewhere it stays (一百一十二).
fn zh(n: u64, out: &mut Vec<&'static str>) {
    if n == 0 {
        out.push(DIGITS[0]);
        return;
    }
    let high = n / 100_000_000;
    let low = n % 100_000_000;
    // Set when a zero digit was skipped after something was said; spoken as 零 before the
    // next non-zero digit.
    let mut zero = false;
    if high > 0 {
        zh(high, out);
        out.push("hundred-million");
    }
    let sections = [(low / 10_000, Some("ten-thousand")), (low % 10_000, None)];
    for (section, unit) in sections {
        for (pos, word) in [(1000, "thousand"), (100, "hundred"), (10, "ten"), (1, "")] {
            let d = (section / pos % 10) as usize;
            if d == 0 {
                zero |= !out.is_empty();
                continue;
            }
            if zero {
                out.push(DIGITS[0]);
                zero = false;
            }
            if !(pos == 10 && d == 1 && out.is_empty()) {
                out.push(DIGITS[d]);
            }
            if !word.is_empty() {
                out.push(word);
            }
        }
        if let (Some(unit), true) = (unit, section > 0) {
            out.push(unit);
            // 两千万一千: a full next section follows 万 without 零.
            zero = false;
        }
    }
}

/// English (American style, no "and"): groups of three digits with billion, million and
/// thousand; 0 is "zero".
fn en(n: u64, out: &mut Vec<&'static str>) {
    if n == 0 {
        out.push(DIGITS[0]);
        return;
    }
    let billions = n / 1_000_000_000;
    if billions > 0 {
        en(billions, out);
        out.push("billion");
    }
    let rest = n % 1_000_000_000;
    for (scale, word) in [(1_000_000, "million"), (1000, "thousand"), (1, "")] {
        let group = (rest / scale % 1000) as usize;
        if group == 0 {
            continue;
        }
        en_group(group, out);
        if !word.is_empty() {
            out.push(word);
        }
    }
}

/// 1..=999 in English.
fn en_group(n: usize, out: &mut Vec<&'static str>) {
    if n >= 100 {
        out.push(DIGITS[n / 100]);
        out.push("hundred");
    }
    let r = n % 100;
    match r {
        0 => {}
        1..=9 => out.push(DIGITS[r]),
        10..=19 => out.push(TEENS[r - 10]),
        _ => {
            out.push(TENS[r / 10]);
            if !r.is_multiple_of(10) {
                out.push(DIGITS[r % 10]);
            }
        }
    }
}
