//! Stateless nonces: `hex(issued-at ms) hex(random) hex(HMAC-SHA256(secret, issued-at ‖
//! random)[..16])`, 64 characters. A nonce we did not issue fails the MAC; its age is read from
//! the nonce itself. The only state is the highest nonce count seen per nonce in use (replay
//! protection for `qop=auth`), forgotten once the nonce is past its lifetime.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use rand::Rng;

use super::{constant_time_eq, hex, hmac_sha256};

/// How long a nonce stays fresh unless configured otherwise.
pub const DEFAULT_NONCE_LIFETIME: Duration = Duration::from_secs(300);

/// Nonces tracked for nonce counts at most; beyond it the oldest is forgotten and every nonce
/// issued up to it is then reported stale (so forgetting never re-opens a replay).
const DEFAULT_MAX_TRACKED: usize = 100_000;

const MAC_DOMAIN: &[u8] = b"hotline-digest-nonce";

/// What a nonce is worth now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceStatus {
    /// Issued by us and within its lifetime.
    Fresh,
    /// Issued by us but too old: challenge again with `stale=true` if the response was right.
    Stale,
    /// Not issued by us (or by a previous run with another secret).
    Invalid,
}

/// Issues and checks nonces; see the module documentation.
pub struct Nonces {
    secret: Vec<u8>,
    epoch: Instant,
    lifetime: Duration,
    opaque: String,
    /// (issued-at ms, nonce) → highest nonce count accepted.
    counts: BTreeMap<(u64, String), u32>,
    max_tracked: usize,
    /// Nonces issued at or before this time (ms) are stale: their counts were forgotten.
    floor_ms: Option<u64>,
}

impl fmt::Debug for Nonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Nonces")
            .field("lifetime", &self.lifetime)
            .field("tracked", &self.counts.len())
            .finish_non_exhaustive()
    }
}

impl Nonces {
    /// Nonces keyed by `secret` (any length; 32 random bytes is plenty). Timestamps count from
    /// `epoch`, so nonces only verify within one process (or with the same secret and epoch).
    pub fn new(secret: &[u8], epoch: Instant) -> Nonces {
        let opaque = hex(&hmac_sha256(secret, &[b"hotline-digest-opaque"])[..8]);
        Nonces {
            secret: secret.to_vec(),
            epoch,
            lifetime: DEFAULT_NONCE_LIFETIME,
            opaque,
            counts: BTreeMap::new(),
            max_tracked: DEFAULT_MAX_TRACKED,
            floor_ms: None,
        }
    }

    /// Nonces keyed by a fresh random secret.
    pub fn with_random_secret(epoch: Instant) -> Nonces {
        let secret: [u8; 32] = rand::thread_rng().gen();
        Nonces::new(&secret, epoch)
    }

    pub fn with_lifetime(mut self, lifetime: Duration) -> Nonces {
        self.lifetime = lifetime;
        self
    }

    /// Caps the number of nonces whose counts are remembered (default 100,000).
    pub fn with_max_tracked(mut self, max: usize) -> Nonces {
        self.max_tracked = max.max(1);
        self
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// The `opaque` value to send with challenges (constant for one secret).
    pub fn opaque(&self) -> &str {
        &self.opaque
    }

    /// Nonces whose counts are currently remembered.
    pub fn tracked(&self) -> usize {
        self.counts.len()
    }

    fn ms(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    fn mac(&self, ts: u64, random: u64) -> [u8; 32] {
        hmac_sha256(
            &self.secret,
            &[MAC_DOMAIN, &ts.to_be_bytes(), &random.to_be_bytes()],
        )
    }

    /// A new nonce issued at `now`.
    pub fn issue(&self, now: Instant) -> String {
        let ts = self.ms(now);
        let random: u64 = rand::thread_rng().gen();
        format!("{ts:016x}{random:016x}{}", hex(&self.mac(ts, random)[..16]))
    }

    /// The issue time of a nonce that carries our MAC.
    fn decode(&self, nonce: &str) -> Option<u64> {
        if nonce.len() != 64 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let ts = u64::from_str_radix(&nonce[..16], 16).ok()?;
        let random = u64::from_str_radix(&nonce[16..32], 16).ok()?;
        let mac = hex(&self.mac(ts, random)[..16]);
        let given = nonce[32..].to_ascii_lowercase();
        constant_time_eq(mac.as_bytes(), given.as_bytes()).then_some(ts)
    }

    /// Checks that we issued `nonce` and that it is within its lifetime at `now` (a nonce
    /// exactly `lifetime` old is still fresh).
    pub fn verify_nonce(&self, nonce: &str, now: Instant) -> NonceStatus {
        let Some(ts) = self.decode(nonce) else {
            return NonceStatus::Invalid;
        };
        let now_ms = self.ms(now);
        if ts > now_ms {
            return NonceStatus::Invalid;
        }
        let lifetime_ms = u64::try_from(self.lifetime.as_millis()).unwrap_or(u64::MAX);
        if now_ms - ts > lifetime_ms || self.floor_ms.is_some_and(|f| ts <= f) {
            return NonceStatus::Stale;
        }
        NonceStatus::Fresh
    }

    /// Records nonce count `nc` for a fresh `nonce` whose response was verified; false when
    /// `nc` does not exceed the highest count already accepted for it (a replay). Call only
    /// after [`Nonces::verify_nonce`] returned [`NonceStatus::Fresh`] and the response checked.
    pub fn accept_count(&mut self, nonce: &str, nc: u32, now: Instant) -> bool {
        self.prune(now);
        let Some(ts) = self.decode(nonce) else {
            return false;
        };
        let key = (ts, nonce.to_ascii_lowercase());
        match self.counts.get_mut(&key) {
            Some(last) if nc <= *last => return false,
            Some(last) => *last = nc,
            None => {
                self.counts.insert(key, nc);
                while self.counts.len() > self.max_tracked {
                    if let Some(((old_ts, _), _)) = self.counts.pop_first() {
                        self.floor_ms = Some(self.floor_ms.map_or(old_ts, |f| f.max(old_ts)));
                    }
                }
            }
        }
        true
    }

    /// Forgets the counts of nonces past their lifetime.
    pub fn prune(&mut self, now: Instant) {
        let lifetime_ms = u64::try_from(self.lifetime.as_millis()).unwrap_or(u64::MAX);
        let cutoff = self.ms(now).saturating_sub(lifetime_ms);
        while let Some(((ts, _), _)) = self.counts.first_key_value() {
            if *ts >= cutoff {
                break;
            }
            self.counts.pop_first();
        }
    }
}
