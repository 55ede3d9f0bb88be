//! HTTP byte ranges (RFC 9110 §14) for streaming recordings: which part of a file of a known
//! length one `Range` header asks for. Pure; the handler does the I/O.

/// What to send for a `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// The whole file (no header, or one we ignore: another unit, several ranges, bad syntax).
    Full,
    /// Bytes `start..=end` (206).
    Partial { start: u64, end: u64 },
    /// Nothing of the file is in the range (416 with `Content-Range: bytes */len`).
    Unsatisfiable,
}

/// Reads `header` against a file of `len` bytes: `bytes=a-b`, `bytes=a-`, `bytes=-n`.
pub fn parse_range(header: &str, len: u64) -> RangeAnswer {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeAnswer::Full;
    };
    let spec = spec.trim();
    if spec.contains(',') {
        // Several ranges would need multipart/byteranges; sending the whole file is allowed.
        return RangeAnswer::Full;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return RangeAnswer::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (a.is_empty(), b.is_empty()) {
        // -n: the last n bytes.
        (true, false) => match number(b) {
            None => RangeAnswer::Full,
            Some(0) => RangeAnswer::Unsatisfiable,
            Some(_) if len == 0 => RangeAnswer::Unsatisfiable,
            Some(n) => RangeAnswer::Partial {
                start: len - n.min(len),
                end: len - 1,
            },
        },
        // a-: from a to the end.
        (false, true) => match number(a) {
            None => RangeAnswer::Full,
            Some(start) if start >= len => RangeAnswer::Unsatisfiable,
            Some(start) => RangeAnswer::Partial {
                start,
                end: len - 1,
            },
        },
        // a-b, b past the end meaning the end.
        (false, false) => match (number(a), number(b)) {
            (Some(start), Some(end)) if start <= end => {
                if start >= len {
                    RangeAnswer::Unsatisfiable
                } else {
                    RangeAnswer::Partial {
                        start,
                        end: end.min(len - 1),
                    }
                }
            }
            _ => RangeAnswer::Full,
        },
        (true, true) => RangeAnswer::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_range;
    use super::RangeAnswer::{self, *};

    fn p(start: u64, end: u64) -> RangeAnswer {
        Partial { start, end }
    }

    #[test]
    fn ranges_against_a_100_byte_file() {
        for (header, want) in [
            ("bytes=0-9", p(0, 9)),
            ("bytes=10-10", p(10, 10)),
            ("bytes=90-200", p(90, 99)),
            ("bytes=50-", p(50, 99)),
            ("bytes=-10", p(90, 99)),
            ("bytes=-500", p(0, 99)),
            ("bytes=100-", Unsatisfiable),
            ("bytes=100-120", Unsatisfiable),
            ("bytes=-0", Unsatisfiable),
            ("bytes=9-0", Full),
            ("bytes=0-9,20-29", Full),
            ("bytes=x-9", Full),
            ("bytes=-", Full),
            ("items=0-9", Full),
            ("bytes=+1-2", Full),
        ] {
            assert_eq!(parse_range(header, 100), want, "{header}");
        }
    }

    #[test]
    fn an_empty_file_satisfies_no_range() {
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=-5", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0), Unsatisfiable);
    }
}
