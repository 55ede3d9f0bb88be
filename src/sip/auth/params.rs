//! The `Digest name=value, name="quoted value", …` syntax shared by WWW-Authenticate and
//! Authorization (RFC 3261 §25.1 `challenge` / `credentials`, RFC 7616 §3.3 and §3.4).

use super::AuthError;

/// Parameters of a Digest header: names lower-cased, values unquoted and unescaped, in order.
#[derive(Debug, Default)]
pub(crate) struct DigestParams(Vec<(String, String)>);

impl DigestParams {
    /// Parses a header value that must use the Digest scheme. Parameters may come in any order,
    /// with linear white space around separators; a parameter given twice is an error.
    pub fn parse(value: &str) -> Result<DigestParams, AuthError> {
        let s = value.trim();
        let b = s.as_bytes();
        let scheme_end = b
            .iter()
            .position(|c| c.is_ascii_whitespace())
            .unwrap_or(b.len());
        if !s[..scheme_end].eq_ignore_ascii_case("Digest") {
            return Err(AuthError::NotDigest);
        }
        let mut out: Vec<(String, String)> = Vec::new();
        let mut i = scheme_end;
        loop {
            // Separators: white space and (possibly empty) list elements.
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
                i += 1;
            }
            if i >= b.len() {
                break;
            }
            let start = i;
            while i < b.len() && is_token_char(b[i]) {
                i += 1;
            }
            if i == start {
                return Err(AuthError::Syntax("expected a parameter name"));
            }
            let name = s[start..i].to_ascii_lowercase();
            i = skip_ws(b, i);
            if i >= b.len() || b[i] != b'=' {
                return Err(AuthError::Syntax("expected '=' after a parameter name"));
            }
            i = skip_ws(b, i + 1);
            let value = if i < b.len() && b[i] == b'"' {
                let (v, end) = read_quoted(s, i)?;
                i = end;
                v
            } else {
                let vs = i;
                while i < b.len() && is_value_char(b[i]) {
                    i += 1;
                }
                if i == vs {
                    return Err(AuthError::Syntax("empty parameter value"));
                }
                s[vs..i].to_string()
            };
            i = skip_ws(b, i);
            if i < b.len() && b[i] != b',' {
                return Err(AuthError::Syntax("expected ',' between parameters"));
            }
            if out.iter().any(|(n, _)| *n == name) {
                return Err(AuthError::Duplicate(name));
            }
            out.push((name, value));
        }
        if out.is_empty() {
            return Err(AuthError::Syntax("no parameters"));
        }
        Ok(DigestParams(out))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn require(&self, name: &'static str) -> Result<&str, AuthError> {
        self.get(name).ok_or(AuthError::Missing(name))
    }
}

/// Token characters (RFC 3261 §25.1).
fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// Characters of an unquoted value: tokens plus the `/`, `:`, `@` and `=` that unquoted `uri`,
/// base64 `nonce` and `realm` values from lenient peers contain.
fn is_value_char(c: u8) -> bool {
    is_token_char(c) || matches!(c, b'/' | b':' | b'@' | b'=')
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Reads the quoted string starting at `s[start] == '"'`: its unescaped content and the index
/// just past the closing quote.
fn read_quoted(s: &str, start: usize) -> Result<(String, usize), AuthError> {
    let mut out = String::new();
    let mut chars = s[start + 1..].char_indices();
    while let Some((off, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, n)) => out.push(n),
                None => break,
            },
            '"' => return Ok((out, start + 1 + off + 1)),
            c => out.push(c),
        }
    }
    Err(AuthError::Syntax("unterminated quoted string"))
}

/// Writes `v` as a quoted string, escaping `"` and `\`.
pub(crate) fn quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}
