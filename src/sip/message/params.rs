//! Generic `;name=value` parameters as used by URIs and by Via, From/To, Contact and other
//! headers; names compare case-insensitively, values keep their case.

use std::fmt;

/// Parameters in order of appearance; a parameter without `=` has value `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, Option<String>)>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad parameter: {0}")]
pub struct ParamError(pub &'static str);

impl Params {
    /// `Some(Some(v))` for `name=v`, `Some(None)` for a bare `name`, `None` when absent.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets (replacing) a parameter.
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let v = value.map(str::to_string);
        match self
            .0
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = v,
            None => self.0.push((name.to_string(), v)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A token character (RFC 3261 §25.1).
pub fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// Parses `;a=b;c;d="e f"` (the leading ';' required, LWS around separators allowed). Values
/// are tokens, quoted strings (kept with their quotes) or IPv6 references.
pub fn parse_params(s: &str) -> Result<Params, ParamError> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = skip_ws(b, 0);
    while i < b.len() {
        if b[i] != b';' {
            return Err(ParamError("expected ';'"));
        }
        i = skip_ws(b, i + 1);
        let start = i;
        while i < b.len() && is_param_char(b[i]) {
            i += 1;
        }
        if i == start {
            return Err(ParamError("empty parameter name"));
        }
        let name = s[start..i].to_string();
        i = skip_ws(b, i);
        let mut value = None;
        if i < b.len() && b[i] == b'=' {
            i = skip_ws(b, i + 1);
            if i < b.len() && b[i] == b'"' {
                let end = quoted_end(b, i).ok_or(ParamError("unterminated quoted string"))?;
                value = Some(s[i..end].to_string());
                i = end;
            } else {
                let vs = i;
                while i < b.len() && (is_param_char(b[i]) || b[i] == b'[' || b[i] == b']') {
                    i += 1;
                }
                if i == vs {
                    return Err(ParamError("empty parameter value"));
                }
                value = Some(s[vs..i].to_string());
            }
            i = skip_ws(b, i);
        }
        out.push((name, value));
    }
    Ok(Params(out))
}

/// Characters allowed in parameter names and unquoted values: token characters plus the
/// URI-parameter extras (`:`, `/`, `&`, `$`, `@`…, RFC 3261 paramchar).
fn is_param_char(b: u8) -> bool {
    is_token_char(b) || matches!(b, b':' | b'/' | b'&' | b'$' | b'@' | b'?')
}

pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i
}

/// Given `b[start] == b'"'`, the index just past the closing quote (backslash escapes honoured).
pub(crate) fn quoted_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

pub(crate) fn fmt_params(f: &mut fmt::Formatter<'_>, p: &Params) -> fmt::Result {
    for (n, v) in &p.0 {
        match v {
            Some(v) => write!(f, ";{n}={v}")?,
            None => write!(f, ";{n}")?,
        }
    }
    Ok(())
}

/// Splits a header value at top-level commas (not inside quotes or `<…>`), trimming each part.
pub fn split_commas(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let mut parts = Vec::new();
    let (mut start, mut i, mut angle) = (0, 0, false);
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = quoted_end(b, i).unwrap_or(b.len());
                continue;
            }
            b'<' => angle = true,
            b'>' => angle = false,
            b',' if !angle => {
                parts.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(s[start..].trim());
    parts
}
