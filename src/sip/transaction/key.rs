//! Transaction identities: the §17.1.3 client key (top Via branch + CSeq method) and the
//! §17.2.3 server key (branch + sent-by + method for RFC 3261 senders, the RFC 2543 tuple for
//! branches without the magic cookie).

use std::sync::Arc;

use crate::sip::message::{Message, Method};

/// Identifies a client transaction: the branch of the request's top Via and its method (the
/// method a response carries in CSeq). A CANCEL shares its INVITE's branch and differs here by
/// method only. Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientKey(Arc<(String, Method)>);

impl ClientKey {
    pub fn branch(&self) -> &str {
        &self.0 .0
    }

    pub fn method(&self) -> &Method {
        &self.0 .1
    }

    /// The key a request creates; `None` without a top Via carrying an RFC 3261 branch.
    pub(super) fn of_request(req: &Message) -> Option<ClientKey> {
        let via = req.top_via().ok()?;
        if !via.has_rfc3261_branch() {
            return None;
        }
        Some(ClientKey(Arc::new((
            via.branch()?.to_string(),
            req.method()?.clone(),
        ))))
    }

    /// The key a response matches (§17.1.3).
    pub(super) fn of_response(res: &Message) -> Option<ClientKey> {
        let via = res.top_via().ok()?;
        Some(ClientKey(Arc::new((
            via.branch()?.to_string(),
            res.cseq().ok()?.method,
        ))))
    }
}

/// Identifies a server transaction. For an ACK the key is that of the INVITE it acknowledges.
/// Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerKey(Arc<Inner>);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Inner {
    /// §17.2.3: the branch starts with `z9hG4bK`.
    Rfc3261 {
        branch: String,
        sent_by: String,
        method: Method,
    },
    /// RFC 2543 fallback, boxed to keep the common key small.
    Legacy(Box<Legacy>),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Legacy {
    request_uri: String,
    to_tag: Option<String>,
    from_tag: Option<String>,
    call_id: String,
    cseq: u32,
    method: Method,
    top_via: String,
}

impl ServerKey {
    /// The method of the request that created the transaction (INVITE for an ACK's key).
    pub fn method(&self) -> &Method {
        match &*self.0 {
            Inner::Rfc3261 { method, .. } => method,
            Inner::Legacy(l) => &l.method,
        }
    }

    /// Whether the request came from an RFC 2543 sender (no magic cookie in its branch).
    pub fn is_legacy(&self) -> bool {
        matches!(*self.0, Inner::Legacy(_))
    }

    /// The key of the transaction a request belongs to, ACK mapped to INVITE. `None` when the
    /// request lacks what matching needs: a top Via, and for legacy senders Call-ID and CSeq.
    pub(super) fn of_request(req: &Message) -> Option<ServerKey> {
        let method = match req.method()? {
            Method::Ack => Method::Invite,
            m => m.clone(),
        };
        let via = req.top_via().ok()?;
        if via.has_rfc3261_branch() {
            return Some(ServerKey(Arc::new(Inner::Rfc3261 {
                branch: via.branch()?.to_string(),
                sent_by: sent_by(&via.host, via.port),
                method,
            })));
        }
        let tag = |h: Result<crate::sip::message::NameAddr, _>| {
            h.ok().and_then(|n| n.tag().map(str::to_string))
        };
        Some(ServerKey(Arc::new(Inner::Legacy(Box::new(Legacy {
            request_uri: req.request_uri()?.to_string(),
            to_tag: tag(req.to()),
            from_tag: tag(req.from()),
            call_id: req.call_id().ok()?.to_string(),
            cseq: req.cseq().ok()?.seq,
            method,
            top_via: via.to_string(),
        })))))
    }

    /// The same key for another method: a CANCEL's key turned into its INVITE's.
    pub(super) fn with_method(&self, method: Method) -> ServerKey {
        let mut inner = (*self.0).clone();
        match &mut inner {
            Inner::Rfc3261 { method: m, .. } => *m = method,
            Inner::Legacy(l) => l.method = method,
        }
        ServerKey(Arc::new(inner))
    }

    /// For a legacy key, the same key with another To tag: an RFC 2543 ACK carries the tag of
    /// the response while the INVITE that created the transaction usually had none. `None` for
    /// RFC 3261 keys, which need no such second look.
    pub(super) fn legacy_with_to_tag(&self, tag: Option<&str>) -> Option<ServerKey> {
        match &*self.0 {
            Inner::Rfc3261 { .. } => None,
            Inner::Legacy(l) => {
                let mut l = l.clone();
                l.to_tag = tag.map(str::to_string);
                Some(ServerKey(Arc::new(Inner::Legacy(l))))
            }
        }
    }
}

/// Host compared case-insensitively; a missing port stays missing (sent-by is compared as sent).
fn sent_by(host: &str, port: Option<u16>) -> String {
    let host = host.to_ascii_lowercase();
    match port {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

/// Either kind of transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Client(ClientKey),
    Server(ServerKey),
}

impl From<ClientKey> for Key {
    fn from(k: ClientKey) -> Key {
        Key::Client(k)
    }
}

impl From<ServerKey> for Key {
    fn from(k: ServerKey) -> Key {
        Key::Server(k)
    }
}
